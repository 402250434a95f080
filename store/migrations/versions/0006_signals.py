"""One home per datum: drop the copies of drift shares and data quality in the points table.

Until now the evidently collector wrote each report's drifted share, and each window's rows
and missing share, twice: in `drift_report` / `data_quality` and as `series`/`point` rows
of kind 'drift' and 'data_quality'. Health signals read the report tables only
(`store.signals`), so the copies are deleted here (points go with their series through
the foreign key's cascade) and no longer written. Nothing else reads those kinds.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.execute("DELETE FROM point WHERE series_id IN "
               "(SELECT id FROM series WHERE kind IN ('drift', 'data_quality'))")
    op.execute("DELETE FROM series WHERE kind IN ('drift', 'data_quality')")


def downgrade() -> None:
    """The copies are not restored: the report tables hold every value they held."""
