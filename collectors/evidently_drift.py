"""Data drift and data quality of each configured dataset, per time window, via Evidently.

Computed reports
    The current data is cut into windows of `window_days` days on a fixed UTC grid anchored
    on Monday 1970-01-05 (so 7-day windows are ISO weeks and a window's bounds never depend
    on when dspo runs). Only complete windows are reported (end <= `until`, the run's
    start) and, after the first run, only those ending after `since`: late rows for an
    already reported window are not re-reported. Each window with rows gets a real
    `Report([DataDriftPreset()], include_tests=True)` against the whole reference (the
    tests carry Evidently's own per-column and dataset verdicts), saved in Evidently's full
    snapshot format (`snapshot.dumps()`, reloadable with `Snapshot.load`, with tags and
    metadata) at `reports_dir/<product>/<dataset>/<window_end:%Y-%m-%d>.json` (plus `.html`
    with `save_html`). Each window yields a `DriftReport` with its `DriftFeature`s, a
    `DataQuality` and the points drift/drifted_share, data_quality/rows and
    data_quality/missing_share, labelled {"dataset": name} at the window's end.

    A current table given as a SQL query may bind `:since` and `:until` (the start of the
    first window still to report, 1970-01-01 on a first run, and the run's start) to read
    only the rows it needs.

Imported reports (`import_dirs`) and Evidently UI workspaces (`workspaces`)
    Read by `collectors/evidently_workspace.py`: reports the team's pipelines saved and
    the snapshots of an Evidently UI workspace, recognised by their content (not by file
    modification time), linked through a copy under `reports_dir`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pandas as pd

from collectors.base import Collector
from collectors.evidently_reports import (
    DriftSummary,
    QualitySummary,
    ReportFormatError,
    summarize,
)
from collectors.evidently_workspace import (
    ReportImporter,
    drift_records,
    quality_records,
    write_atomically,
)
from collectors.frames import FrameError, load_frame
from config.schema import DriftDataset, EvidentlySource, FileFrame
from store.records import Record

if TYPE_CHECKING:
    from evidently.core.report import Snapshot

GRID_ANCHOR = datetime(1970, 1, 5, tzinfo=UTC)  # a Monday: weekly windows are ISO weeks
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def windows(
    first_ts: datetime, until: datetime, since: datetime | None, days: int
) -> list[tuple[datetime, datetime]]:
    """Complete grid windows from the one holding `first_ts`, ending after `since`."""
    step = timedelta(days=days)
    end = GRID_ANCHOR + ((first_ts - GRID_ANCHOR) // step + 1) * step
    if since is not None:
        end = max(end, GRID_ANCHOR + ((since - GRID_ANCHOR) // step + 1) * step)
    out = []
    while end <= until:
        out.append((end - step, end))
        end += step
    return out


def first_start(since: datetime, days: int) -> datetime:
    """Start of the first window still to report after `since`: what a query needs to read."""
    step = timedelta(days=days)
    return GRID_ANCHOR + ((since - GRID_ANCHOR) // step) * step


def schema_changes(reference: pd.DataFrame, current: pd.DataFrame) -> tuple[str, ...]:
    """Columns added, removed or of another kind than in the reference, for the PO to read."""
    changes = [f"added: {c}" for c in current.columns if c not in reference.columns]
    changes += [f"removed: {c}" for c in reference.columns if c not in current.columns]
    for c in current.columns:
        if c in reference.columns:
            before, after = _kind(reference[c]), _kind(current[c])
            if before != after:
                changes.append(f"type: {c} {before} -> {after}")
    return tuple(changes)


def _kind(column: pd.Series) -> str:
    """Kinds, not dtypes: an int column that gains a NaN in one window is still numeric."""
    if pd.api.types.is_bool_dtype(column):
        return "bool"
    if pd.api.types.is_numeric_dtype(column):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(column):
        return "datetime"
    return "text"


class EvidentlyCollector(Collector[EvidentlySource]):
    kind = "evidently"

    @property
    def where(self) -> str:
        return str(self.settings.reports_dir)

    def collect(self, since: datetime | None, until: datetime) -> Iterator[Record]:
        for dataset in self.settings.datasets:
            yield from self._collect_dataset(dataset, since, until)
        if self.settings.import_dirs or self.settings.workspaces:
            importer = ReportImporter(self, ZoneInfo(self.settings.timezone))
            yield from importer.collect(since, until)

    # ------------------------------------------------------------ computed reports

    def _collect_dataset(
        self, ds: DriftDataset, since: datetime | None, until: datetime
    ) -> Iterator[Record]:
        data_since = EPOCH if since is None else first_start(since, ds.window_days)
        reference = self._load(ds, "reference", ds.reference, {})
        current = self._load(ds, "current", ds.current, {"since": data_since, "until": until})
        ts_col = ds.timestamp_column
        if ts_col not in current.columns:
            raise self.fail(f"dataset {ds.name!r}: current data has no column {ts_col!r}")
        if current.empty:
            return
        try:
            stamps = pd.to_datetime(current[ts_col], utc=True, format="mixed")
        except (ValueError, TypeError) as e:
            raise self.fail(f"dataset {ds.name!r}: unparseable {ts_col!r}: {e}") from e
        if stamps.isna().any():
            row = int(stamps.isna().to_numpy().argmax())
            raise self.fail(f"dataset {ds.name!r}: empty {ts_col!r} in current row {row + 1}")
        reference = reference.drop(columns=[ts_col], errors="ignore")
        data = current.drop(columns=[ts_col])
        columns = self._columns(ds, reference, data)
        changes = schema_changes(reference, data)
        step = timedelta(days=ds.window_days)
        slots = data.groupby(((stamps - GRID_ANCHOR) // step).to_numpy())  # grid slot per row
        first = stamps.min().to_pydatetime()
        for start, end in windows(first, until, since, ds.window_days):
            slot = (start - GRID_ANCHOR) // step
            if slot not in slots.groups:
                continue
            window = slots.get_group(slot)
            snapshot = self._run_report(ds, reference[columns], window[columns], start, end)
            text = snapshot.dumps()
            path = self._save(snapshot, text, ds.name, end)
            summary = self._summarize(text, ds.name, end)
            yield from drift_records(self.product, ds.name, start, end, ds.model, summary,
                                     str(path), until)
            cells = window.shape[0] * window.shape[1]
            missing = float(window.isna().to_numpy().sum() / cells) if cells else 0.0
            quality = QualitySummary(len(window), window.shape[1], missing)
            yield from quality_records(self.product, ds.name, end, quality, changes)

    def _load(
        self, ds: DriftDataset, role: str, frame: FileFrame, params: Mapping[str, Any]
    ) -> pd.DataFrame:
        limits = self.settings
        try:
            return load_frame(
                frame, params=params,
                timeout=self.deadline.cap(limits.read_timeout.total_seconds()),
                connect_timeout=self.deadline.cap(limits.connect_timeout.total_seconds()),
            )
        except FrameError as e:
            raise self.fail(f"dataset {ds.name!r} {role}: {e}", retriable=e.retriable) from e

    def _columns(self, ds: DriftDataset, reference: pd.DataFrame, data: pd.DataFrame) -> list[str]:
        if ds.columns:
            missing = [c for c in ds.columns if c not in reference or c not in data]
            if missing:
                raise self.fail(
                    f"dataset {ds.name!r}: configured columns missing from reference or "
                    f"current data: {', '.join(missing)}"
                )
            return list(ds.columns)
        shared = [c for c in data.columns if c in reference.columns]
        if not shared:
            raise self.fail(f"dataset {ds.name!r}: reference and current share no column")
        return shared

    def _run_report(
        self,
        ds: DriftDataset,
        reference: pd.DataFrame,
        current: pd.DataFrame,
        start: datetime,
        end: datetime,
    ) -> Snapshot:
        from evidently import Report  # lazily: importing Evidently takes seconds
        from evidently.presets import DataDriftPreset

        report = Report(
            [DataDriftPreset(columns=list(current.columns))],
            metadata={
                "dataset": ds.name,
                "window_start": start.isoformat(),
                "window_end": end.isoformat(),
                "product": self.product,
                **({"model": ds.model} if ds.model else {}),
            },
            tags=["dspo", f"dataset:{ds.name}"],
            include_tests=True,
        )
        try:
            return report.run(
                current_data=current.reset_index(drop=True),
                reference_data=reference.reset_index(drop=True),
                timestamp=end.replace(tzinfo=None),  # Evidently keeps naive times
            )
        except ValueError as e:
            raise self.fail(f"dataset {ds.name!r} window ending {end:%Y-%m-%d}: {e}") from e

    def _save(self, snapshot: Snapshot, text: str, dataset: str, end: datetime) -> Path:
        folder = self.settings.reports_dir / self.product / dataset
        path = folder / f"{end:%Y-%m-%d}.json"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            write_atomically(path, text)
            if self.settings.save_html:
                html = path.with_suffix(".html")
                tmp = html.with_suffix(".html.tmp")
                snapshot.save_html(str(tmp))
                os.replace(tmp, html)
        except OSError as e:
            raise self.fail(f"cannot save report {path}: {e}") from e
        return path

    def _summarize(self, text: str, dataset: str, end: datetime) -> DriftSummary:
        """Read our own report through the import path, so both agree on every number."""
        try:
            return summarize(json.loads(text))
        except ReportFormatError as e:
            raise self.fail(f"dataset {dataset!r} window ending {end:%Y-%m-%d}: {e}") from e
