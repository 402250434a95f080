"""Stored figures of closed sprints: velocity and carry-over computed after a collection
(`kpis.sprint_figures`), with the backlog stamp they were computed on. Only CREATE TABLE:
an upgraded store has none, and pages rebuild every sprint live until the next collection.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sprint_figures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sprint_id", sa.Integer(), nullable=False),
        sa.Column("stamp", sa.Text(), nullable=False),
        sa.Column("start", _utc(), nullable=False),
        sa.Column("closed_at", _utc(), nullable=False),
        sa.Column("settled_at", _utc(), nullable=False),
        sa.Column("commitment", sa.Float(), nullable=False),
        sa.Column("completed", sa.Float(), nullable=False),
        sa.Column("added_mid_sprint", sa.Integer(), nullable=False),
        sa.Column("removed_mid_sprint", sa.Integer(), nullable=False),
        sa.Column("carry_items", sa.Integer(), nullable=False),
        sa.Column("carry_points", sa.Float(), nullable=False),
        sa.Column("into_sprints", sa.Float(), nullable=False),
        sa.Column("to_backlog", sa.Float(), nullable=False),
        sa.Column("stayed", sa.Float(), nullable=False),
        sa.Column("computed_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(["sprint_id"], ["sprint.id"], ondelete="CASCADE",
                                name=op.f("fk_sprint_figures_sprint_id_sprint")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sprint_figures")),
        sa.UniqueConstraint("sprint_id", name=op.f("uq_sprint_figures_sprint_id")),
    )


def downgrade() -> None:
    op.drop_table("sprint_figures")
