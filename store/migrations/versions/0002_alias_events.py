"""Alias events: the history of each registered model's aliases (promotions, rollbacks).

MLflow only keeps where an alias points now; DORA-for-ML needs when it moved. One row per
move, keyed by (model, alias, ts); version NULL means the alias was removed. Only CREATE
TABLE, so it is SQLite-safe without batch mode.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "model_alias_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("alias", sa.String(), nullable=False),
        sa.Column("version", sa.String(), nullable=True),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("origin", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["model.id"],
            name=op.f("fk_model_alias_event_model_id_model"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_alias_event")),
        sa.UniqueConstraint(
            "model_id", "alias", "ts", name=op.f("uq_model_alias_event_model_id_alias_ts")
        ),
    )


def downgrade() -> None:
    op.drop_table("model_alias_event")
