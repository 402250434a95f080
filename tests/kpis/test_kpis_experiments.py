"""The experiment outcome rules (kpis/experiments.py), the criterion grammar and the item
kinds, table-driven; every expected value is worked out by hand beside it."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pandas as pd
import pytest

from config.experiments import Condition, ItemKinds, parse_criterion
from kpis.experiments import (
    Champion,
    RunRef,
    RunResult,
    judge,
    link_runs,
    names_key,
    read_description,
    spec_of,
)
from kpis.item_kinds import deliveries, experiments, kind_of

CLOSED = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
BEFORE = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)
AFTER = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
V2 = Champion("2", {"auc": 0.84})


def run(run_id: str, start: datetime = BEFORE, **metrics: float) -> RunResult:
    return RunResult(run_id, start, metrics)


# ---------------------------------------------------------------- grammar


@pytest.mark.parametrize(("text", "conditions"), [
    pytest.param("auc >= 0.85", [Condition("auc", ">=", 0.85)], id="number"),
    pytest.param("auc > champion", [Condition("auc", ">", None)], id="champion"),
    pytest.param("auc >= 0.85 AND auc > champion and p_value < 0.05",
                 [Condition("auc", ">=", 0.85), Condition("auc", ">", None),
                  Condition("p_value", "<", 0.05)], id="three-joined-by-and"),
    pytest.param("auc ≥ .9 and rmse≤1e-2", [Condition("auc", ">=", 0.9),
                                            Condition("rmse", "<=", 0.01)], id="unicode-ops"),
    pytest.param("val/auc >= Champion", [Condition("val/auc", ">=", None)], id="slash-metric"),
    pytest.param("auc >= 0.85.", [Condition("auc", ">=", 0.85)], id="final-period"),
])
def test_criterion_grammar(text: str, conditions: list[Condition]) -> None:
    assert list(parse_criterion(text).conditions) == conditions


@pytest.mark.parametrize("text", [
    pytest.param("", id="empty"),
    pytest.param("AUC improves a lot", id="prose"),
    pytest.param("auc >= 0.85 or auc > champion", id="or"),
    pytest.param("auc == 0.85", id="equals"),
    pytest.param("auc >= inf", id="not-a-number"),
    pytest.param("auc >= 0.8 and", id="dangling-and"),
])
def test_bad_criteria_are_errors(text: str) -> None:
    with pytest.raises(ValueError):
        parse_criterion(text)


def test_description_lines() -> None:
    text = ("Some context.\n**Hypothesis:** Margin features lift AUC\n"
            "- Success criterion: auc >= 0.85 and auc > champion\nCriterion: ignored")
    assert read_description(text) == ("Margin features lift AUC",
                                      "auc >= 0.85 and auc > champion")
    assert read_description(None) == ("", "")
    assert read_description("criterion: auc > 0.5") == ("", "auc > 0.5")
    assert read_description("Hypothesis: h\r\nSuccess criterion: auc > 0.8\r\n") == (
        "h", "auc > 0.8")  # a GitHub body's line ends


# ---------------------------------------------------------------- outcomes

# auc >= 0.85 and auc > champion (v2 at 0.84), the item closed on 9 Mar 12:00.
CRITERION = "auc >= 0.85 and auc > champion"
CASES = [
    # 0.87 >= 0.85 and 0.87 > 0.84: supported; the 0.95 run started after the close
    pytest.param(CRITERION, [run("a", auc=0.87), run("late", AFTER, auc=0.95)], V2, CLOSED,
                 ("supported", 1, 1, "a", 0.87), id="late-run-not-counted"),
    # the only run ties the champion: 0.84 > 0.84 fails (and 0.84 < 0.85)
    pytest.param("auc > champion", [run("t", auc=0.84)], V2, CLOSED,
                 ("refuted", 1, 0, "t", 0.84), id="tie-with-champion-refutes"),
    # >= champion passes on a tie
    pytest.param("auc >= champion", [run("t", auc=0.84)], V2, CLOSED,
                 ("supported", 1, 0, "t", 0.84), id="tie-passes-on-greater-or-equal"),
    # the run lacks p_value: it cannot be judged, and no other run can
    pytest.param("auc >= 0.8 and p_value < 0.05", [run("m", auc=0.9)], V2, CLOSED,
                 ("inconclusive", 1, 0, None, 0.9), id="metric-missing"),
    # one run lacks the metric, the other is judged and fails: refuted by the judged one
    pytest.param("auc >= 0.8 and p_value < 0.05",
                 [run("m", auc=0.95), run("j", auc=0.82, p_value=0.2)], V2, CLOSED,
                 ("refuted", 2, 0, "j", 0.82), id="judged-run-fails"),
    # the only run was logged after the close: nothing counted
    pytest.param(CRITERION, [run("late", AFTER, auc=0.95)], V2, CLOSED,
                 ("inconclusive", 0, 1, None, math.nan), id="only-late-run"),
    pytest.param(CRITERION, [], V2, CLOSED, ("inconclusive", 0, 0, None, math.nan),
                 id="no-run"),
    # no champion known: champion conditions cannot be judged
    pytest.param("auc > champion", [run("a", auc=0.9)], Champion(None), CLOSED,
                 ("inconclusive", 1, 0, None, 0.9), id="no-champion"),
    # best of two supporting runs: the higher auc (0.88 over 0.86)
    pytest.param(CRITERION, [run("x", auc=0.86), run("y", auc=0.88)], V2, CLOSED,
                 ("supported", 2, 0, "y", 0.88), id="best-of-two"),
    # lower is better for <=: 0.2 beats 0.3, both meet rmse <= 0.5
    pytest.param("rmse <= 0.5", [run("x", rmse=0.3), run("y", rmse=0.2)], V2, CLOSED,
                 ("supported", 2, 0, "y", 0.2), id="lower-is-better"),
    # open item: every run counts, outcome open (provisionally supported)
    pytest.param(CRITERION, [run("a", AFTER, auc=0.9)], V2, None,
                 ("open", 1, 0, "a", 0.9), id="open-item"),
    # NaN is no value: the run lacks the metric
    pytest.param("auc >= 0.5", [run("n", auc=math.nan)], V2, CLOSED,
                 ("inconclusive", 1, 0, None, math.nan), id="nan-metric"),
]


@pytest.mark.parametrize(("criterion", "runs", "champion", "closed", "expected"), CASES)
def test_outcome_rules(criterion: str, runs: list[RunResult], champion: Champion,
                       closed: datetime | None,
                       expected: tuple[str, int, int, str | None, float]) -> None:
    verdict = judge(spec_of("h", criterion), runs, champion, closed=closed)
    outcome, counted, late, best, value = expected
    assert (verdict.outcome, verdict.runs, verdict.late_runs) == (outcome, counted, late)
    if outcome != "inconclusive":
        assert verdict.best_run == best
    assert verdict.best_value == pytest.approx(value, nan_ok=True)
    assert verdict.champion_version == champion.version


def test_reasons_say_why() -> None:
    supported = judge(spec_of("", CRITERION), [run("abcdef123456", auc=0.87)], V2,
                      closed=CLOSED)
    assert supported.reason == "run abcdef12 auc 0.87 ≥ 0.85 and auc 0.87 > champion v2 0.84"
    assert supported.champion_value == 0.84
    tie = judge(spec_of("", "auc > champion"), [run("t", auc=0.84)], V2, closed=CLOSED)
    assert tie.reason == "none of 1 judged run met it; best run t auc 0.84 ties champion v2 0.84"
    missing = judge(spec_of("", "auc >= 0.8 and p_value < 0.05"), [run("m", auc=0.9)], V2,
                    closed=CLOSED)
    assert missing.reason == "1 run linked, none can be judged: no p_value"
    late = judge(spec_of("", CRITERION), [run("l", AFTER, auc=0.9)], V2, closed=CLOSED)
    assert late.reason == "no run linked; 1 run logged after the item closed, not counted"
    bad = judge(spec_of("", "AUC improves"), [run("a", auc=0.9)], V2, closed=CLOSED)
    assert bad.outcome == "inconclusive" and bad.reason.startswith("criterion unreadable: ")
    assert judge(spec_of("", ""), [], V2, closed=CLOSED).reason == "no success criterion"
    opened = judge(spec_of("", CRITERION), [run("a", auc=0.9)], V2, closed=None)
    assert opened.reason.startswith("open, provisionally supported: run a auc 0.9")


# ---------------------------------------------------------------- links and kinds


def test_names_key_is_a_whole_word() -> None:
    assert names_key("churn-42 xgb", "CHURN-42")
    assert names_key("try_CHURN-42", "CHURN-42")  # '_' separates words in run names
    assert not names_key("CHURN-420", "CHURN-42")
    assert not names_key("XCHURN-42", "CHURN-42")
    assert not names_key(None, "CHURN-42")


def test_link_runs_by_tag_config_and_name() -> None:
    runs = [
        RunRef("r1", "exp", "baseline", "shop-10"),  # tag, any case
        RunRef("r2", "exp", "SHOP-11 retrain", None),  # name
        RunRef("r3", "SHOP-10-sweep", "trial", None),  # experiment name
        RunRef("r4", "exp", "SHOP-11 but tagged", "SHOP-10"),  # the tag wins over the name
        RunRef("r5", "listed", "x", None),  # config: experiment
        RunRef("r6", "exp", "y", None),  # config: run id
    ]
    links = link_runs(runs, ["SHOP-10", "SHOP-11"], {"SHOP-11": ["r6"]},
                      {"SHOP-10": ["listed"]})
    assert links == {"SHOP-10": ["r1", "r3", "r4", "r5"], "SHOP-11": ["r2", "r6"]}


@pytest.mark.parametrize(("item_type", "kind"), [
    ("Experiment", "experiment"), (" spike ", "experiment"), ("Report", "delivery"),
    ("analysis", "delivery"), ("PROTOTYPE", "delivery"), ("Story", None), (None, None),
])
def test_item_kinds_default(item_type: str | None, kind: str | None) -> None:
    assert kind_of(item_type, ItemKinds()) == kind


def test_item_kinds_overridden() -> None:
    kinds = ItemKinds(experiment=["Hypothesis"], delivery=["Notebook", "Report"])
    items = pd.DataFrame({"key": ["A", "B", "C", "D"],
                          "type": ["hypothesis", "Experiment", "notebook", "REPORT"]})
    assert list(experiments(items, kinds)["key"]) == ["A"]
    assert list(deliveries(items, kinds)["key"]) == ["C", "D"]
