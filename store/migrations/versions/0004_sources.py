"""Sources that never stall: leases, abandoned runs, rows written; Airflow/GitHub runs with
their tasks; a tracker's own sprint report.

- `collector_run`: `records` becomes `rows_written` (rows inserted, changed or deleted, so a
  re-run with nothing new shows 0), plus `records_read` and `holder`; status 'abandoned'.
- `collector_lease`: one row per source, so two schedulers never run one source at once.
- `pipeline_run`: keyed by (source, run_id) instead of (system, run_id), so two Airflows'
  identically named runs cannot collide; run type, attempt, the system's own duration,
  branch and a `detail` JSON. Existing rows get source = system; the writer adopts them
  under the real source name the first time that source writes the same run.
- `pipeline_task` and `sprint_report`: new tables.

SQLite changes go through batch mode (table copy). Hand-checked against `store.schema` by
the models-vs-migrations test.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("collector_run") as batch:
        batch.alter_column("records", new_column_name="rows_written",
                           existing_type=sa.Integer(), existing_nullable=False)
        batch.add_column(sa.Column("records_read", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("holder", sa.String(), nullable=True))
        batch.drop_constraint(op.f("ck_collector_run_status"), type_="check")
        batch.create_check_constraint(
            op.f("ck_collector_run_status"),
            "status IN ('running', 'ok', 'failed', 'abandoned')",
        )
    with op.batch_alter_table("collector_run") as batch:
        batch.alter_column("records_read", server_default=None, existing_type=sa.Integer(),
                           existing_nullable=False)

    op.create_table(
        "collector_lease",
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("holder", sa.String(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("acquired", _utc(), nullable=False),
        sa.Column("expires", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_collector_lease")),
    )

    with op.batch_alter_table("pipeline_run") as batch:
        batch.add_column(sa.Column("source", sa.String(), nullable=True))
        batch.add_column(sa.Column("run_type", sa.String(), nullable=True))
        batch.add_column(sa.Column("attempt", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("duration", sa.Float(), nullable=True))
        batch.add_column(sa.Column("branch", sa.String(), nullable=True))
        batch.add_column(sa.Column("detail", sa.JSON(), nullable=True))
    op.execute("UPDATE pipeline_run SET source = system, detail = '{}'")
    with op.batch_alter_table("pipeline_run") as batch:
        batch.alter_column("source", nullable=False, existing_type=sa.String())
        batch.alter_column("detail", nullable=False, existing_type=sa.JSON())
        batch.drop_constraint(op.f("uq_pipeline_run_system_run_id"), type_="unique")
        batch.create_unique_constraint(op.f("uq_pipeline_run_source_run_id"),
                                       ["source", "run_id"])

    op.create_table(
        "pipeline_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.String(), nullable=False),
        sa.Column("map_index", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("start", _utc(), nullable=True),
        sa.Column("end", _utc(), nullable=True),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("try_number", sa.Integer(), nullable=True),
        sa.Column("operator", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["pipeline_run.id"],
                                name=op.f("fk_pipeline_task_run_id_pipeline_run"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_task")),
        sa.UniqueConstraint("run_id", "task_id", "map_index",
                            name=op.f("uq_pipeline_task_run_id_task_id_map_index")),
    )

    op.create_table(
        "sprint_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sprint_id", sa.Integer(), nullable=False),
        sa.Column("committed", sa.Float(), nullable=True),
        sa.Column("completed", sa.Float(), nullable=True),
        sa.Column("not_completed", sa.Float(), nullable=True),
        sa.Column("removed", sa.Float(), nullable=True),
        sa.Column("added", sa.Float(), nullable=True),
        sa.Column("completed_keys", sa.JSON(), nullable=False),
        sa.Column("not_completed_keys", sa.JSON(), nullable=False),
        sa.Column("removed_keys", sa.JSON(), nullable=False),
        sa.Column("added_keys", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["sprint_id"], ["sprint.id"],
                                name=op.f("fk_sprint_report_sprint_id_sprint"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sprint_report")),
        sa.UniqueConstraint("sprint_id", name=op.f("uq_sprint_report_sprint_id")),
    )


def downgrade() -> None:
    op.drop_table("sprint_report")
    op.drop_table("pipeline_task")
    with op.batch_alter_table("pipeline_run") as batch:
        batch.drop_constraint(op.f("uq_pipeline_run_source_run_id"), type_="unique")
        batch.create_unique_constraint(op.f("uq_pipeline_run_system_run_id"),
                                       ["system", "run_id"])
        for column in ("detail", "branch", "duration", "attempt", "run_type", "source"):
            batch.drop_column(column)
    op.drop_table("collector_lease")
    with op.batch_alter_table("collector_run") as batch:
        batch.drop_constraint(op.f("ck_collector_run_status"), type_="check")
        batch.create_check_constraint(op.f("ck_collector_run_status"),
                                      "status IN ('running', 'ok', 'failed')")
        batch.drop_column("holder")
        batch.drop_column("records_read")
        batch.alter_column("rows_written", new_column_name="records", existing_type=sa.Integer())
