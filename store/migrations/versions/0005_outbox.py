"""An outbox that backs off and gives up: a row's state, its next attempt, who discarded it.

- `outbox.state`: pending, delivered, dead (a fatal answer, or too many attempts: kept with
  the tracker's answer until a PO retries or discards it) or discarded. Existing rows
  become delivered when they have a `delivered_at`, else pending; a pending row that kept
  failing before this revision goes dead at its next failure if its attempts already
  exceed its sink's `max_attempts`.
- `next_attempt_at` (backoff: no deliverer sends the row before it), `last_attempt_at`,
  `discarded_at` and `discarded_by`.
- The index on (delivered_at, id) becomes one on (state, id): deliverers read by state.

SQLite changes go through batch mode (table copy). Hand-checked against `store.schema` by
the models-vs-migrations test.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

STATES = "state IN ('pending', 'delivered', 'dead', 'discarded')"


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("state", sa.String(), nullable=False,
                                   server_default="pending"))
        batch.add_column(sa.Column("next_attempt_at", _utc(), nullable=True))
        batch.add_column(sa.Column("last_attempt_at", _utc(), nullable=True))
        batch.add_column(sa.Column("discarded_at", _utc(), nullable=True))
        batch.add_column(sa.Column("discarded_by", sa.String(), nullable=True))
    op.execute("UPDATE outbox SET state = 'delivered' WHERE delivered_at IS NOT NULL")
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("state", server_default=None, existing_type=sa.String(),
                           existing_nullable=False)
        batch.create_check_constraint(op.f("ck_outbox_state"), STATES)
        batch.drop_index(op.f("ix_outbox_delivered_at_id"))
        batch.create_index(op.f("ix_outbox_state_id"), ["state", "id"])


def downgrade() -> None:
    # 0004 knows only delivered or not: a discarded row must not come back to be sent.
    op.execute("UPDATE outbox SET delivered_at = discarded_at WHERE state = 'discarded'")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index(op.f("ix_outbox_state_id"))
        batch.create_index(op.f("ix_outbox_delivered_at_id"), ["delivered_at", "id"])
        batch.drop_constraint(op.f("ck_outbox_state"), type_="check")
        for column in ("discarded_by", "discarded_at", "last_attempt_at", "next_attempt_at",
                       "state"):
            batch.drop_column(column)
