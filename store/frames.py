"""Query results to DataFrames with fixed columns and UTC datetime64 columns.

Every read returns the same columns whether or not rows exist, so callers never branch on
an empty frame's shape; datetime columns are `datetime64[ns, UTC]` on both backends.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Executable

from store.db import Store


def frame(
    rows: Iterable[Sequence[Any]],
    columns: Sequence[str],
    times: Sequence[str] = (),
    dtypes: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """A DataFrame of `rows` with exactly `columns`; `times` become UTC datetime64."""
    df = pd.DataFrame([tuple(row) for row in rows], columns=list(columns))
    for column in times:
        df[column] = pd.to_datetime(df[column], utc=True)
    for column, dtype in (dtypes or {}).items():
        df[column] = df[column].astype(dtype)
    return df


def read(
    store: Store,
    stmt: Executable,
    columns: Sequence[str],
    times: Sequence[str] = (),
    dtypes: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Run `stmt` in a read session and frame its rows."""
    with store.session() as session:
        rows = session.execute(stmt).all()
    return frame(rows, columns, times, dtypes)
