"""The small world made hostile, for the security tests: secrets in its config, script in
its texts, a second product, its people and a saved Evidently report that tries to escape.

Built on tests/world/small.py (the same store and story), with:

- **Secrets** (`SECRETS`, read from the environment `ENV` at load, as in production): a
  source token (airflow), a database URL with a password (sql_kpis), a push token, two
  sink tokens (webhook URL, Jira) and the OIDC client secret. No page, no API answer and
  no log line may ever show one.
- **A second product** `elsewhere` (with its own evidently source and a report), so a PO
  of `shop` has something to reach for: its firing alert and its dead delivery (shop has
  a firing alert too).
- **Hostile text** (`PAYLOADS`: script tags, an onerror image, a script-closing tag and a
  `javascript:` URL) in the product's name and owner, item titles, a sprint name, an
  MLflow run's name and URL, an experiment item's title and hypothesis, a metric name, a
  model's name, a pipeline's name, run id, task and URL, a drift dataset's feature names,
  a usage KPI's name, an alert rule's name and the KPI page's title. Each must show as
  text, never run.
- **A saved report** (`REPORT_SCRIPT`): its script reads `document.cookie` and
  `localStorage`, fetches `/_dash-layout`, touches the dashboard's tab that opened it,
  calls `alert(1)` and writes what it reached into `#escape`; served in its sandbox it
  must reach nothing.
- **People** (as tests/world/kpi_users.py): `ada` admin, `ana` PO of shop, `bo` PO of
  elsewhere, `sam` (shop-review's audience), `lee` (shop-board's), `kim` (none).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from config.loader import load_config
from config.schema import DspoConfig
from dspo.users import add
from store import alerts as store_alerts
from store import outbox, queries
from store import records as r
from store.db import Store
from store.writer import write_records
from world import small

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
CLOSE = "</script><script>alert(1)</script>"
JS_URL = "javascript:alert(1)"
PAYLOADS = (SCRIPT, IMG, CLOSE, JS_URL)

SECRETS = {
    "DSPO_HOSTILE_AIRFLOW_TOKEN": "airflow-token-8c1f2e7d9b",
    "DSPO_HOSTILE_DB_PASSWORD": "db-pass-4a7e91c3f0",
    "DSPO_HOSTILE_PUSH_TOKEN": "push-token-5d0b6c8e2a71f394",
    "DSPO_HOSTILE_WEBHOOK_URL": "https://hooks.example.com/services/hook-secret-93e1a7",
    "DSPO_HOSTILE_JIRA_TOKEN": "jira-token-2f6a0d9c41",
    "DSPO_HOSTILE_OIDC_SECRET": "oidc-secret-7b3e5a1c96",
}
ENV = dict(SECRETS)
"""The environment the config is loaded with (its ${...} references)."""

PRODUCT, OTHER = small.PRODUCT, "elsewhere"
PRODUCT_NAME = f"Shop {SCRIPT}"
PASSWORD = "correct-horse-battery"
PEOPLE = (("ada", "admin", []), ("ana", "po", [PRODUCT]), ("bo", "po", [OTHER]),
          ("sam", "stakeholder", []), ("lee", "stakeholder", []),
          ("kim", "stakeholder", []))
HOSTILE_DATASET = "shop-hostile"
HOSTILE_RULE = f"rule {IMG}"
OTHER_RULE = "elsewhere-latency"
OTHER_FINGERPRINT = "fp-elsewhere-1"
SHOP_FINGERPRINT = "fp-shop-1"
REPORT_SOURCE, OTHER_REPORT_SOURCE = "shop-drift", "elsewhere-drift"
REPORT_NAME = "shop-hostile/2026-03-15.html"
OTHER_REPORT_NAME = "elsewhere/2026-03-15.html"

REPORT_SCRIPT = """<!doctype html>
<html><head><meta charset="utf-8"><title>hostile report</title></head>
<body><h1>Drift report</h1><pre id="escape">running</pre>
<script>
const reached = {origin: String(self.origin)};
try { reached.cookie = "read: " + document.cookie; }
catch (e) { reached.cookie = "blocked: " + e.name; }
try { reached.storage = "read: " + localStorage.length; }
catch (e) { reached.storage = "blocked: " + e.name; }
try { opener.document.title = "pwned"; reached.opener = "reached"; }
catch (e) { reached.opener = "blocked: " + e.name; }
try { alert(1); } catch (e) {}
fetch("/_dash-layout", {credentials: "include"})
  .then(r => r.text()).then(t => { reached.fetch = "read " + t.length; })
  .catch(e => { reached.fetch = "blocked: " + e.name; })
  .finally(() => { document.getElementById("escape").textContent = JSON.stringify(reached); });
</script></body></html>
"""


@dataclass(frozen=True)
class HostileWorld:
    config_path: Path
    config: DspoConfig
    reports: Path  # the folder of both evidently sources' reports_dir

    @property
    def report_url(self) -> str:
        return f"/reports/{REPORT_SOURCE}/{REPORT_NAME}"

    @property
    def other_report_url(self) -> str:
        return f"/reports/{OTHER_REPORT_SOURCE}/{OTHER_REPORT_NAME}"


def _config(raw: dict[str, Any], reports: Path) -> dict[str, Any]:
    """The small world's config with the second product, secrets and hostile names."""
    shop = raw["products"][0]
    shop.update(name=PRODUCT_NAME, owner=IMG, description=JS_URL)
    raw["products"].append({"key": OTHER, "name": "Elsewhere", "owner": "Bo",
                            "description": "Another team's product."})
    raw["stakeholder_pages"][1]["title"] = f"Board {CLOSE}"
    raw["dashboard"]["oidc"] = {
        "issuer": "http://127.0.0.1:9/realms/none",  # nothing listens: never reached
        "client_id": "dspo", "client_secret": "${DSPO_HOSTILE_OIDC_SECRET}",
        "role_map": {"dspo-admins": "admin"}}
    raw["sources"] = [
        {"name": REPORT_SOURCE, "kind": "evidently", "product": PRODUCT,
         "reports_dir": str(reports / PRODUCT)},
        {"name": OTHER_REPORT_SOURCE, "kind": "evidently", "product": OTHER,
         "reports_dir": str(reports / OTHER)},
        {"name": "shop-airflow", "kind": "airflow", "product": PRODUCT,
         "url": "https://airflow.internal", "token": "${DSPO_HOSTILE_AIRFLOW_TOKEN}",
         "dags": ["shop-scoring"]},
        {"name": "shop-sql", "kind": "sql_kpis", "product": PRODUCT,
         "url": "postgresql+psycopg://reader:${DSPO_HOSTILE_DB_PASSWORD}@product-db/app",
         "queries": [{"name": "signups", "sql": "SELECT ts, value FROM signups"}]},
        {"name": "shop-push", "kind": "push", "product": PRODUCT,
         "token": "${DSPO_HOSTILE_PUSH_TOKEN}"},
    ]
    raw["sinks"] = [
        {"name": "shop-chat", "kind": "webhook", "url": "${DSPO_HOSTILE_WEBHOOK_URL}"},
        {"name": "shop-jira", "kind": "jira", "url": "https://jira.example.com",
         "user": "dspo-bot", "token": "${DSPO_HOSTILE_JIRA_TOKEN}", "project": "SHOP"},
    ]
    return raw


def _write_reports(reports: Path) -> None:
    shop = reports / PRODUCT / REPORT_NAME
    shop.parent.mkdir(parents=True)
    shop.write_text(REPORT_SCRIPT)
    other = reports / OTHER / OTHER_REPORT_NAME
    other.parent.mkdir(parents=True)
    other.write_text("<!doctype html><title>r</title><p>elsewhere's report</p>")


def hostile_records(report_path: Path) -> list[r.Record]:
    """Records of `shop` whose every shown text is a payload."""
    at, day = small.at, timedelta(days=1)
    start = at("2026-03-12T05:00")
    features = tuple(r.DriftFeature(name, "K-S p_value", 0.01, 0.05, True)
                     for name in PAYLOADS)
    return [
        r.Sprint(PRODUCT, "3", IMG, "active", at("2026-03-16T09:00"), at("2026-03-27T17:00")),
        *(r.BacklogItem(PRODUCT, f"SHOP-X{i}", title, "Story", "To Do", r.StatusCategory.TODO,
                        at("2026-02-10T09:00"), points=1, sprint="2", url=JS_URL)
          for i, title in enumerate(PAYLOADS)),
        r.Model(PRODUCT, f"model {SCRIPT}", JS_URL),
        r.Run(PRODUCT, "rx", f"experiment {IMG}", f"run {CLOSE}", "FINISHED", start,
              start + day, model="rec", url=JS_URL, tags={"dspo.item": "SHOP-XE"}),
        # an experiment answered by rx (auc 0.9 >= 0.5: supported, rx its best run)
        r.BacklogItem(PRODUCT, "SHOP-XE", f"Experiment {SCRIPT}", "Experiment", "Done",
                      r.StatusCategory.DONE, at("2026-02-10T09:00"), points=1, sprint="2",
                      resolved=at("2026-03-14T09:00"), url=JS_URL,
                      description=f"Hypothesis: {IMG} lifts AUC\nSuccess criterion: auc >= 0.5"),
        r.Point(PRODUCT, r.SeriesKind.MODEL_METRIC, "auc", start + day, 0.9,
                labels={"run_id": "rx"}),
        r.Point(PRODUCT, r.SeriesKind.MODEL_METRIC, IMG, at("2026-03-13T09:00"), 0.5,
                labels={"run_id": "r3"}),
        r.Point(PRODUCT, r.SeriesKind.USAGE, SCRIPT, at("2026-03-13T00:00"), 7.0),
        r.PipelineRun(PRODUCT, "airflow", f"pipeline {SCRIPT}", f"run {IMG}",
                      r.PipelineState.FAILED, start, start + timedelta(minutes=5),
                      url=JS_URL),
        r.PipelineTask(PRODUCT, f"run {IMG}", f"task {CLOSE}", "failed", start,
                       start + timedelta(minutes=5), 300.0, 1),
        r.DriftReport(PRODUCT, HOSTILE_DATASET, at("2026-03-08T00:00"), at("2026-03-15T00:00"),
                      True, 1.0, len(features), len(features), features,
                      report_path=str(report_path)),
    ]


def _alerts(store: Store) -> None:
    """A firing alert of each product, and a dead delivery of elsewhere's."""
    at = small.at("2026-03-14T10:00")
    with store.session() as s:
        for fp, rule, product in ((SHOP_FINGERPRINT, HOSTILE_RULE, PRODUCT),
                                  (OTHER_FINGERPRINT, OTHER_RULE, OTHER)):
            alert = store_alerts.ensure_alert(s, fp, rule, product, {}, "warning", at)
            store_alerts.update_alert(s, alert, state="firing", state_since=at)
        store_alerts.enqueue(s, [store_alerts.OutboxEntry(
            OTHER_FINGERPRINT, "shop-jira", "create", {"title": "latency"}, "dead-1")], at)
        for row in outbox.pending(s):
            outbox.mark_dead(s, row.id, "gave up")


def build(folder: Path) -> HostileWorld:
    """The hostile world's store and config under `folder` (load it with `ENV`)."""
    world = small.build(folder / "world")
    reports = folder / "reports"
    _write_reports(reports)
    raw = _config(yaml.safe_load(world.config_path.read_text()), reports)
    path = folder / "hostile.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    config = load_config(path, env=ENV)
    store = Store(config.store.url)
    try:
        with store.session() as s:
            write_records(s, "tracker", hostile_records(reports / PRODUCT / REPORT_NAME))
        _alerts(store)
        for name, role, products in PEOPLE:
            add(store, name, role, products=products, password=PASSWORD)
    finally:
        store.dispose()
    return HostileWorld(path, config, reports)


def other_dead_letter(store: Store) -> int:
    """The id of elsewhere's dead delivery."""
    rows = queries.outbox(store, pending_only=True, product=OTHER)
    [dead] = rows.loc[rows["state"] == "dead", "id"].tolist()
    return int(dead)
