"""What a firing files and says: the ticket's title and evidence, and the outbox actions.

Pure: the engine hands in the rule, the instance's reading, the alert's times and the
tickets the store knows of; this module returns the text and the intended actions. The
description always carries the evidence (value, threshold, window, when it started, links
to the run, the report and dspo's page), so whoever picks the item up needs no dashboard to
see why it exists.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from alerts.rules import Instance
from alerts.sinks.base import TicketSpec
from alerts.states import FIRING, REFIRED, RESOLVED
from config.alerting import AlertRule
from config.base import format_duration
from config.reports import report_path_url
from store.alerts import OutboxEntry
from store.outbox import TicketRow

PAGES = {"model_metric": "/models", "drift": "/data", "feature_drift": "/data",
         "data_quality": "/data", "pipeline_failures": "/pipelines",
         "pipeline_freshness": "/pipelines", "pipeline_success": "/pipelines",
         "usage": "/usage", "usage_change": "/usage"}
"""The page a ticket links to per condition kind; any other kind (an objective's status)
links to the overview, where objectives are shown."""


@dataclass(frozen=True)
class Links:
    """Where a ticket links to: dspo's pages and the full reports it serves."""

    base_url: str | None = None
    report_dirs: Mapping[str, str | Path] | None = None  # evidently source -> reports_dir

    def page(self, path: str, **query: str) -> str | None:
        if not self.base_url:
            return None
        suffix = f"?{urlencode(query)}" if query else ""
        return f"{self.base_url.rstrip('/')}{path}{suffix}"

    def report(self, report_path: str | None) -> str | None:
        """The report's URL on the dashboard (the mapping the dashboard serves it by)."""
        path = report_path_url(self.report_dirs or {}, report_path)
        return self.page(path) if path else None


def alert_path(product: str, fingerprint: str) -> str:
    """The dashboard path of one alert (the Alerts page), relative to the base URL."""
    return f"/alerts?{urlencode({'product': product, 'fingerprint': fingerprint})}"


def _value(value: float | None) -> float:
    return math.nan if value is None else value


def template_values(rule: AlertRule, inst: Instance, started: datetime | None
                    ) -> dict[str, Any]:
    c = rule.condition
    window = inst.evidence.get("window") or (format_duration(rule.for_) if rule.for_ else
                                             "latest value")
    return {"rule": rule.name, "product": rule.product, "severity": rule.severity,
            "value": _value(inst.value), "threshold": c.threshold, "op": c.op,
            "window": window, "started": started.isoformat() if started else "",
            "labels": dict(inst.labels), **inst.labels}


def ticket_spec(rule: AlertRule, fp: str, inst: Instance, started: datetime | None,
                fired: datetime, links: Links, *, filed: datetime | None = None) -> TicketSpec:
    """The item a firing files; `filed` is when, if later than the firing (a silence held it)."""
    values = template_values(rule, inst, started)
    title = rule.backlog.title.format_map(values)
    extra = rule.backlog.description.format_map(values) if rule.backlog.description else ""
    refs = ticket_links(rule, fp, inst, links)
    lines = [extra, ""] if extra else []
    lines.append(f"dspo alert '{rule.name}' ({rule.severity}) on product '{rule.product}'.")
    lines += evidence_lines(rule, inst, started, fired, refs)
    if filed is not None and filed > fired:
        lines.append(_late(fired, filed))
    lines.append(f"Fingerprint: {fp}")
    return TicketSpec(fingerprint=fp, rule=rule.name, product=rule.product, title=title[:250],
                      description="\n".join(lines), type=rule.backlog.type,
                      points=rule.backlog.points, labels=tuple(rule.backlog.labels),
                      severity=rule.severity, links=tuple(refs))


def evidence_lines(rule: AlertRule, inst: Instance, started: datetime | None, fired: datetime,
                   refs: list[tuple[str, str]]) -> list[str]:
    """Why the alert fires, as of this reading: condition and value, window, since when,
    labels, the rule's evidence (drifted columns, ...) and links to the run and report."""
    values = template_values(rule, inst, started)
    value = "no data" if inst.value is None else f"{inst.value:.6g}"
    lines = [
        f"Condition: {rule.condition.kind} {rule.condition.op} {rule.condition.threshold:g}; "
        f"value {value}.",
        f"Window: {values['window']}.",
        f"Holding since {values['started'] or fired.isoformat()}; firing since "
        f"{fired.isoformat()} (for: {format_duration(rule.for_)}).",
        "Labels: " + ", ".join(f"{k}={v}" for k, v in sorted(inst.labels.items())) + ".",
    ]
    lines += [f"{k.replace('_', ' ').capitalize()}: {v}" for k, v in sorted(inst.evidence.items())
              if k not in ("window", "run_url", "report_path")]
    lines += [f"{text}: {url}" for text, url in refs]
    return lines


def firing_text(rule: AlertRule, fp: str, inst: Instance, started: datetime | None,
                fired: datetime, now: datetime, links: Links) -> str:
    """What a firing says on a ticket that already exists (a comment on an open one, or the
    comment that reopens a closed one): this firing's value, window and report, so a
    reopened item says why it reopened, not why it was first filed."""
    value = "no data" if inst.value is None else f"{inst.value:.6g}"
    head = (f"Fired again at {fired.isoformat()}: value {value} {rule.condition.op} "
            f"{rule.condition.threshold:g}.")
    lines = [head, *evidence_lines(rule, inst, started, fired,
                                   ticket_links(rule, fp, inst, links))]
    if now > fired:
        lines.append(_late(fired, now))
    return "\n".join(lines)


def _late(fired: datetime, filed: datetime) -> str:
    return (f"Filed at {filed.isoformat()}, not when it fired: a silence was active then "
            "(or this sink was added to the rule since).")


def ticket_links(rule: AlertRule, fp: str, inst: Instance, links: Links
                 ) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if run := inst.evidence.get("run_url"):
        out.append(("MLflow run", run))
    if report := links.report(inst.evidence.get("report_path")):
        out.append(("Evidently report", report))
    elif path := inst.evidence.get("report_path"):
        out.append(("Evidently report file", path))
    if page := links.page(PAGES.get(rule.condition.kind, "/"), product=rule.product):
        out.append(("dspo page", page))
    if links.base_url:
        out.append(("dspo alert", links.base_url.rstrip("/") + alert_path(rule.product, fp)))
    return out


def spec_payload(spec: TicketSpec) -> dict[str, Any]:
    return {"fingerprint": spec.fingerprint, "rule": spec.rule, "product": spec.product,
            "title": spec.title, "description": spec.description, "type": spec.type,
            "points": spec.points, "labels": list(spec.labels), "severity": spec.severity,
            "links": [list(x) for x in spec.links]}


def spec_from_payload(payload: Mapping[str, Any]) -> TicketSpec:
    s = payload["spec"]
    return TicketSpec(fingerprint=s["fingerprint"], rule=s["rule"], product=s["product"],
                      title=s["title"], description=s["description"], type=s["type"],
                      points=s["points"], labels=tuple(s["labels"]), severity=s["severity"],
                      links=tuple((a, b) for a, b in s["links"]))


def firing_key(fp: str, sink: str, fired: datetime) -> str:
    """The dedupe key of a firing's filing in one sink: the same whenever it is planned (at
    the firing, or after a silence), so a firing is filed once per sink."""
    return f"{fp}:{sink}:fired:{fired.astimezone(UTC).isoformat()}"


def filing_keys(fp: str, sink: str, fired: datetime) -> tuple[str, ...]:
    """Keys that show a firing was filed in a sink: `firing_key`, and those of outbox rows
    written before it existed (keyed by action and the firing's instant)."""
    at = fired.astimezone(UTC).isoformat()
    return (firing_key(fp, sink, fired),
            *(f"{fp}:{sink}:{action}:{at}" for action in ("create", "comment", "reopen")))


def plan(rule: AlertRule, fp: str, state: str, transition: str | None, inst: Instance,
         *, now: datetime, started: datetime | None, fired: datetime | None,
         last_resolved: datetime | None, tickets: Mapping[str, TicketRow | None],
         filed: Collection[str], links: Links) -> list[OutboxEntry]:
    """The outbox actions of one evaluation of an unsilenced alert, at most one per sink.

    `state` is the alert's state after the step, `fired` when its current firing began and
    `filed` the sinks that already have that firing's filing. A firing alert files in every
    sink that has not got it: at the firing itself, or at the first evaluation after a
    silence that held it ended. Filing: no known ticket -> create; an open one -> comment;
    a closed one -> reopen when the alert resolved within `reopen_window`, else create.
    Delivery asks the tracker first in every case (`alerts.delivery`), so a ticket dspo
    does not know of, or one a human closed as Won't fix, is found there and reused or left
    alone. A re-fire from recovering comments; a resolution resolves where it was filed.
    """
    out: list[OutboxEntry] = []
    for sink in rule.sinks:
        if transition == RESOLVED:
            if sink in filed:
                out.append(_resolve(rule, fp, sink, inst, now))
        elif state == FIRING and fired is not None and sink not in filed:
            out.append(_filing(rule, fp, sink, inst, now=now, started=started, fired=fired,
                               last_resolved=last_resolved, known=tickets.get(sink),
                               links=links))
        elif state == FIRING and transition == REFIRED:
            out.append(_refire(rule, fp, sink, inst, now))
    return out


def _payload(rule: AlertRule, inst: Instance, now: datetime) -> dict[str, Any]:
    return {"at": now.isoformat(), "value": inst.value,
            "reopen_window_s": rule.reopen_window.total_seconds()}


def _value_text(inst: Instance) -> str:
    return "no data" if inst.value is None else f"{inst.value:.6g}"


def _resolve(rule: AlertRule, fp: str, sink: str, inst: Instance, now: datetime
             ) -> OutboxEntry:
    at = now.isoformat()
    payload = _payload(rule, inst, now)
    payload["text"] = f"Resolved at {at}: value {_value_text(inst)} no longer " \
                      f"{rule.condition.op} {rule.condition.threshold:g}."
    return OutboxEntry(fp, sink, "resolve", payload, f"{fp}:{sink}:resolve:{at}")


def _refire(rule: AlertRule, fp: str, sink: str, inst: Instance, now: datetime
            ) -> OutboxEntry:
    at = now.isoformat()
    payload = _payload(rule, inst, now)
    payload["text"] = f"Holds again at {at} (value {_value_text(inst)}) before it could resolve."
    return OutboxEntry(fp, sink, "comment", payload, f"{fp}:{sink}:comment:{at}")


def _filing(rule: AlertRule, fp: str, sink: str, inst: Instance, *, now: datetime,
            started: datetime | None, fired: datetime, last_resolved: datetime | None,
            known: TicketRow | None, links: Links) -> OutboxEntry:
    payload = _payload(rule, inst, now)
    spec = ticket_spec(rule, fp, inst, started, fired, links, filed=now)
    payload["spec"] = spec_payload(spec)
    payload["text"] = firing_text(rule, fp, inst, started, fired, now, links)
    if known is None:
        action = "create"
    elif not known.closed:
        action = "comment"
    elif last_resolved is not None and fired - last_resolved <= rule.reopen_window:
        action = "reopen"
    else:
        action = "create"
    return OutboxEntry(fp, sink, action, payload, firing_key(fp, sink, fired))
