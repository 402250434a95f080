"""Build a store of a real company's size through dspo's own writer, and time the ingest.

Usage:
    .venv/bin/python benchmarks/large_store.py --url sqlite:///.dspo/large/dspo.db
    .venv/bin/python benchmarks/large_store.py \\
        --url postgresql+psycopg://postgres@127.0.0.1:5432/dspo_bench [--scale 0.05]

At scale 1 (issue 10): 5 products, 50 models with 500 training runs logging 4 metrics
over 500 steps (1M metric points), 100k pipeline runs (tasks for the failed ones), 20k
backlog items with their history over 50 two-week sprints per product, weekly drift
reports over 50 features for 10 datasets for 2 years, 50 usage KPIs daily for 2 years.
`--scale` shrinks the steps per run, the pipeline runs and the backlog (the 2 years of
drift and usage stay). Everything is seeded, so two runs write the same store.

Records go through `store.writer.write_records` in chunks, each in its own transaction
as the collectors' runner commits one run, under the source a collector would use; the
table printed at the end is the writer's rate per record kind (generation not counted).
Then, as `dspo collect` does after a backlog source writes, each product's closed-sprint
figures are computed and stored (`dspo.sprint_figures`; timed apart).
A PostgreSQL database named in the URL is dropped and created afresh; a SQLite file is
removed first. The config that judges the store (every objective kind, a stakeholder
page) is written beside the store, or to `--config`.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.engine import make_url

from config.loader import load_config
from dspo.sprint_figures import refresh_sprint_figures
from store import records as r
from store.db import Store
from store.writer import write_records

ROOT = Path(__file__).resolve().parent.parent
END = datetime(2026, 11, 29, tzinfo=UTC)
"""The store's last day (a Sunday); pages are opened with `end=2026-11-29`."""
DAYS = 730
BEGIN = END - timedelta(days=DAYS)
PRODUCTS = ("checkout", "search", "fraud", "pricing", "support")
MODELS_PER_PRODUCT, RUNS_PER_MODEL, STEPS = 10, 10, 500
METRICS = ("auc", "loss", "accuracy", "f1")
PIPELINES_PER_PRODUCT, RUNS_PER_PIPELINE = 4, 5000
ITEMS_PER_PRODUCT, SPRINTS = 4000, 50
DATASETS_PER_PRODUCT, FEATURES = 2, 50
KPIS_PER_PRODUCT = 10
CHUNK = 20_000
"""Records per write_records call and transaction: a collector run's worth."""


@dataclass(frozen=True)
class Sizes:
    """How much of each part to generate at a scale."""

    steps: int
    runs_per_pipeline: int
    items_per_product: int

    @classmethod
    def at(cls, scale: float) -> Sizes:
        return cls(steps=max(2, round(STEPS * scale)),
                   runs_per_pipeline=max(10, round(RUNS_PER_PIPELINE * scale)),
                   items_per_product=max(40, round(ITEMS_PER_PRODUCT * scale)))


def model_name(product: str, m: int) -> str:
    return f"{product}-model-{m}"


def pipeline_name(product: str, p: int) -> str:
    return f"{product}-{('scoring', 'training', 'features', 'export')[p]}"


def dataset_name(product: str, d: int) -> str:
    return f"{product}-features-{d}"


def kpi_name(k: int) -> str:
    return f"kpi_{k}"


# ---------------------------------------------------------------- models (source mlflow)

def _run_start(m: int, i: int) -> datetime:
    """Ten runs per model spread over the two years, models staggered by a day."""
    return BEGIN + timedelta(days=i * (DAYS // RUNS_PER_MODEL) + m, hours=9)


def _metric(name: str, step: int, steps: int, rng: random.Random, skill: float) -> float:
    progress = step / max(1, steps - 1)
    base = {"auc": 0.70 + 0.15 * skill * progress, "loss": 1.0 - 0.7 * progress,
            "accuracy": 0.65 + 0.2 * skill * progress, "f1": 0.6 + 0.2 * skill * progress}
    return base[name] + rng.gauss(0, 0.01)


def models(product: str, sizes: Sizes, rng: random.Random) -> Iterator[r.Record]:
    """Per model: its runs with their metric histories, versions and champion moves."""
    for m in range(MODELS_PER_PRODUCT):
        name = model_name(product, m)
        yield r.Model(product, name, f"Model {m} of {product}")
        for i in range(RUNS_PER_MODEL):
            run_id = f"{name}-run-{i}"
            start = _run_start(m, i)
            yield r.Run(product, run_id, f"{name}-training", f"train {i + 1}", "FINISHED",
                        start, start + timedelta(minutes=sizes.steps), model=name,
                        model_version=str(i + 1), params={"lr": "0.01", "depth": str(4 + i)})
            labels = {"run_id": run_id, "experiment": f"{name}-training"}
            skill = 0.5 + 0.5 * rng.random()
            for metric in METRICS:
                for step in range(sizes.steps):
                    yield r.Point(product, r.SeriesKind.MODEL_METRIC, metric,
                                  start + timedelta(minutes=step),
                                  _metric(metric, step, sizes.steps, rng, skill),
                                  labels=labels, step=step)
            done = start + timedelta(minutes=sizes.steps + 5)
            yield r.AliasEvent(product, name, "champion", str(i + 1), done + timedelta(days=2))
            yield r.ModelVersion(product, name, str(i + 1), run_id, done, status="READY",
                                 aliases=("champion",) if i == RUNS_PER_MODEL - 1 else ())


# ---------------------------------------------------------------- drift (source evidently)

def drift(product: str, rng: random.Random) -> Iterator[r.Record]:
    """A weekly report per dataset for two years, and the data quality at each window end."""
    for d in range(DATASETS_PER_PRODUCT):
        dataset = dataset_name(product, d)
        for week in range(DAYS // 7):
            start = BEGIN + timedelta(weeks=week)
            end = start + timedelta(weeks=1)
            features = tuple(
                r.DriftFeature(f"feature_{f}", "K-S p_value", score, 0.05, score < 0.05)
                for f in range(FEATURES) for score in (rng.random() ** 3,))
            drifted = sum(f.drifted for f in features)
            yield r.DriftReport(product, dataset, start, end, drifted / FEATURES > 0.5,
                                drifted / FEATURES, drifted, FEATURES, features,
                                model=model_name(product, d))
            yield r.DataQuality(product, dataset, end, rng.randint(5_000, 50_000), FEATURES,
                                round(rng.random() * 0.05, 4))


# ---------------------------------------------------------------- pipelines (source airflow)

def pipelines(product: str, sizes: Sizes, rng: random.Random) -> Iterator[r.Record]:
    """Runs evenly over two years per pipeline; 5% fail, and those list their tasks."""
    every = timedelta(days=DAYS) / sizes.runs_per_pipeline
    for p in range(PIPELINES_PER_PRODUCT):
        pipeline = pipeline_name(product, p)
        for i in range(sizes.runs_per_pipeline):
            start = BEGIN + every * i
            minutes = 10 + rng.random() * 20
            failed = rng.random() < 0.05
            # keyed "<dag_id>/<run_id>" as the Airflow collector does: Airflow's run ids
            # repeat across DAGs, and the writer keys runs by source and run id
            run_id = f"{pipeline}/scheduled__{start:%Y-%m-%dT%H:%M:%S}+00:00"
            state = r.PipelineState.FAILED if failed else r.PipelineState.SUCCESS
            end = start + timedelta(minutes=minutes)
            yield r.PipelineRun(product, "airflow", pipeline, run_id, state, start, end,
                                run_type="scheduled", duration=minutes * 60,
                                url=f"https://airflow.example.com/dags/{run_id}")
            if failed:
                yield from _failed_tasks(product, run_id, start, end)


def _failed_tasks(product: str, run_id: str, start: datetime, end: datetime
                  ) -> Iterator[r.PipelineTask]:
    yield r.PipelineTask(product, run_id, "extract", "success", start, end, 60.0, 1,
                         operator="PythonOperator")
    yield r.PipelineTask(product, run_id, "score", "failed", start, end, 120.0, 2,
                         operator="PythonOperator")
    yield r.PipelineTask(product, run_id, "publish", "upstream_failed", operator="PythonOperator")


# ---------------------------------------------------------------- usage (source product-db)

def usage(product: str, rng: random.Random) -> Iterator[r.Record]:
    for k in range(KPIS_PER_PRODUCT):
        level = 1000.0 * (k + 1)
        for day in range(DAYS):
            ts = BEGIN + timedelta(days=day + 1)
            weekend = 0.6 if ts.weekday() >= 5 else 1.0
            yield r.Point(product, r.SeriesKind.USAGE, kpi_name(k), ts,
                          round(level * weekend * (1 + day / DAYS) * rng.uniform(0.95, 1.05)),
                          unit="users")


# ---------------------------------------------------------------- backlog (source jira)

def _sprint_bounds(n: int) -> tuple[datetime, datetime]:
    """Sprint n (0-based) of 50 two-week sprints ending with the store's last week."""
    start = END - timedelta(weeks=2 * (SPRINTS - n)) + timedelta(days=1, hours=9)
    return start, start + timedelta(days=11, hours=8)


def sprints(product: str) -> Iterator[r.Record]:
    for n in range(SPRINTS):
        start, end = _sprint_bounds(n)
        last = n == SPRINTS - 1
        yield r.Sprint(product, str(n + 1), f"Sprint {n + 1}", "active" if last else "closed",
                       start, end, None if last else end, goal=f"Goal of sprint {n + 1}")


def items(product: str, sizes: Sizes, rng: random.Random) -> Stream:
    """Items spread over the sprints; each moves into its sprint, starts and mostly ends."""
    prefix = product[:4].upper()  # the Jira project in the config
    per_sprint = max(1, sizes.items_per_product // SPRINTS)
    for i in range(sizes.items_per_product):
        n = min(SPRINTS - 1, i // per_sprint)
        yield from _item(product, f"{prefix}-{i + 1}", n, rng)


def _item(product: str, key: str, n: int, rng: random.Random) -> Stream:
    start, end = _sprint_bounds(n)
    created = start - timedelta(days=rng.randint(1, 30))
    begun = start + timedelta(hours=rng.randint(1, 150))
    finished = begun + timedelta(hours=rng.randint(4, 100))
    done = finished < end and (n < SPRINTS - 1 or rng.random() < 0.5)
    category = r.StatusCategory.DONE if done else r.StatusCategory.IN_PROGRESS
    yield r.BacklogItem(product, key, f"Work item {key}", rng.choice(("Story", "Bug", "Task")),
                        "Done" if done else "In Progress", category, created,
                        points=float(rng.choice((1, 2, 3, 5, 8))), epic=None, sprint=str(n + 1),
                        resolved=finished if done else None)
    events = [(start - timedelta(days=1), r.ItemField.SPRINT, None, str(n + 1)),
              (begun, r.ItemField.STATUS, "To Do", "In Progress"),
              (begun, r.ItemField.STATUS_CATEGORY, "todo", "in_progress")]
    if done:
        events += [(finished, r.ItemField.STATUS, "In Progress", "Done"),
                   (finished, r.ItemField.STATUS_CATEGORY, "in_progress", "done")]
    for ts, what, old, new in events:
        yield ItemEventLater(r.ItemEvent(product, key, ts, what, old, new))


@dataclass(frozen=True)
class ItemEventLater:
    """An item event held back until its item is committed (the writer skips orphans)."""

    event: r.ItemEvent


Stream = Iterator[r.Record | ItemEventLater]

# ---------------------------------------------------------------- writing

@dataclass
class Tally:
    """Records written and seconds spent in write_records (and commit), per record kind."""

    records: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    figures_seconds: float = 0.0  # storing the closed sprints' figures after the writes


def _kind(chunk: list[r.Record]) -> str:
    names = sorted({type(x).__name__ for x in chunk})
    return names[0] if len(names) == 1 else "+".join(names)


def write_chunk(store: Store, source: str, chunk: list[r.Record], tally: Tally) -> None:
    """One transaction through the writer; a mixed chunk is charged to each kind pro rata."""
    t0 = time.perf_counter()
    with store.session() as session:
        write_records(session, source, chunk)
    spent = time.perf_counter() - t0
    counts: dict[str, int] = defaultdict(int)
    for record in chunk:
        counts[type(record).__name__] += 1
    for kind, n in counts.items():
        tally.records[kind] += n
        tally.seconds[kind] += spent * n / len(chunk)


def stream(store: Store, source: str, records: Stream,
           tally: Tally, advance: Callable[[int], None]) -> None:
    """Write `records` in chunks; item events go after every item of the source."""
    chunk: list[r.Record] = []
    later: list[r.Record] = []
    for record in records:
        if isinstance(record, ItemEventLater):
            later.append(record.event)
            continue
        chunk.append(record)
        if len(chunk) >= CHUNK:
            write_chunk(store, source, chunk, tally)
            advance(len(chunk))
            chunk = []
    for tail in (chunk, *_chunks(later)):
        if tail:
            write_chunk(store, source, tail, tally)
            advance(len(tail))


def _chunks(records: list[r.Record]) -> Iterator[list[r.Record]]:
    for i in range(0, len(records), CHUNK):
        yield records[i:i + CHUNK]


def parts(sizes: Sizes, seed: int) -> list[tuple[str, Callable[[], Stream]]]:
    """(source, generator) pairs in the order they are written; each seeded on its own."""
    out: list[tuple[str, Callable[[], Stream]]] = []
    for n, p in enumerate(PRODUCTS):
        def rng(part: int, n: int = n) -> random.Random:
            return random.Random(seed * 1000 + n * 10 + part)

        out += [
            (f"{p}-mlflow", partial(models, p, sizes, rng(1))),
            (f"{p}-drift", partial(drift, p, rng(2))),
            (f"{p}-airflow", partial(pipelines, p, sizes, rng(3))),
            (f"{p}-usage", partial(usage, p, rng(4))),
            (f"{p}-jira", partial(sprints, p)),
            (f"{p}-jira", partial(items, p, sizes, rng(5))),
        ]
    return out


def expected_records(sizes: Sizes) -> int:
    """Records before the 5% of failed runs' tasks, for the progress bar's total."""
    per_model = 1 + RUNS_PER_MODEL * (1 + len(METRICS) * sizes.steps + 2)
    weeks = DAYS // 7
    per_product = (MODELS_PER_PRODUCT * per_model
                   + DATASETS_PER_PRODUCT * weeks * 2
                   + PIPELINES_PER_PRODUCT * sizes.runs_per_pipeline * 1.15
                   + KPIS_PER_PRODUCT * DAYS + SPRINTS + sizes.items_per_product * 5)
    return round(per_product * len(PRODUCTS))


# ---------------------------------------------------------------- the store and its config

def fresh_store(url: str) -> Store:
    """An empty, migrated store at `url` (the PostgreSQL database is recreated)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    elif parsed.get_backend_name() == "postgresql":
        _recreate_database(parsed)
    store = Store(url)
    store.upgrade()
    return store


def _recreate_database(url: object) -> None:
    import psycopg
    from sqlalchemy.engine import URL

    assert isinstance(url, URL)
    name = url.database
    if not name or not name.replace("_", "").isalnum():
        raise SystemExit(f"refusing to recreate database {name!r}")
    admin = url.set(drivername="postgresql", database="postgres")
    conninfo = admin.render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


CONFIG_HEAD = """\
# Written by benchmarks/large_store.py: the large benchmark store and what judges it.
store: {{url: "{url}"}}
dashboard: {{title: dspo large store}}
products:
"""
PRODUCT = """\
  - key: {key}
    name: {name}
    owner: Owner of {key}
    description: The {key} product of the large benchmark store.
    objectives:
      - {{name: Champion AUC, kind: model_metric, model: {key}-model-0, metric: auc,
         op: ">=", threshold: 0.75, warning: 0.8}}
      - {{name: Drifted feature share, kind: drift, dataset: {key}-features-0, op: "<=",
         threshold: 0.3, warning: 0.2}}
      - {{name: Feature drift, kind: feature_drift, dataset: {key}-features-1, op: "<=",
         threshold: 5}}
      - {{name: Missing values, kind: data_quality, dataset: {key}-features-0,
         metric: missing_share, op: "<=", threshold: 0.05, warning: 0.04}}
      - {{name: Scoring success rate, kind: pipeline_success_rate, pipeline: {key}-scoring,
         window: 7d, op: ">=", threshold: 0.95, warning: 0.98}}
      - {{name: Scoring failures, kind: pipeline_failures, pipeline: {key}-scoring,
         window: 1d, op: "<=", threshold: 1}}
      - {{name: Training freshness, kind: pipeline_freshness, pipeline: {key}-training,
         op: "<=", threshold: 24, warning: 12}}
      - {{name: Daily users, kind: usage, kpi: kpi_0, op: ">=", threshold: 900,
         warning: 1000}}
      - {{name: Daily users week over week, kind: usage_change, kpi: kpi_0, op: ">=",
         threshold: -0.2, warning: -0.1}}
"""
SOURCES = """\
  - {{name: {key}-mlflow, kind: mlflow, product: {key}, tracking_uri: "http://mlflow.invalid",
     experiments: [{key}-model-0-training], models: [{key}-model-0]}}
  - name: {key}-drift
    kind: evidently
    product: {key}
    reports_dir: /nonexistent/reports
    datasets:
      - {{name: {key}-features-0, reference: {{path: /nonexistent/ref.parquet}},
         current: {{path: /nonexistent/cur.parquet}}}}
      - {{name: {key}-features-1, reference: {{path: /nonexistent/ref.parquet}},
         current: {{path: /nonexistent/cur.parquet}}}}
  - {{name: {key}-airflow, kind: airflow, product: {key}, url: "http://airflow.invalid",
     token: not-used, dag_pattern: "^{key}-"}}
  - name: {key}-usage
    kind: sql_kpis
    product: {key}
    url: "sqlite://"
    queries:
{queries}
  - {{name: {key}-jira, kind: jira, product: {key}, url: "http://jira.invalid",
     token: not-used, project: {prefix}}}
"""
STAKEHOLDER = """\
stakeholder_pages:
  - slug: {key}-review
    title: {name}, sprint review
    audience: [bench]
    products: [{key}]
    objectives: [Daily users, Scoring success rate, Champion AUC]
    kpis: [kpi_0, kpi_1, kpi_2]
    period: 30d
    show_backlog: true
"""


def config_text(url: str) -> str:
    text = CONFIG_HEAD.format(url=url)
    for key in PRODUCTS:
        text += PRODUCT.format(key=key, name=key.title())
    text += "sources:\n"
    queries = "\n".join(f"      - {{name: {kpi_name(k)}, unit: users, sql: SELECT 1}}"
                         for k in range(KPIS_PER_PRODUCT))
    for key in PRODUCTS:
        text += SOURCES.format(key=key, prefix=key[:4].upper(), queries=queries)
    return text + STAKEHOLDER.format(key=PRODUCTS[0], name=PRODUCTS[0].title())


def config_path_for(url: str, given: Path | None) -> Path:
    if given is not None:
        return given
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return Path(parsed.database or "").with_suffix(".yaml")
    return ROOT / ".dspo" / f"large-{parsed.database}.yaml"


# ---------------------------------------------------------------- main

def build(url: str, scale: float, seed: int) -> Tally:
    sizes = Sizes.at(scale)
    store = fresh_store(url)
    tally = Tally()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    try:
        with Progress(*columns) as progress:
            task = progress.add_task("writing", total=expected_records(sizes))
            for source, part in parts(sizes, seed):
                progress.update(task, description=f"{source:<10}")
                stream(store, source, part(), tally,
                       lambda n: progress.advance(task, n))
        t0 = time.perf_counter()
        for product in PRODUCTS:
            refresh_sprint_figures(store, product)
        tally.figures_seconds = time.perf_counter() - t0
    finally:
        store.dispose()
    return tally


def print_rates(tally: Tally, url: str, scale: float) -> None:
    print(f"\ningest through store.writer.write_records into {make_url(url).get_backend_name()}"
          f" (scale {scale}, {CHUNK:,} records per transaction)")
    print(f"{'record kind':<14} {'records':>10} {'seconds':>9} {'records/s':>11}")
    for kind in sorted(tally.records, key=lambda k: -tally.records[k]):
        n, s = tally.records[kind], tally.seconds[kind]
        print(f"{kind:<14} {n:>10,} {s:>9.1f} {n / s:>11,.0f}")
    n, s = sum(tally.records.values()), sum(tally.seconds.values())
    print(f"{'all':<14} {n:>10,} {s:>9.1f} {n / s:>11,.0f}")
    print(f"closed-sprint figures of {len(PRODUCTS)} products stored in "
          f"{tally.figures_seconds:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=f"sqlite:///{ROOT / '.dspo' / 'large' / 'dspo.db'}")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--config", type=Path, default=None,
                        help="where to write the config (default: beside a SQLite store)")
    args = parser.parse_args()
    path = config_path_for(args.url, args.config)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(config_text(args.url))
    load_config(path)  # a config the server refuses would waste the build
    tally = build(args.url, args.scale, args.seed)
    print_rates(tally, args.url, args.scale)
    print(f"config: {path}")


if __name__ == "__main__":
    main()
