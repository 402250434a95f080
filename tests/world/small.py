"""A small world with known answers: one product, written through `store.writer`, and the
config that judges it.

Tests that check a page or a service against hand-computed figures read their story here
and work the numbers out next to their asserts; nothing in this module computes a figure.
Every instant is UTC. The world ends on Sunday 15 March 2026: a page opened with
`end=2026-03-15` (`QUERY`) looks at it as of 23:59:59.999999 that day (`AS_OF`).

Product `shop` ("Shop recommender"), its sources written as `write_records` would from
each collector:

- **Models** (source `mlflow`). Model `rec`, three versions, each from its training run:
  v1 (run r1, started Mon 16 Feb 21:00), v2 (r2, Mon 2 Mar 09:00), v3 (r3, Mon 9 Mar
  09:00). Alias `champion`: v1 on Wed 18 Feb 09:00, v2 on Wed 4 Mar 09:00, rolled back to
  v1 on Thu 5 Mar 21:00, v2 again on Sat 7 Mar 09:00 (it stays there). `challenger`: v3 on
  Tue 10 Mar 12:00. Metric `auc` (each at 09:00): v1 0.80 on 17 Feb; v2 0.86 (3 Mar), 0.84
  (8 Mar), 0.83 (13 Mar), 0.86 (14 Mar); v3 0.85 (10 Mar), 0.86 (12 Mar), 0.88 (14 Mar).
- **Drift** (source `evidently`). Dataset `shop-features`, 4 columns, two weekly reports:
  Sun 1 Mar → Sun 8 Mar over 80 rows (under the default min_rows of 200): 3 of 4 columns
  drifted (basket_size, price, region); Sun 8 Mar → Sun 15 Mar over 1,200 rows: 1 of 4
  (basket_size). Data quality at each window's end: 80 rows, 5% missing; 1,200 rows, 2%.
- **Pipelines** (source `airflow-prod`). `shop-scoring` runs daily at 02:00 for 30 min,
  Sun 8 Mar to Sun 15 Mar; the runs of Wed 11 and Sat 14 Mar failed. 11 Mar: task
  `extract` failed (`score`, `publish` upstream_failed); 14 Mar: `extract` succeeded,
  `score` failed on its 2nd try, `publish` upstream_failed. `shop-training` ran 03:00 to
  04:00 on Mon 2 and Mon 9 Mar, both successful.
- **Usage** (source `product-db`). `dau` (users), one value per day at 00:00, Mon 2 to Sun
  15 Mar: 1,000 on weekdays and 500 on the weekend of week one; 1,100 and 600 in week
  two. `orders` only in week two: 40 on each weekday (9-13 Mar), 20 on Sat and Sun.
- **Backlog** (source `tracker`), items created Tue 10 Feb 09:00 unless said. Sprint 1
  (Mon 16 Feb 09:00 to its close Fri 27 Feb 17:00), Sprint 2 (Mon 2 Mar 09:00 to Fri 13
  Mar 17:00), both closed. Epics SHOP-E1 "Checkout revamp" and SHOP-E2 (`HOSTILE` title).
  SHOP-1 story 3 pts, E1: into Sprint 2 on Sat 28 Feb 10:00, in progress Thu 5 Mar 10:00,
  done Tue 10 Mar 15:00. SHOP-2 story 5, E1: into Sprint 2 on 28 Feb 10:00, in progress
  Wed 4 Mar 10:00, still. SHOP-3 story 2, E1: to do, no sprint. SHOP-4 bug 1, E2, Sprint
  1: in progress Tue 17 Feb 10:00, done Fri 20 Feb 10:00. SHOP-5 task 8, E2, in Sprint 1
  from the start, moved to Sprint 2 at its close, to the backlog at Sprint 2's close,
  never started. SHOP-6 story, no estimate, no epic, to do. SHOP-7 story 5, E1, Sprint 1:
  in progress Wed 18 Feb 10:00, done Wed 25 Feb 16:00. ALERT-1 bug 3, created by an alert
  rule on Sun 8 Mar 01:00, to do.

The config (`CONFIG`) judges the product on six objectives, in this order: champion AUC
(>= 0.80, warning 0.85), drifted share of shop-features (<= 0.3, warning 0.2), shop-scoring's
success rate over 7 days (>= 0.95, warning 0.98), dau's 7-day mean (>= 900, warning 1,000),
hours since shop-training last succeeded (<= 168, warning 120) and dau week over week
(>= -20%, warning -10%). It has no sources: the world is written, not collected.

It publishes two stakeholder KPI pages: `shop-review` for the stakeholder `sam` (listed;
the dau and scoring objectives, the KPIs dau, orders and signups, which no source has;
14 days; a commentary with markup that must show as text) and `shop-board` for `lee`
(unlisted: only by its address; champion AUC, no KPI, 7 days, with the backlog).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from config.loader import load_config, parse_config
from config.schema import DspoConfig, ProductConfig
from store import records as r
from store.db import Store
from store.writer import write_records

PRODUCT = "shop"
START, END = "2026-02-16", "2026-03-15"
QUERY = f"product={PRODUCT}&start={START}&end={END}"
AS_OF = datetime(2026, 3, 15, 23, 59, 59, 999999, tzinfo=UTC)
"""What `end=2026-03-15` means on a page: the last instant of that day."""
HOSTILE = "<img src=x onerror=\"document.title='pwned'\">"
MIN_ROWS = 200  # config.signals.DEFAULT_MIN_ROWS, spelled out: the first report is under it

CONFIG = """\
store: {{url: "{url}"}}
dashboard: {{title: dspo small world}}
products:
  - key: shop
    name: Shop recommender
    owner: Sam Lee
    description: Ranks products for each shopper.
    objectives:
      - {{name: Champion AUC, kind: model_metric, model: rec, alias: champion, metric: auc,
         op: ">=", threshold: 0.80, warning: 0.85}}
      - {{name: Drifted feature share, kind: drift, dataset: shop-features, op: "<=",
         threshold: 0.3, warning: 0.2}}
      - {{name: Scoring success rate, kind: pipeline_success_rate, pipeline: shop-scoring,
         window: 7d, op: ">=", threshold: 0.95, warning: 0.98}}
      - {{name: Daily active users, kind: usage, kpi: dau, op: ">=", threshold: 900,
         warning: 1000}}
      - {{name: Training freshness, kind: pipeline_freshness, pipeline: shop-training,
         op: "<=", threshold: 168, warning: 120}}
      - {{name: DAU week over week, kind: usage_change, kpi: dau, op: ">=", threshold: -0.2,
         warning: -0.1}}
stakeholder_pages:
  - slug: shop-review
    title: Shop recommender, sprint review
    audience: [sam]
    products: [shop]
    objectives: [Daily active users, Scoring success rate]
    kpis: [dau, orders, signups]
    period: 14d
    commentary: "Orders <b>doubled</b> & scoring failed twice; {COMMENTARY_SCRIPT}"
  - slug: shop-board
    title: Shop recommender for the board
    audience: [lee]
    products: [shop]
    objectives: [Champion AUC]
    period: 7d
    show_backlog: true
    listed: false
"""
COMMENTARY_SCRIPT = "<script>document.title='pwned'</script>"


def at(text: str) -> datetime:
    """'2026-03-04T09:00' as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# ---------------------------------------------------------------- models

def _run(run_id: str, version: str, start: str) -> r.Run:
    begin = at(start)
    return r.Run(PRODUCT, run_id, "rec-training", f"train v{version}", "FINISHED", begin,
                 begin + timedelta(hours=2), model="rec", model_version=version,
                 url=f"https://mlflow.example.com/#/experiments/1/runs/{run_id}")


def _auc(run_id: str, day: str, value: float) -> r.Point:
    return r.Point(PRODUCT, r.SeriesKind.MODEL_METRIC, "auc", at(f"{day}T09:00"), value,
                   labels={"run_id": run_id})


def models() -> list[r.Record]:
    def alias(name: str, version: str, when: str) -> r.AliasEvent:
        return r.AliasEvent(PRODUCT, "rec", name, version, at(when))

    return [
        r.Model(PRODUCT, "rec", "Ranks products for each shopper"),
        _run("r1", "1", "2026-02-16T21:00"),
        _run("r2", "2", "2026-03-02T09:00"),
        _run("r3", "3", "2026-03-09T09:00"),
        alias("champion", "1", "2026-02-18T09:00"),
        alias("champion", "2", "2026-03-04T09:00"),
        alias("champion", "1", "2026-03-05T21:00"),
        alias("champion", "2", "2026-03-07T09:00"),
        alias("challenger", "3", "2026-03-10T12:00"),
        r.ModelVersion(PRODUCT, "rec", "1", "r1", at("2026-02-17T09:00")),
        r.ModelVersion(PRODUCT, "rec", "2", "r2", at("2026-03-03T09:00"),
                       aliases=("champion",)),
        r.ModelVersion(PRODUCT, "rec", "3", "r3", at("2026-03-10T09:00"),
                       aliases=("challenger",)),
        _auc("r1", "2026-02-17", 0.80),
        _auc("r2", "2026-03-03", 0.86), _auc("r2", "2026-03-08", 0.84),
        _auc("r2", "2026-03-13", 0.83), _auc("r2", "2026-03-14", 0.86),
        _auc("r3", "2026-03-10", 0.85), _auc("r3", "2026-03-12", 0.86),
        _auc("r3", "2026-03-14", 0.88),
    ]


# ---------------------------------------------------------------- drift

COLUMNS = ("basket_size", "price", "region", "visits")


def _report(start: str, end: str, drifted: tuple[str, ...], scores: tuple[float, ...],
            rows: int, missing: float, dataset_drift: bool) -> list[r.Record]:
    features = tuple(r.DriftFeature(c, "K-S p_value", s, 0.05, c in drifted)
                     for c, s in zip(COLUMNS, scores, strict=True))
    return [
        r.DriftReport(PRODUCT, "shop-features", at(start), at(end), dataset_drift,
                      len(drifted) / len(COLUMNS), len(drifted), len(COLUMNS), features,
                      model="rec"),
        r.DataQuality(PRODUCT, "shop-features", at(end), rows, len(COLUMNS), missing),
    ]


def drift() -> list[r.Record]:
    return [
        *_report("2026-03-01T00:00", "2026-03-08T00:00", ("basket_size", "price", "region"),
                 (0.001, 0.01, 0.02, 0.40), rows=80, missing=0.05, dataset_drift=True),
        *_report("2026-03-08T00:00", "2026-03-15T00:00", ("basket_size",),
                 (0.003, 0.30, 0.50, 0.60), rows=1200, missing=0.02, dataset_drift=False),
    ]


# ---------------------------------------------------------------- pipelines

FAILED_DAYS = (11, 14)


def scoring_run_id(day: int) -> str:
    return f"scheduled__2026-03-{day:02d}T02:00:00+00:00"


def pipelines() -> list[r.Record]:
    out: list[r.Record] = []
    for day in range(8, 16):
        start = at(f"2026-03-{day:02d}T02:00")
        state = r.PipelineState.FAILED if day in FAILED_DAYS else r.PipelineState.SUCCESS
        run_id = scoring_run_id(day)
        out.append(r.PipelineRun(
            PRODUCT, "airflow", "shop-scoring", run_id, state, start,
            start + timedelta(minutes=30), run_type="scheduled",
            url=f"https://airflow.example.com/dags/shop-scoring/runs/{run_id}"))
    for day in (2, 9):
        start = at(f"2026-03-{day:02d}T03:00")
        out.append(r.PipelineRun(PRODUCT, "airflow", "shop-training",
                                 f"scheduled__2026-03-{day:02d}T03:00:00+00:00",
                                 r.PipelineState.SUCCESS, start, start + timedelta(hours=1),
                                 run_type="scheduled"))

    def task(day: int, task_id: str, state: str, begin: str | None = None,
             minutes: float | None = None, tries: int = 1) -> r.PipelineTask:
        start = at(f"2026-03-{day:02d}T{begin}") if begin else None
        end = start + timedelta(minutes=minutes) if start and minutes else None
        return r.PipelineTask(PRODUCT, scoring_run_id(day), task_id, state, start, end,
                              None if minutes is None else minutes * 60,
                              tries if start else 0, operator="PythonOperator")

    out += [
        task(11, "extract", "failed", "02:00", 10),
        task(11, "score", "upstream_failed"),
        task(11, "publish", "upstream_failed"),
        task(14, "extract", "success", "02:00", 5),
        task(14, "score", "failed", "02:05", 24, tries=2),
        task(14, "publish", "upstream_failed"),
    ]
    return out


# ---------------------------------------------------------------- usage

def usage() -> list[r.Record]:
    out: list[r.Record] = []
    for offset in range(14):
        day = at("2026-03-02T00:00") + timedelta(days=offset)
        weekend = day.weekday() >= 5
        week_two = offset >= 7
        dau = (600 if weekend else 1100) if week_two else (500 if weekend else 1000)
        out.append(r.Point(PRODUCT, r.SeriesKind.USAGE, "dau", day, float(dau), unit="users"))
        if week_two:
            out.append(r.Point(PRODUCT, r.SeriesKind.USAGE, "orders", day,
                               20.0 if weekend else 40.0, unit="orders"))
    return out


# ---------------------------------------------------------------- backlog

def backlog() -> list[r.Record]:
    todo, doing, done = (r.StatusCategory.TODO, r.StatusCategory.IN_PROGRESS,
                         r.StatusCategory.DONE)
    created = at("2026-02-10T09:00")

    def item(key: str, kind: str, title: str, status: str, category: r.StatusCategory,
             points: float | None, epic: str | None, sprint: str | None) -> r.BacklogItem:
        return r.BacklogItem(PRODUCT, key, title, kind, status, category, created,
                             points=points, epic=epic, sprint=sprint)

    def moved(key: str, when: str, old: str | None, new: str | None) -> r.ItemEvent:
        return r.ItemEvent(PRODUCT, key, at(when), r.ItemField.SPRINT, old, new)

    def status(key: str, when: str, old: str, new: str) -> list[r.Record]:
        category = {"To Do": "todo", "In Progress": "in_progress", "Done": "done"}
        return [r.ItemEvent(PRODUCT, key, at(when), r.ItemField.STATUS, old, new),
                r.ItemEvent(PRODUCT, key, at(when), r.ItemField.STATUS_CATEGORY,
                            category[old], category[new])]

    sprint_one_close, sprint_two_close = "2026-02-27T17:00", "2026-03-13T17:00"
    return [
        r.Sprint(PRODUCT, "1", "Sprint 1", "closed", at("2026-02-16T09:00"),
                 at(sprint_one_close), at(sprint_one_close)),
        r.Sprint(PRODUCT, "2", "Sprint 2", "closed", at("2026-03-02T09:00"),
                 at(sprint_two_close), at(sprint_two_close)),
        item("SHOP-E1", "Epic", "Checkout revamp", "In Progress", doing, None, None, None),
        item("SHOP-E2", "Epic", HOSTILE, "To Do", todo, None, None, None),
        item("SHOP-1", "Story", "Rank by margin", "Done", done, 3, "SHOP-E1", "2"),
        item("SHOP-2", "Story", "One-click reorder", "In Progress", doing, 5, "SHOP-E1", "2"),
        item("SHOP-3", "Story", "Gift cards", "To Do", todo, 2, "SHOP-E1", None),
        item("SHOP-4", "Bug", "AUC chart misses v1", "Done", done, 1, "SHOP-E2", "1"),
        item("SHOP-5", "Task", "Drift report per region", "To Do", todo, 8, "SHOP-E2", None),
        item("SHOP-6", "Story", "Dark mode", "To Do", todo, None, None, None),
        item("SHOP-7", "Story", "Saved baskets", "Done", done, 5, "SHOP-E1", "1"),
        r.BacklogItem(PRODUCT, "ALERT-1", "Feature drift on shop-features", "Bug", "To Do",
                      todo, at("2026-03-08T01:00"), points=3, origin=r.Origin.ALERT),
        moved("SHOP-1", "2026-02-28T10:00", None, "2"),
        *status("SHOP-1", "2026-03-05T10:00", "To Do", "In Progress"),
        *status("SHOP-1", "2026-03-10T15:00", "In Progress", "Done"),
        moved("SHOP-2", "2026-02-28T10:00", None, "2"),
        *status("SHOP-2", "2026-03-04T10:00", "To Do", "In Progress"),
        *status("SHOP-4", "2026-02-17T10:00", "To Do", "In Progress"),
        *status("SHOP-4", "2026-02-20T10:00", "In Progress", "Done"),
        moved("SHOP-5", sprint_one_close, "1", "2"),
        moved("SHOP-5", sprint_two_close, "2", None),
        *status("SHOP-7", "2026-02-18T10:00", "To Do", "In Progress"),
        *status("SHOP-7", "2026-02-25T16:00", "In Progress", "Done"),
    ]


# ---------------------------------------------------------------- the world

SOURCES = {"mlflow": models, "evidently": drift, "airflow-prod": pipelines,
           "product-db": usage, "tracker": backlog}


def seed(store: Store) -> None:
    """Write the world into a migrated store, each part as its source would."""
    with store.session() as session:
        for source, part in SOURCES.items():
            write_records(session, source, part())


@dataclass(frozen=True)
class SmallWorld:
    config_path: Path
    config: DspoConfig

    @property
    def product(self) -> ProductConfig:
        return self.config.product(PRODUCT)


def build(folder: Path) -> SmallWorld:
    """A SQLite store holding the world and the config that judges it, under `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / 'dspo.db'}"
    path = folder / "dspo.yaml"
    path.write_text(CONFIG.format(url=url, COMMENTARY_SCRIPT=COMMENTARY_SCRIPT))
    store = Store(url)
    try:
        store.upgrade()
        seed(store)
    finally:
        store.dispose()
    return SmallWorld(path, load_config(path))


def product_config(url: str = "sqlite://") -> ProductConfig:
    """The world's product and objectives, parsed from the same YAML the server reads."""
    return config(url).product(PRODUCT)


def config(url: str = "sqlite://") -> DspoConfig:
    """The world's whole config (its products and stakeholder pages)."""
    return parse_config(CONFIG.format(url=url, COMMENTARY_SCRIPT=COMMENTARY_SCRIPT),
                        source="small world", env={})
