"""What a firing files and says: the ticket's title and evidence, and the outbox actions.

Pure: the engine hands in the rule, the instance's reading, the alert's times and the
tickets the store knows of; this module returns the text and the intended actions. The
description always carries the evidence (value, threshold, window, when it started, links
to the run, the report and dspo's page), so whoever picks the item up needs no dashboard to
see why it exists.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from alerts.rules import Instance
from alerts.sinks.base import TicketSpec
from alerts.states import FIRED, REFIRED, RESOLVED
from config.alerting import AlertRule
from config.base import format_duration
from config.reports import report_path_url
from store.alerts import OutboxEntry
from store.outbox import TicketRow

PAGES = {"model_metric": "/models", "drift": "/data", "feature_drift": "/data",
         "data_quality": "/data", "pipeline_failures": "/pipelines",
         "pipeline_freshness": "/pipelines", "usage": "/usage", "usage_change": "/usage"}


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
                fired: datetime, links: Links) -> TicketSpec:
    values = template_values(rule, inst, started)
    title = rule.backlog.title.format_map(values)
    extra = rule.backlog.description.format_map(values) if rule.backlog.description else ""
    refs = ticket_links(rule, fp, inst, links)
    lines = [extra, ""] if extra else []
    value = "no data" if inst.value is None else f"{inst.value:.6g}"
    lines += [
        f"dspo alert '{rule.name}' ({rule.severity}) on product '{rule.product}'.",
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
    lines.append(f"Fingerprint: {fp}")
    return TicketSpec(fingerprint=fp, rule=rule.name, product=rule.product, title=title[:250],
                      description="\n".join(lines), type=rule.backlog.type,
                      points=rule.backlog.points, labels=tuple(rule.backlog.labels),
                      severity=rule.severity, links=tuple(refs))


def ticket_links(rule: AlertRule, fp: str, inst: Instance, links: Links
                 ) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if run := inst.evidence.get("run_url"):
        out.append(("MLflow run", run))
    if report := links.report(inst.evidence.get("report_path")):
        out.append(("Evidently report", report))
    elif path := inst.evidence.get("report_path"):
        out.append(("Evidently report file", path))
    if page := links.page(PAGES[rule.condition.kind], product=rule.product):
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


def plan(rule: AlertRule, fp: str, transition: str | None, inst: Instance,
         *, now: datetime, started: datetime | None, last_resolved: datetime | None,
         tickets: Mapping[str, TicketRow | None], links: Links) -> list[OutboxEntry]:
    """The outbox actions of one transition, one per sink of the rule.

    On firing: no known ticket -> create; an open one -> comment; a closed one -> reopen
    when the alert resolved within `reopen_window`, else create. Delivery asks the tracker
    first in every case (`alerts.delivery`), so a ticket dspo does not know of, or one a
    human closed as Won't fix, is found there and reused or left alone.
    """
    if transition not in (FIRED, REFIRED, RESOLVED):
        return []
    value = "no data" if inst.value is None else f"{inst.value:.6g}"
    at = now.isoformat()
    out: list[OutboxEntry] = []
    for sink in rule.sinks:
        known = tickets.get(sink)
        payload: dict[str, Any] = {"at": at, "value": inst.value,
                                   "reopen_window_s": rule.reopen_window.total_seconds()}
        if transition == RESOLVED:
            action = "resolve"
            payload["text"] = f"Resolved at {at}: value {value} no longer " \
                              f"{rule.condition.op} {rule.condition.threshold:g}."
        elif transition == REFIRED:
            action = "comment"
            payload["text"] = f"Holds again at {at} (value {value}) before it could resolve."
        else:
            spec = ticket_spec(rule, fp, inst, started, now, links)
            payload["spec"] = spec_payload(spec)
            payload["text"] = f"Fired again at {at}: value {value} " \
                              f"{rule.condition.op} {rule.condition.threshold:g}."
            if known is None:
                action = "create"
            elif not known.closed:
                action = "comment"
            elif last_resolved is not None and now - last_resolved <= rule.reopen_window:
                action = "reopen"
            else:
                action = "create"
        out.append(OutboxEntry(fp, sink, action, payload, f"{fp}:{sink}:{action}:{at}"))
    return out
