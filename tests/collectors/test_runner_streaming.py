"""Records streamed to the writer while the collector reads (PostgreSQL): memory holds a few
batches, and a run that fails or outlives its deadline mid-stream leaves the store as it was.

SQLite collects first and writes after (`collectors.runner.streams`), which the other runner
tests cover on both backends.
"""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import ClassVar, Literal

import pytest

from collectors import runner
from collectors.base import Collector
from collectors.runner import run_source
from config.sources import SourceBase
from store import queries
from store.collector_runs import last_watermark
from store.db import Store
from store.records import Point, Record, SeriesKind
from store.writer import write_records

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
BATCH = 100  # the hand-over's and the writer's batch in these tests: 2,000 records stream
PLAN: dict[str, object] = {}
RELEASE = threading.Event()


# PostgreSQL only: SQLite collects a run first and writes it after (`runner.streams`), so
# there is nothing to stream there (its one-write path is the other runner tests').
pytestmark = pytest.mark.parametrize(
    "empty_store", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)


@pytest.fixture(autouse=True)
def _small_batches(store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    assert runner.streams(store)
    monkeypatch.setattr(runner, "STREAM_BATCH", BATCH)
    monkeypatch.setattr(runner, "write_records", partial(write_records, batch_size=BATCH))
    PLAN.clear()
    RELEASE.clear()
    yield
    RELEASE.set()


class StreamSource(SourceBase):
    collector: ClassVar[str | None] = f"{__name__}:StreamCollector"
    kind: Literal["stream"] = "stream"


class StreamCollector(Collector[StreamSource]):
    """Yields PLAN['count'] points, then fails or blocks as PLAN says; keeps a weak
    reference to its first point and notes whether it was still alive at the end."""

    kind = "stream"

    @property
    def where(self) -> str:
        return "nowhere:stream"

    def collect(self, since: datetime | None, until: datetime) -> Iterator[Record]:
        for i in range(int(PLAN["count"])):  # type: ignore[call-overload]
            point = Point(self.product, SeriesKind.USAGE, "dau", T0 + timedelta(minutes=i),
                          float(i))
            if i == 0:
                first = weakref.ref(point)
            yield point
        gc.collect()
        PLAN["first alive at the end"] = first() is not None
        if PLAN.get("then") == "fail":
            raise RuntimeError("the source broke after streaming")
        if PLAN.get("then") == "block":
            RELEASE.wait(30)


def _source(seconds: float = 30) -> StreamSource:
    return StreamSource(name="streamed", product="p", deadline=timedelta(seconds=seconds))


def test_a_long_run_is_written_as_it_is_read(store: Store) -> None:
    """20 batches: the queue holds 2 and the writer buffers one, so the first point is
    long gone when the collector ends (materialised, it would be alive)."""
    PLAN.update(count=20 * BATCH)
    result = run_source(store, _source())
    assert (result.status, result.records, result.rows) == ("ok", 2000, 1 + 1 + 2000)
    assert PLAN["first alive at the end"] is False
    points = queries.series_points(store, "p", "usage", "dau")
    assert len(points) == 2000
    assert points["value"].sum() == 1999 * 2000 / 2  # 0 + 1 + ... + 1999


def test_a_failure_after_streamed_batches_writes_nothing(store: Store) -> None:
    PLAN.update(count=10 * BATCH, then="fail")
    result = run_source(store, _source())
    assert result.status == "failed"
    assert "the source broke after streaming" in (result.error or "")
    assert result.records == 10 * BATCH  # every batch reached the writer, then rolled back
    assert queries.series_points(store, "p", "usage", "dau").empty
    status = queries.collector_status(store).set_index("source")
    assert status.loc["streamed", "status"] == "failed"


def test_a_deadline_mid_stream_abandons_the_run_and_writes_nothing(store: Store) -> None:
    PLAN.update(count=5 * BATCH, then="block")
    result = run_source(store, _source(seconds=1))
    assert result.status == "failed"
    assert "deadline of 1s exceeded" in (result.error or "")
    RELEASE.set()
    assert queries.series_points(store, "p", "usage", "dau").empty
    with store.session() as s:
        assert last_watermark(s, "streamed") is None
