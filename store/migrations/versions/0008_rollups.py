"""Point rollups: each series' points per hour and per UTC day (count, sum, min, max, last),
so long-range charts and windowed means stop reading every raw point.

The table is filled here from the points already stored, so a store upgraded from 0007
reads the same answers at once (`dspo db rollup` rebuilds the same rows at any time).
From now on the writer keeps the buckets it touches up to date. Only values that are not
NaN count (PostgreSQL stores NaN; SQLite cannot store one in `point.value`). CREATE TABLE
plus INSERT ... SELECT: SQLite-safe without batch mode. The SQL is a copy of
`store/rollups.py`'s as of this revision: migrations never import application code.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None

_HOUR = {"sqlite": "substr({ts}, 1, 13) || ':00:00.000000'",
         "postgresql": "date_trunc('hour', {ts}, 'UTC')"}
_DAY = {"sqlite": "substr({ts}, 1, 10) || ' 00:00:00.000000'",
        "postgresql": "date_trunc('day', {ts}, 'UTC')"}
_VALUE = {"sqlite": "p.value IS NOT NULL", "postgresql": "p.value <> 'NaN'::float8"}
_COLUMNS = "series_id, grain, bucket, n, total, lo, hi, last_value, last_ts"


def upgrade() -> None:
    op.create_table(
        "point_rollup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("grain", sa.String(), nullable=False),
        sa.Column("bucket", sa.DateTime(timezone=True), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("lo", sa.Float(), nullable=False),
        sa.Column("hi", sa.Float(), nullable=False),
        sa.Column("last_value", sa.Float(), nullable=False),
        sa.Column("last_ts", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("grain IN ('hour', 'day')", name=op.f("ck_point_rollup_grain")),
        sa.ForeignKeyConstraint(["series_id"], ["series.id"],
                                name=op.f("fk_point_rollup_series_id_series"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_point_rollup")),
        sa.UniqueConstraint("series_id", "grain", "bucket",
                            name=op.f("uq_point_rollup_series_id_grain_bucket")),
    )
    dialect = op.get_bind().dialect.name
    hour = _HOUR[dialect].format(ts="p.ts")
    op.execute(
        f"INSERT INTO point_rollup ({_COLUMNS}) "
        f"SELECT g.series_id, 'hour', g.b, g.n, g.total, g.lo, g.hi, "
        f"(SELECT p.value FROM point p WHERE p.series_id = g.series_id AND p.ts = g.last_ts "
        f"AND {_VALUE[dialect]} ORDER BY p.step DESC LIMIT 1), g.last_ts "
        f"FROM (SELECT p.series_id, {hour} AS b, count(*) AS n, sum(p.value) AS total, "
        f"min(p.value) AS lo, max(p.value) AS hi, max(p.ts) AS last_ts FROM point p "
        f"WHERE {_VALUE[dialect]} GROUP BY p.series_id, {hour}) g"
    )
    day = _DAY[dialect].format(ts="h.bucket")
    last_hour = _HOUR[dialect].format(ts="g.last_ts")
    op.execute(
        f"INSERT INTO point_rollup ({_COLUMNS}) "
        f"SELECT g.series_id, 'day', g.b, g.n, g.total, g.lo, g.hi, "
        f"(SELECT h.last_value FROM point_rollup h WHERE h.series_id = g.series_id "
        f"AND h.grain = 'hour' AND h.bucket = {last_hour}), g.last_ts "
        f"FROM (SELECT h.series_id, {day} AS b, sum(h.n) AS n, sum(h.total) AS total, "
        f"min(h.lo) AS lo, max(h.hi) AS hi, max(h.last_ts) AS last_ts FROM point_rollup h "
        f"WHERE h.grain = 'hour' GROUP BY h.series_id, {day}) g"
    )


def downgrade() -> None:
    op.drop_table("point_rollup")
