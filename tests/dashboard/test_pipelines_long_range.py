"""The Pipelines page over a range of 2,160 runs (SQLite and PostgreSQL): the service
buckets them and every chart's trace stays under 100 KB, with the counts a hand count
gives.

The store: pipeline `etl` (product `ops`) runs every hour on the hour for 90 days from
Thu 1 Jan 2026 00:00 UTC; each run lasts 10 minutes, but the 05:00 run of every day fails
after 2 minutes (90 failures). The page is opened on 1 Jan to 31 Mar, as of 1 Apr 00:00.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import plotly.graph_objects as go
import plotly.io as pio

from config.schema import ProductConfig
from dashboard.figures.pipelines import (
    duration_chart_buckets,
    runs_timeline,
    runs_timeline_buckets,
)
from dashboard.services.pipelines import build_pipelines
from store import records as r
from store.db import Store
from store.writer import write_records

START, AS_OF = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
BUDGET = 100 * 1024  # bytes per trace (issue 10)


def _runs() -> list[r.Record]:
    runs: list[r.Record] = []
    for hour in range(90 * 24):
        start = START + timedelta(hours=hour)
        failed = start.hour == 5
        runs.append(r.PipelineRun(
            "ops", "airflow", "etl", f"etl-{hour}",
            r.PipelineState.FAILED if failed else r.PipelineState.SUCCESS, start,
            start + timedelta(minutes=2 if failed else 10)))
    return runs


def _largest(fig: go.Figure) -> int:
    data = json.loads(pio.to_json(fig))["data"]
    return max(len(json.dumps(trace, separators=(",", ":"))) for trace in data)


def test_a_long_range_is_bucketed_under_budget(store: Store) -> None:
    with store.session() as session:
        write_records(session, "airflow-prod", _runs())
    view = build_pipelines(store, ProductConfig(key="ops", name="Ops"), start=START,
                           as_of=AS_OF, days=90)
    assert len(view.timeline) == 2160
    # 90 days of one pipeline in at most 500 marks: 6-hour buckets (360 marks)
    assert view.bucket == timedelta(hours=6) and view.shown is not None
    assert _largest(runs_timeline(view.timeline, view.as_of, view.start)) > BUDGET  # before
    fig = runs_timeline_buckets(view.run_buckets, view.shown, view.bucket, view.as_of,
                                view.start)
    assert _largest(fig) < BUDGET
    marks = {trace.name: trace for trace in fig.data}
    # 360 squares: the 90 midnight-to-06:00 ones hold the 05:00 failure (red), 270 do not;
    # their hover counts add up to every run and every failure; each failure is a tick
    assert (len(marks["6 hours: all succeeded"].x), len(marks["6 hours: with failures"].x)) \
        == (270, 90)
    counts = [row for name in ("6 hours: all succeeded", "6 hours: with failures")
              for row in marks[name].customdata]
    assert (sum(row[0] for row in counts), sum(row[1] for row in counts)) == (2160, 90)
    assert len(marks["failed"].x) == 90
    # durations: one dot per bucket (the longest successful run: 10 min) and the median
    durations = duration_chart_buckets(view.duration_buckets, view.bucket)
    assert _largest(durations) < BUDGET
    assert [len(trace.x) for trace in durations.data] == [360, 360]
    assert set(durations.data[0].y) == {10.0}
