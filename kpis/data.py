"""Data drift and data quality: how a dataset's production windows compare with reference.

Inputs are the frames `store.queries.drift_reports`, `drift_features` and `data_quality`
return. Every function takes an explicit `as_of` and ignores windows that end after it, so
a replay of the past sees what the PO saw then.

A report's status follows the product's `drift` objective for its dataset when there is one
(drifted share judged with `kpis.health.classify`); without one, Evidently's own dataset
drift flag decides (red when set, green otherwise), because that is the verdict the full
report shows. A report over fewer current rows than the objective's `min_rows` (the
default when there is no objective) is unknown, marked `insufficient`: a handful of rows
makes statistical tests say "drifted" about almost anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from config.schema import DriftObjective
from config.signals import DEFAULT_MIN_ROWS
from kpis._time import utc_timestamp
from kpis.health import Status, classify

HISTORY_COLUMNS = [
    "dataset",
    "window_start",
    "window_end",
    "drifted_share",
    "drifted_count",
    "column_count",
    "dataset_drift",
    "report_path",
    "rows",
    "insufficient",
    "status",
]
QUALITY_COLUMNS = ["dataset", "ts", "rows", "columns", "missing_share"]
SCHEMA_CHANGE_COLUMNS = ["dataset", "ts", "changes", "new"]


def insufficient(rows: float | None, objective: DriftObjective | None,
                 min_rows: int = DEFAULT_MIN_ROWS) -> bool:
    """Too few current rows to judge (fewer than the objective's `min_rows`, else
    `min_rows`); an unknown count is not held against a report."""
    minimum = objective.min_rows if objective is not None else min_rows
    return rows is not None and not pd.isna(rows) and rows < minimum


def report_status(
    drifted_share: float | None, dataset_drift: bool | None, objective: DriftObjective | None,
    rows: float | None = None,
) -> Status:
    """One report's verdict: unknown on too few rows, else the objective's bands if given,
    else Evidently's drift flag."""
    if insufficient(rows, objective):
        return Status.UNKNOWN
    if objective is not None:
        return classify(drifted_share, objective.op, objective.threshold, objective.warning)
    if dataset_drift is None or pd.isna(dataset_drift):
        return Status.UNKNOWN
    return Status.RED if bool(dataset_drift) else Status.GREEN


def _objectives_by_dataset(objectives: Iterable[DriftObjective]) -> dict[str, DriftObjective]:
    """The first drift objective per dataset (a second one for the same dataset is ignored)."""
    found: dict[str, DriftObjective] = {}
    for objective in objectives:
        found.setdefault(objective.dataset, objective)
    return found


def drifted_share_over_time(
    reports: pd.DataFrame, *, as_of: datetime, objectives: Iterable[DriftObjective] = ()
) -> pd.DataFrame:
    """One row per (dataset, window) ended by `as_of`, oldest first, with its status.

    Columns: HISTORY_COLUMNS. When a window was reported twice (a re-import), the report
    computed last wins.
    """
    at = utc_timestamp(as_of)
    if reports.empty:
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    done = reports.loc[reports["window_end"] <= at]
    if "computed_at" in done.columns:
        done = done.sort_values("computed_at", kind="stable", na_position="first")
    done = done.drop_duplicates(["dataset", "window_end"], keep="last")
    done = done.sort_values(["dataset", "window_end"], kind="stable").reset_index(drop=True)
    by_dataset = _objectives_by_dataset(objectives)
    rows = done["rows"] if "rows" in done.columns else pd.Series(float("nan"), index=done.index)
    short = [insufficient(n, by_dataset.get(d)) for d, n in zip(done["dataset"], rows,
                                                                  strict=True)]
    status = [
        report_status(share, flag, by_dataset.get(dataset), n)
        for dataset, share, flag, n in zip(
            done["dataset"], done["drifted_share"], done["dataset_drift"], rows, strict=True
        )
    ]
    return done.assign(rows=rows, insufficient=short, status=status)[HISTORY_COLUMNS]


def latest_reports(
    reports: pd.DataFrame, *, as_of: datetime, objectives: Iterable[DriftObjective] = ()
) -> pd.DataFrame:
    """The newest report per dataset (window ended by `as_of`) with its status, by dataset."""
    history = drifted_share_over_time(reports, as_of=as_of, objectives=objectives)
    return history.groupby("dataset", sort=True).tail(1).reset_index(drop=True)


@dataclass(frozen=True)
class FeatureDriftMatrix:
    """Features x windows of one dataset.

    `score` and `drifted` share index (features, most often drifted first, ties by name)
    and columns (window ends, oldest first). A feature missing from a window's report is
    NaN in `score` and False in `drifted`. `judged` says, per window, whether it held
    enough rows to judge (`insufficient`); `drift_counts` is how many *judged* windows each
    feature drifted in, in the same order; `methods` is each feature's latest test method.
    """

    score: pd.DataFrame
    drifted: pd.DataFrame
    drift_counts: pd.Series
    methods: pd.Series
    judged: pd.Series = field(default_factory=lambda: pd.Series(dtype=bool))

    @property
    def empty(self) -> bool:
        return self.score.empty


def feature_drift_matrix(features: pd.DataFrame, *, as_of: datetime,
                         min_rows: int = DEFAULT_MIN_ROWS) -> FeatureDriftMatrix:
    """Pivot one dataset's per-feature results into a features x windows matrix.

    Features are ordered by how often they drifted in windows over at least `min_rows`
    current rows (the drift objective's), most first, so the columns a PO should look at
    first sit at the top of the heatmap. A thinner window keeps its scores and flags (they
    are what the report says) but counts for no feature: a handful of rows makes the
    tests say "drifted" about almost anything.
    """
    at = utc_timestamp(as_of)
    rows = features.loc[features["window_end"] <= at] if not features.empty else features
    if rows.empty:
        empty = pd.DataFrame(index=pd.Index([], name="column"))
        return FeatureDriftMatrix(
            empty, empty.copy(), pd.Series(dtype="int64"), pd.Series(dtype=object)
        )
    rows = rows.drop_duplicates(["column", "window_end"], keep="last")
    score = rows.pivot(index="column", columns="window_end", values="score").astype(float)
    flags = rows.assign(drifted=rows["drifted"].astype(bool))
    drifted = (
        flags.pivot(index="column", columns="window_end", values="drifted")
        .reindex_like(score)
        .fillna(False)
        .astype(bool)
    )
    columns = sorted(score.columns)
    judged = _judged_windows(rows, min_rows).reindex(columns, fill_value=True)
    counts = drifted.loc[:, judged[judged].index].sum(axis=1).astype("int64")
    order = sorted(counts.index, key=lambda name: (-int(counts[name]), str(name)))
    methods = rows.sort_values("window_end", kind="stable").groupby("column")["method"].last()
    return FeatureDriftMatrix(
        score=score.loc[order, columns],
        drifted=drifted.loc[order, columns],
        drift_counts=counts.loc[order],
        methods=methods.reindex(order),
        judged=judged,
    )


def most_drifted(matrix: FeatureDriftMatrix, n: int = 3) -> list[str]:
    """The `n` features that drifted in the most judged windows (ties by name), leaving
    out those that never did: what a PO should look at first."""
    counts = matrix.drift_counts
    return [str(f) for f in counts[counts > 0].index[:n]]


def _judged_windows(rows: pd.DataFrame, min_rows: int) -> pd.Series:
    """Per window end: held at least `min_rows` current rows (an unknown count is not
    held against it), as `insufficient` decides for a report."""
    if "rows" not in rows.columns:
        return pd.Series(True, index=sorted(rows["window_end"].unique()), dtype=bool)
    per_window = rows.groupby("window_end")["rows"].first()
    return ~per_window.map(lambda n: insufficient(n, None, min_rows)).astype(bool)


def data_quality_trend(quality: pd.DataFrame, *, as_of: datetime) -> pd.DataFrame:
    """Rows and missing share per dataset and window ended by `as_of`, oldest first."""
    at = utc_timestamp(as_of)
    if quality.empty:
        return pd.DataFrame(columns=QUALITY_COLUMNS)
    rows = quality.loc[quality["ts"] <= at].sort_values(["dataset", "ts"], kind="stable")
    return rows[QUALITY_COLUMNS].reset_index(drop=True)


def schema_changes_by_window(quality: pd.DataFrame, *, as_of: datetime) -> pd.DataFrame:
    """Windows whose data differed in schema from the reference, oldest first.

    Columns: dataset, ts, changes (every change seen in that window) and new (those not
    seen in the dataset's previous window), so a change that persists is listed once as
    new and then only as ongoing.
    """
    at = utc_timestamp(as_of)
    if quality.empty:
        return pd.DataFrame(columns=SCHEMA_CHANGE_COLUMNS)
    rows = quality.loc[quality["ts"] <= at].sort_values(["dataset", "ts"], kind="stable")
    found: list[dict[str, object]] = []
    for dataset, group in rows.groupby("dataset", sort=True):
        previous: list[str] = []
        for ts, changes in zip(group["ts"], group["schema_changes"], strict=True):
            now = [str(c) for c in (changes or [])]
            if now:
                new = [c for c in now if c not in previous]
                found.append({"dataset": dataset, "ts": ts, "changes": now, "new": new})
            previous = now
    return pd.DataFrame(found, columns=SCHEMA_CHANGE_COLUMNS)
