"""Usage KPIs from SQL against a real SQLite product database."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from collectors.base import FatalSourceError, RetriableSourceError
from collectors.frames import masked_url
from collectors.sql_kpis import SqlKpisCollector
from config.schema import SqlKpisSource
from store.records import Point, SeriesKind

UNTIL = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)

# Sessions as the product keeps them: SQLAlchemy/SQLite text timestamps, naive UTC.
SESSIONS = [
    ("2026-11-23 08:00:00", "ann", 12.0),
    ("2026-11-23 17:30:00", "bob", 3.5),
    ("2026-11-24 09:00:00", "ann", 7.0),
    ("2026-11-24 23:59:59", "cem", 1.0),
    ("2026-11-25 10:00:00", "ann", 2.0),
    ("2026-11-25 11:00:00", "bob", 4.0),
    ("2026-11-25 12:00:00", "dan", None),
    ("2026-11-26 08:59:59", "ann", 5.0),  # just before the run starts
    ("2026-11-26 09:00:00", "bob", 6.0),  # at `until`: excluded by queries that bind it
]
DAILY_USERS = """
    SELECT date(started) AS ts, COUNT(DISTINCT user_id) AS value
    FROM sessions WHERE started >= :since AND started < :until
    GROUP BY date(started) ORDER BY ts
"""
MINUTES = "SELECT started AS ts, minutes AS value FROM sessions"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "product.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE sessions (started TEXT, user_id TEXT, minutes REAL)")
        conn.executemany("INSERT INTO sessions VALUES (?, ?, ?)", SESSIONS)
    return path


def collector(url: str, *queries: dict[str, Any]) -> SqlKpisCollector:
    return SqlKpisCollector(
        SqlKpisSource(name="usage", product="shop", kind="sql_kpis", url=url, queries=queries)
    )


def run(c: SqlKpisCollector, since: datetime | None) -> list[Point]:
    points = list(c.collect(since, UNTIL))
    assert all(isinstance(p, Point) for p in points)
    return points  # type: ignore[return-value]


def day(d: int, h: int = 0, m: int = 0, s: int = 0) -> datetime:
    return datetime(2026, 11, d, h, m, s, tzinfo=UTC)


def test_daily_users_with_since_and_until_bound(db: Path) -> None:
    c = collector(f"sqlite:///{db}", {"name": "daily_users", "sql": DAILY_USERS, "unit": "users"})
    points = run(c, None)
    assert [(p.ts, p.value) for p in points] == [
        (day(23), 2.0), (day(24), 2.0), (day(25), 3.0), (day(26), 1.0),
    ]  # fmt: skip
    p = points[0]
    assert (p.product, p.kind, p.name, p.unit, p.labels) == (
        "shop", SeriesKind.USAGE, "daily_users", "users", {},
    )  # fmt: skip
    assert p.ts.tzinfo is UTC
    # Incremental: since cuts at the watermark (text comparison on SQLite works).
    assert [(p.ts, p.value) for p in run(c, day(24, 12))] == [
        (day(24), 1.0), (day(25), 3.0), (day(26), 1.0),
    ]  # fmt: skip


def test_query_without_parameters_reads_everything_and_skips_empty_values(db: Path) -> None:
    points = run(collector(f"sqlite:///{db}", {"name": "minutes", "sql": MINUTES}), day(25))
    assert len(points) == 8  # every row but dan's NULL, whatever since says
    assert (points[0].ts, points[0].value) == (day(23, 8), 12.0)
    assert (points[-1].ts, points[-1].value) == (day(26, 9), 6.0)


def test_iso_text_with_zones_is_parsed_to_utc(tmp_path: Path) -> None:
    path = tmp_path / "iso.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE k (ts TEXT, value INTEGER)")
        conn.executemany(
            "INSERT INTO k VALUES (?, ?)",
            [("2026-11-24T10:00:00+02:00", 1), ("2026-11-24T09:00:00Z", 2), ("2026-11-24", 3)],
        )
    points = run(collector(f"sqlite:///{path}", {"name": "k", "sql": "SELECT * FROM k"}), None)
    assert [(p.ts, p.value) for p in points] == [(day(24, 8), 1.0), (day(24, 9), 2.0),
                                                 (day(24), 3.0)]  # fmt: skip


def test_duplicate_timestamps_keep_the_last_row(db: Path) -> None:
    sql = "SELECT '2026-11-24' AS ts, 1 AS value UNION ALL SELECT '2026-11-24', 5"
    points = run(collector(f"sqlite:///{db}", {"name": "k", "sql": sql}), None)
    assert [(p.ts, p.value) for p in points] == [(day(24), 5.0)]


def test_missing_value_column_names_query_and_source(db: Path) -> None:
    c = collector(
        f"sqlite:///{db}",
        {"name": "daily_users", "sql": DAILY_USERS},
        {"name": "broken", "sql": "SELECT started AS ts, minutes FROM sessions"},
    )
    with pytest.raises(FatalSourceError) as info:
        run(c, None)
    message = str(info.value)
    assert "source 'usage'" in message
    assert "query 'broken' returned no column value (columns: ts, minutes)" in message


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT 'soon' AS ts, 1 AS value", "unparseable ts"),
        ("SELECT '2026-11-24' AS ts, 'many' AS value", "row 1 has ts='2026-11-24' value='many'"),
        ("SELECT 1700000000 AS ts, 1 AS value", "ts holds numbers"),
        ("SELECT * FROM no_such_table", "query failed: no such table: no_such_table"),
        ("SELECT :day AS ts, 1 AS value", "unknown parameter(s) day"),
    ],
    ids=["bad-ts", "bad-value", "epoch-ts", "bad-sql", "unknown-param"],
)
def test_bad_results_are_fatal_and_name_the_query(db: Path, sql: str, message: str) -> None:
    with pytest.raises(FatalSourceError) as info:
        run(collector(f"sqlite:///{db}", {"name": "kpi", "sql": sql}), None)
    assert "query 'kpi'" in str(info.value)
    assert message in str(info.value)


def test_database_is_read_only(db: Path) -> None:
    sql = "INSERT INTO sessions VALUES ('2026-11-26', 'eve', 1) RETURNING started AS ts, 1 AS value"
    with pytest.raises(FatalSourceError, match="readonly database"):
        run(collector(f"sqlite:///{db}", {"name": "kpi", "sql": sql}), None)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM sessions").fetchone() == (len(SESSIONS),)


def test_missing_sqlite_file_is_retriable_and_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.db"
    with pytest.raises(
        RetriableSourceError,
        match=re.escape(f"source 'usage' (sqlite:///{path}): query 'kpi': cannot connect"),
    ):
        run(collector(f"sqlite:///{path}", {"name": "kpi", "sql": MINUTES}), None)
    assert not path.exists()


@pytest.fixture
def closed_port() -> Iterator[int]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]  # bound but not listening: connections are refused


def test_unreachable_server_is_retriable_with_password_masked(closed_port: int) -> None:
    url = f"postgresql+psycopg://dspo:s3cret@127.0.0.1:{closed_port}/product"
    with pytest.raises(RetriableSourceError) as info:
        run(collector(url, {"name": "kpi", "sql": MINUTES}), None)
    message = str(info.value)
    assert "s3cret" not in message
    assert f"postgresql+psycopg://dspo:***@127.0.0.1:{closed_port}/product" in message
    assert masked_url(url) in collector(url, {"name": "kpi", "sql": MINUTES}).where
