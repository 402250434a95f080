"""The outcome of an experiment item, judged from the runs linked to it.

Rules (docs/experiments.md):

* Runs started after the item closed are *late*: counted apart, never judged (an answer
  found after the decision was taken did not inform it). An open item counts every run
  started by `as_of`.
* A run is judged on the criterion only if it logged every metric the criterion names
  and, for `champion` conditions, a champion value is known; else it cannot be judged.
* supported: some counted run meets every condition. refuted: at least one counted run
  can be judged and none meets the criterion. inconclusive: no criterion, an unreadable
  one, or no counted run can be judged (none linked, each lacks a metric, no champion).
  open: the item is not closed at `as_of`; the reason states the provisional verdict.
* `> champion` on a tie fails (a tie is no improvement); `>= champion` passes on a tie.
* Best run: among the runs meeting the criterion, else among the counted runs that logged
  the criterion's first metric, the best on that metric (higher for >= and >, lower for
  <= and <); ties go to the earlier run.

Also here: reading `Hypothesis:` and `Success criterion:` lines out of an item's
description (untrusted text: only matched, never rendered as markup) and linking runs to
items by tag, config or naming convention. Pure: no I/O, no clock.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from config.experiments import Condition, Criterion, parse_criterion

Outcome = Literal["supported", "refuted", "inconclusive", "open"]
SUPPORTED: Outcome = "supported"
REFUTED: Outcome = "refuted"
INCONCLUSIVE: Outcome = "inconclusive"
OPEN: Outcome = "open"
ITEM_TAG = "dspo.item"
"""Run tag naming the backlog item a run answers (set by the team)."""
MAX_TEXT = 500

_SYMBOL = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}
_NEGATION = {">=": "<", ">": "≤", "<=": ">", "<": "≥"}
_LINE = re.compile(
    r"^[\s>*#_`-]*(?P<label>hypothesis|success\s+criteri(?:on|a)|criteri(?:on|a))"
    r"[\s*_`]*:[\s*_`]*(?P<text>.*?)[\s*_`]*$",
    re.IGNORECASE | re.MULTILINE,
)


# ---------------------------------------------------------------- the item's own words


@dataclass(frozen=True)
class Spec:
    """What an experiment item claims: hypothesis and criterion text, and the parsed
    criterion or why it could not be parsed."""

    hypothesis: str = ""
    criterion_text: str = ""
    criterion: Criterion | None = None
    error: str | None = None


def read_description(text: str | None) -> tuple[str, str]:
    """(hypothesis, criterion text) from lines like `Hypothesis: ...` and `Success
    criterion: ...` (markdown emphasis and list marks around the label are ignored; the
    first line of each wins); empty strings when absent."""
    found: dict[str, str] = {}
    for match in _LINE.finditer(text or ""):
        label = "hypothesis" if match.group("label").lower() == "hypothesis" else "criterion"
        found.setdefault(label, match.group("text").strip()[:MAX_TEXT])
    return found.get("hypothesis", ""), found.get("criterion", "")


def spec_of(hypothesis: str, criterion_text: str) -> Spec:
    """Parse a criterion from untrusted text: a bad one is kept with its error."""
    if not criterion_text.strip():
        return Spec(hypothesis, criterion_text)
    try:
        return Spec(hypothesis, criterion_text, parse_criterion(criterion_text))
    except ValueError as e:
        return Spec(hypothesis, criterion_text, error=str(e))


# ---------------------------------------------------------------- links


_WORD = r"(?<![A-Za-z0-9]){}(?![A-Za-z0-9])"


def names_key(text: str | None, key: str) -> bool:
    """Whether `text` (a run or experiment name) contains `key` as a whole word, ignoring
    case: CHURN-42 is in 'churn-42 xgb' but not in 'CHURN-420'."""
    return bool(text) and re.search(_WORD.format(re.escape(key)), str(text), re.I) is not None


@dataclass(frozen=True)
class RunRef:
    """A run as the linker sees it."""

    run_id: str
    experiment: str
    name: str
    tag: str | None  # its `dspo.item` tag


def link_runs(runs: Iterable[RunRef], keys: Sequence[str],
              configured_runs: Mapping[str, Sequence[str]],
              configured_experiments: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """item key -> ids of its runs, in the order given. A run links to an item when its
    `dspo.item` tag is the key (ignoring case), when the item's config lists the run or its
    experiment, or when its run or experiment name contains the key as a whole word.
    The naming convention is a fallback: a run tagged for another item, or listed for
    another item in config, does not link by name."""
    wanted = {k.lower(): k for k in keys}
    out: dict[str, list[str]] = {k: [] for k in keys}
    for run in runs:
        explicit = set()
        if run.tag and run.tag.strip().lower() in wanted:
            explicit.add(wanted[run.tag.strip().lower()])
        for key in keys:
            if run.run_id in configured_runs.get(key, ()) or \
                    run.experiment in configured_experiments.get(key, ()):
                explicit.add(key)
        linked = explicit or ({k for k in keys if names_key(run.name, k)
                               or names_key(run.experiment, k)} if not run.tag else set())
        for key in keys:
            if key in linked:
                out[key].append(run.run_id)
    return out


# ---------------------------------------------------------------- judging


@dataclass(frozen=True)
class RunResult:
    """A linked run: when it started and the final value of each metric it logged."""

    run_id: str
    start: datetime
    metrics: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Champion:
    """The champion version at the time that matters and its metric values."""

    version: str | None
    values: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reason: str
    runs: int  # counted runs
    late_runs: int  # started after the item closed: not counted
    best_run: str | None
    metric: str | None  # the criterion's first metric
    best_value: float
    champion_version: str | None
    champion_value: float  # the champion's value of `metric`


def _value(values: Mapping[str, float], metric: str) -> float | None:
    value = values.get(metric)
    return None if value is None or math.isnan(value) else float(value)


def _passes(value: float, op: str, target: float) -> bool:
    return {">=": value >= target, ">": value > target, "<=": value <= target,
            "<": value < target}[op]


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _target(condition: Condition, champion: Champion) -> tuple[float | None, str]:
    """The condition's threshold and how to say it; None when the champion's is unknown."""
    if condition.target is not None:
        return condition.target, _fmt(condition.target)
    value = _value(champion.values, condition.metric)
    name = f"champion v{champion.version}" if champion.version else "champion"
    return value, f"{name} {_fmt(value)}" if value is not None else name


def _judge(run: RunResult, criterion: Criterion, champion: Champion
           ) -> tuple[bool, list[str]] | str:
    """(meets, one phrase per condition) or, when the run cannot be judged, why not."""
    phrases: list[str] = []
    meets = True
    for condition in criterion.conditions:
        value = _value(run.metrics, condition.metric)
        if value is None:
            return f"no {condition.metric}"
        target, said = _target(condition, champion)
        if target is None:
            return f"no champion {condition.metric}"
        ok = _passes(value, condition.op, target)
        meets &= ok
        op = _SYMBOL[condition.op] if ok else ("ties" if condition.op == ">" and value == target
                                                else f"not {_SYMBOL[condition.op]}")
        phrases.append(f"{condition.metric} {_fmt(value)} {op} {said}")
    return meets, phrases


def _best(runs: Sequence[RunResult], condition: Condition) -> RunResult | None:
    scored = [r for r in runs if _value(r.metrics, condition.metric) is not None]
    if not scored:
        return None
    sign = 1.0 if condition.op in (">=", ">") else -1.0
    # max by value in the criterion's direction; the earlier run (then the smaller id) wins ties
    return min(scored, key=lambda r: (-sign * r.metrics[condition.metric], r.start, r.run_id))


def judge(spec: Spec, runs: Sequence[RunResult], champion: Champion, *,
          closed: datetime | None) -> Verdict:
    """The item's outcome from its linked runs (see the module's rules). `closed` is when
    the item was done, None while it is open (every given run then counts)."""
    late = [r for r in runs if closed is not None and r.start > closed]
    counted = [r for r in runs if closed is None or r.start <= closed]
    criterion = spec.criterion
    metric = criterion.conditions[0].metric if criterion else None
    champion_value = _value(champion.values, metric) if metric else None
    outcome, reason, best = _outcome(spec, counted, champion)
    if late:
        reason += f"; {len(late)} run{_s(len(late))} logged after the item closed, not counted"
    if closed is None:
        outcome, reason = OPEN, f"open, provisionally {outcome}: {reason}"
    best_value = _value(best.metrics, metric) if best is not None and metric else None
    return Verdict(
        outcome=outcome, reason=reason, runs=len(counted), late_runs=len(late),
        best_run=best.run_id if best is not None else None, metric=metric,
        best_value=math.nan if best_value is None else best_value,
        champion_version=champion.version,
        champion_value=math.nan if champion_value is None else champion_value,
    )


def _outcome(spec: Spec, counted: Sequence[RunResult], champion: Champion
             ) -> tuple[Outcome, str, RunResult | None]:
    criterion = spec.criterion
    if criterion is None:
        why = f"criterion unreadable: {spec.error}" if spec.error else "no success criterion"
        return INCONCLUSIVE, why, None
    first = criterion.conditions[0]
    if not counted:
        return INCONCLUSIVE, "no run linked", None
    judged: dict[str, tuple[bool, list[str]]] = {}
    unjudged: set[str] = set()
    for run in counted:
        result = _judge(run, criterion, champion)
        if isinstance(result, str):
            unjudged.add(result)
        else:
            judged[run.run_id] = result
    meeting = [r for r in counted if r.run_id in judged and judged[r.run_id][0]]
    if meeting:
        best = _best(meeting, first) or meeting[0]
        return SUPPORTED, f"run {_short(best.run_id)} {' and '.join(judged[best.run_id][1])}", \
            best
    judgeable = [r for r in counted if r.run_id in judged]
    if judgeable:
        best = _best(judgeable, first) or judgeable[0]
        n = len(judgeable)
        return (REFUTED, f"none of {n} judged run{_s(n)} met it; best run {_short(best.run_id)} "
                f"{' and '.join(judged[best.run_id][1])}", best)
    n = len(counted)
    return (INCONCLUSIVE, f"{n} run{_s(n)} linked, none can be judged: "
            f"{', '.join(sorted(unjudged))}", _best(counted, first))


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _short(run_id: str) -> str:
    return run_id[:8]
