"""Reading the trackers' own sprint reports (`sprint_report`), keyed like their sprints.

A report belongs to a sprint row (source, external id); the Sprint page asks for the one of
the sprint it shows, and lays it beside dspo's reconstruction (`kpis.sprint_report`).
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select

from store import schema as s
from store.db import Store
from store.frames import read

REPORT_COLUMNS = [
    "source", "sprint", "committed", "completed", "not_completed", "removed", "added",
    "completed_keys", "not_completed_keys", "removed_keys", "added_keys",
]  # fmt: skip
KEY_LISTS = ("completed_keys", "not_completed_keys", "removed_keys", "added_keys")


def sprint_reports(store: Store, product: str) -> pd.DataFrame:
    """Every sprint report of `product`'s sprints: REPORT_COLUMNS, `sprint` the sprint's
    external id, figures as floats (NaN where the tracker gave none), key lists as lists."""
    S, R, P = s.Sprint, s.SprintReport, s.Product
    stmt = (
        select(S.source, S.external_id, R.committed, R.completed, R.not_completed, R.removed,
               R.added, R.completed_keys, R.not_completed_keys, R.removed_keys, R.added_keys)
        .select_from(R)
        .join(S, S.id == R.sprint_id)
        .join(P, P.id == S.product_id)
        .where(P.key == product)
        .order_by(S.start.is_(None), S.start, S.external_id)
    )
    floats = dict.fromkeys(REPORT_COLUMNS[2:7], "float64")
    df = read(store, stmt, REPORT_COLUMNS, dtypes=floats)
    for column in KEY_LISTS:
        df[column] = [list(x or []) for x in df[column]]
    return df


def sprint_report(store: Store, product: str, sprint: str, source: str | None = None
                  ) -> pd.Series | None:
    """The report of one sprint (by external id, and source when several sources share
    ids), or None when the tracker gave none."""
    reports = sprint_reports(store, product)
    chosen = reports.loc[reports["sprint"].astype(str) == str(sprint)]
    if source is not None:
        chosen = chosen.loc[chosen["source"] == source]
    return None if chosen.empty else chosen.iloc[0]
