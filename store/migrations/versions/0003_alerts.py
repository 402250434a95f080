"""Alerts: alert instances and their history, silences, the delivery outbox, the tickets
each alert has in each sink; a description on backlog items and comments on dspo's own.

`backlog_item.description` is added in batch mode (SQLite-safe); everything else is
CREATE TABLE. Hand-checked against `store.schema` by the models-vs-migrations test.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), nullable=False)


def upgrade() -> None:
    with op.batch_alter_table("backlog_item") as batch:
        batch.add_column(sa.Column("description", sa.Text(), nullable=True))

    op.create_table(
        "item_comment",
        _id(),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("ts", _utc(), nullable=False),
        sa.Column("author", sa.String(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["backlog_item.id"],
                                name=op.f("fk_item_comment_item_id_backlog_item"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_comment")),
    )
    op.create_index(op.f("ix_item_comment_item_id_ts"), "item_comment", ["item_id", "ts"])

    op.create_table(
        "alert",
        _id(),
        sa.Column("fingerprint", sa.String(), nullable=False),
        sa.Column("rule", sa.String(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("state_since", _utc(), nullable=False),
        sa.Column("pending_since", _utc(), nullable=True),
        sa.Column("fired_at", _utc(), nullable=True),
        sa.Column("resolved_at", _utc(), nullable=True),
        sa.Column("last_value", sa.Float(), nullable=True),
        sa.Column("last_evaluated_at", _utc(), nullable=True),
        sa.Column("severity", sa.String(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("acknowledged_by", sa.String(), nullable=True),
        sa.Column("acknowledged_at", _utc(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.CheckConstraint("state IN ('normal', 'pending', 'firing', 'recovering')",
                           name=op.f("ck_alert_state")),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"],
                                name=op.f("fk_alert_product_id_product"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_alert_fingerprint")),
    )
    op.create_index(op.f("ix_alert_product_id_state"), "alert", ["product_id", "state"])

    op.create_table(
        "alert_event",
        _id(),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("ts", _utc(), nullable=False),
        sa.Column("from_state", sa.String(), nullable=True),
        sa.Column("to_state", sa.String(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["alert.id"],
                                name=op.f("fk_alert_event_alert_id_alert"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_event")),
        sa.UniqueConstraint("alert_id", "ts", "to_state",
                            name=op.f("uq_alert_event_alert_id_ts_to_state")),
    )

    op.create_table(
        "silence",
        _id(),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(), nullable=True),
        sa.Column("matchers", sa.JSON(), nullable=False),
        sa.Column("starts_at", _utc(), nullable=False),
        sa.Column("ends_at", _utc(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"],
                                name=op.f("fk_silence_product_id_product"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_silence")),
    )
    op.create_index(op.f("ix_silence_product_id_ends_at"), "silence", ["product_id", "ends_at"])

    op.create_table(
        "outbox",
        _id(),
        sa.Column("fingerprint", sa.String(), nullable=False),
        sa.Column("sink", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", _utc(), nullable=True),
        sa.Column("claimed_until", _utc(), nullable=True),
        sa.Column("dedupe_key", sa.String(), nullable=False),
        sa.CheckConstraint("action IN ('create', 'comment', 'resolve', 'reopen')",
                           name=op.f("ck_outbox_action")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_dedupe_key")),
    )
    op.create_index(op.f("ix_outbox_delivered_at_id"), "outbox", ["delivered_at", "id"])
    op.create_index(op.f("ix_outbox_fingerprint_sink"), "outbox", ["fingerprint", "sink"])

    op.create_table(
        "alert_ticket",
        _id(),
        sa.Column("fingerprint", sa.String(), nullable=False),
        sa.Column("sink", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("resolution", sa.String(), nullable=True),
        sa.Column("opened_at", _utc(), nullable=False),
        sa.Column("closed_at", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_ticket")),
        sa.UniqueConstraint("fingerprint", "sink", "key",
                            name=op.f("uq_alert_ticket_fingerprint_sink_key")),
    )


def downgrade() -> None:
    for table in ("alert_ticket", "outbox", "silence", "alert_event", "alert", "item_comment"):
        op.drop_table(table)
    with op.batch_alter_table("backlog_item") as batch:
        batch.drop_column("description")
