"""Reports dspo did not compute: files in `import_dirs` and Evidently UI workspaces.

Imported files (`import_dirs`, searched recursively for `*.json`)
    Evidently 0.7 results (`save_json()`/`json()`), 0.7 snapshots (`dumps()`), legacy
    reports and legacy snapshots (`evidently_reports` reads them all). A file that is not
    valid JSON, holds neither drift nor data quality, or names no dataset fails the run
    with its path, so the team sees it instead of a silent gap.

Workspaces (`workspaces`)
    A local Evidently UI workspace is read on disk, as Evidently's own file storage lays
    it out (0.7 `ui/service/storage/local`): one folder per project holding
    `metadata.json` ({id, name, ...}) and `snapshots/<uuid>.json`; other files (datasets,
    dashboards, `*.links.json`) are not reports. No Evidently import (seconds) and no
    write to the team's workspace. A path may also be one project's folder. A workspace
    holds every kind of report: snapshots with neither drift nor data quality (model
    quality, LLM evals) are skipped, not errors.

Identity (first found wins)
    dataset: the workspace entry's `dataset`; the report's metadata `dataset`; a tag
    `dataset:<name>`; then the file name `<dataset>__<window_start>__<window_end>.json`
    (imports) or the project's name as a slug (workspaces). Window: metadata
    `window_start`/`window_end`, the file name's, else the report's timestamp as the end
    (a missing start equals the end). Model: the entry's `model`, metadata `model`, a tag
    `model:<name>`, then the `datasets` entry of the same name. Times without an offset
    are in the source's `timezone`.

What was imported is remembered by content, not by modification time
    A copied file keeps its old mtime (`cp -p`, `rsync -a`, `tar`), so an mtime watermark
    misses it. The ledger `reports_dir/.dspo/imports-<source>.json` records, per file,
    the SHA-256 of its bytes and `seen`, the start of the run that first yielded that
    content (stamped later than the run's `since`). A run yields a file unless the ledger
    holds the same content with `seen <= since`: `since` is the start of the last run
    whose records were committed, so such content is in the store. A run that fails after
    yielding leaves `seen > since`, and the next run yields it again (upserts make that
    free). File stats (size, mtime, ctime, inode) only save re-hashing unchanged files; a
    lost ledger means one full re-read. Deleting the ledger re-imports everything.

Links and deletions
    Each imported report is copied (atomically) to
    `reports_dir/<product>/<dataset>/imported/`, and the store links to the copy, because
    the dashboard serves only files under `reports_dir`. The copy is the report JSON as
    saved: dspo does not render imported reports as HTML (Evidently inlines the report's
    text into a `<script>` without escaping, so a report dspo did not compute could run
    script on the dashboard's origin); JSON is served as `application/json`. A report file
    deleted at the source keeps its rows and its copy: a deleted file is not a deleted
    measurement (drift measured last March did happen).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from collectors.evidently_reports import (
    DriftSummary,
    QualitySummary,
    ReportContent,
    ReportFormatError,
    parse_time,
    read_report,
)
from config.sources.evidently import EvidentlyWorkspace
from store.records import DataQuality, DriftReport, Record

if TYPE_CHECKING:
    from collectors.evidently_drift import EvidentlyCollector

log = logging.getLogger(__name__)

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
LEDGER_VERSION = 1


@dataclass(frozen=True)
class Found:
    """A report file to consider, and what its location says about it."""

    path: Path
    snapshot_id: str | None = None  # set for a workspace snapshot, None for an imported file
    dataset: str | None = None  # configured (workspace entry)
    model: str | None = None  # configured (workspace entry)
    project: str | None = None  # workspace project name: the last dataset fallback


@dataclass(frozen=True)
class Entry:
    """What the ledger remembers of one file."""

    stat: tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode
    sha256: str
    seen: str  # ISO start of the run that first yielded this content
    copy: str | None  # dspo's copy; None for a snapshot that is not a drift/quality report


@dataclass(frozen=True)
class Project:
    id: str
    name: str
    folder: Path


# ---------------------------------------------------------------- records of a report


def drift_records(
    product: str, dataset: str, start: datetime, end: datetime, model: str | None,
    s: DriftSummary, path: str, computed_at: datetime,
) -> Iterator[Record]:
    """A drift report, the same for computed and imported. Its share is stored once, in the
    report: health signals and pages read it there (`store.signals`)."""
    yield DriftReport(
        product, dataset, start, end, dataset_drift=s.dataset_drift,
        drifted_share=s.drifted_share, drifted_count=s.drifted_count,
        column_count=s.column_count, features=s.features, model=model, report_path=path,
        computed_at=computed_at,
    )


def quality_records(
    product: str, dataset: str, ts: datetime, q: QualitySummary,
    schema_changes: tuple[str, ...] = (),
) -> Iterator[Record]:
    """A window's data quality, stored once (its rows also tell whether the window's drift
    report had enough data to judge)."""
    yield DataQuality(product, dataset, ts, rows=q.rows, columns=q.columns,
                      missing_share=q.missing_share, schema_changes=schema_changes)


# ---------------------------------------------------------------- workspace layout


def workspace_projects(ws: EvidentlyWorkspace) -> list[Project]:
    """The projects a workspace entry selects; ValueError says what is wrong."""
    root = ws.path
    if not root.is_dir():
        raise ValueError(f"workspace {root} does not exist or is not a folder")
    if (root / "metadata.json").is_file():  # the path is one project's folder
        projects = [_project(root)]
    else:
        projects = [_project(d) for d in sorted(root.iterdir())
                    if d.is_dir() and (d / "metadata.json").is_file()]
    if ws.project is not None:
        wanted = ws.project.strip().lower()
        projects = [p for p in projects if wanted in (p.id.lower(), p.name.strip().lower())]
        if not projects:
            raise ValueError(f"workspace {root} has no project named or with id "
                             f"{ws.project!r}")
        if len(projects) > 1:
            raise ValueError(f"workspace {root}: {len(projects)} projects are named "
                             f"{ws.project!r} ({', '.join(p.id for p in projects)}): give "
                             "the id")
    if ws.dataset is not None and len(projects) > 1:
        raise ValueError(f"workspace {root}: dataset {ws.dataset!r} for {len(projects)} "
                         "projects would merge their reports: set project too")
    return projects


def _project(folder: Path) -> Project:
    path = folder / "metadata.json"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"project metadata {path}: {e}") from e
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str):
        raise ValueError(f"project metadata {path}: no project name")
    return Project(str(meta.get("id") or folder.name), meta["name"], folder)


def project_snapshots(ws: EvidentlyWorkspace, project: Project) -> list[Found]:
    folder = project.folder / "snapshots"
    if not folder.is_dir():
        return []
    return [
        Found(path, snapshot_id=path.stem, dataset=ws.dataset, model=ws.model,
              project=project.name)
        for path in sorted(folder.glob("*.json"))
        if UUID.match(path.stem)  # as Evidently: `<id>.links.json` and others are not runs
    ]


def import_files(folder: Path, skip: Path) -> list[Found]:
    """Report files of an import folder, leaving out dspo's own (under `skip`)."""
    return [Found(p) for p in sorted(folder.rglob("*.json")) if not p.is_relative_to(skip)]


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9_.-]+", "-", name.strip().lower()).strip("-") or "project"


# ---------------------------------------------------------------- the ledger


class Ledger:
    """Content hashes of the files this source has yielded, and when (see module doc)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.old: dict[str, Entry] = {}
        self.new: dict[str, Entry] = {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("version") == LEDGER_VERSION:
                self.old = {k: Entry(tuple(v["stat"]), v["sha256"], v["seen"], v["copy"])
                            for k, v in data["entries"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            self.old = {}  # no ledger (first run) or an unreadable one: read everything again

    def save(self) -> None:
        data = {"version": LEDGER_VERSION,
                "entries": {k: asdict(v) for k, v in sorted(self.new.items())}}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(self.path, json.dumps(data, indent=1))


def write_atomically(path: Path, text: str) -> None:
    """A run that dies mid-write must not leave a truncated file behind a link."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# ---------------------------------------------------------------- the importer


class ReportImporter:
    """Yields the records of every report not yet known to be in the store."""

    def __init__(self, collector: EvidentlyCollector, tz: tzinfo) -> None:
        self.c = collector
        self.settings = collector.settings
        self.tz = tz
        self.models = {d.name: d.model for d in self.settings.datasets}
        self.ledger = Ledger(self.settings.reports_dir / ".dspo" / f"imports-{collector.name}.json")

    def collect(self, since: datetime | None, until: datetime) -> Iterator[Record]:
        stamp = until if since is None else max(until, since + timedelta(microseconds=1))
        for found in self._found():
            yield from self._one(found, since, stamp)
        try:
            self.ledger.save()
        except OSError as e:
            raise self.c.fail(f"cannot save import ledger {self.ledger.path}: {e}") from e

    def _found(self) -> Iterator[Found]:
        skip = self.settings.reports_dir.resolve()
        for folder in self.settings.import_dirs:
            if not folder.is_dir():
                raise self.c.fail(f"import dir {folder} does not exist or is not a folder")
            yield from import_files(folder, skip)
        for ws in self.settings.workspaces:
            try:
                projects = workspace_projects(ws)
            except ValueError as e:
                raise self.c.fail(str(e)) from e
            for project in projects:
                yield from project_snapshots(ws, project)

    def _one(self, found: Found, since: datetime | None, stamp: datetime) -> Iterator[Record]:
        key = str(found.path.resolve())
        try:
            st = found.path.stat()
            stat = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
            old = self.ledger.old.get(key)
            raw = None if old is not None and old.stat == stat else found.path.read_bytes()
            sha = old.sha256 if raw is None and old is not None else _sha(raw)
            if old is not None and old.sha256 == sha and self._known(old, since):
                self.ledger.new[key] = replace(old, stat=stat)
                return
            raw = found.path.read_bytes() if raw is None else raw
            content = read_report(json.loads(raw), self.tz)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, ReportFormatError) as e:
            raise self.c.fail(f"report {found.path}: {e}{_workspace_hint(found)}") from e
        seen = old.seen if old is not None and old.sha256 == sha else stamp.isoformat()
        if content.drift is None and content.quality is None:
            if found.snapshot_id is None:  # a file put in an import dir must be a report
                raise self.c.fail(
                    f"report {found.path}: no drift (DriftedColumnsCount, ValueDrift) or "
                    "data quality (RowCount with DatasetMissingValueCount) metric: not a "
                    "drift report"
                )
            log.info("source %s: %s has no drift or data quality: skipped", self.c.name,
                     found.path)
            self.ledger.new[key] = Entry(stat, sha, seen, None)
            return
        records, copy = self._records(found, content, raw, sha)
        self.ledger.new[key] = Entry(stat, sha, seen, str(copy))
        yield from records

    @staticmethod
    def _known(old: Entry, since: datetime | None) -> bool:
        """Committed already: seen by a run no later than the last committed one."""
        if old.copy is None:
            return True  # not a report: nothing to import while it is unchanged
        if since is None or not Path(old.copy).is_file():
            return False
        return datetime.fromisoformat(old.seen) <= since

    def _records(
        self, found: Found, content: ReportContent, raw: bytes, sha: str
    ) -> tuple[list[Record], Path]:
        try:
            dataset, start, end, model = self._identity(found, content)
        except ReportFormatError as e:
            raise self.c.fail(f"report {found.path}: {e}") from e
        copy = self._copy(found, dataset, raw, sha)
        product = self.c.product
        records: list[Record] = []
        if content.drift is not None:
            records += drift_records(product, dataset, start, end, model, content.drift,
                                     str(copy), content.timestamp or end)
        if content.quality is not None:
            records += quality_records(product, dataset, end, content.quality)
        return records, copy

    def _identity(
        self, found: Found, content: ReportContent
    ) -> tuple[str, datetime, datetime, str | None]:
        """Dataset, window and model (order of precedence in the module doc)."""
        meta, tags = content.metadata, _tag_values(content.tags)
        parts = found.path.stem.split("__")
        named = found.snapshot_id is None and len(parts) == 3 and all(parts)
        dataset = (found.dataset or _text(meta.get("dataset")) or tags.get("dataset")
                   or (parts[0] if named else None)
                   or (slug(found.project) if found.project else None))
        if dataset is None:
            raise ReportFormatError(
                "no dataset: save the report with metadata {'dataset', 'window_start', "
                "'window_end'} via snapshot.dumps(), or name the file "
                "<dataset>__<window_start>__<window_end>.json"
            )
        end = (parse_time(meta.get("window_end"), self.tz)
               or (parse_time(parts[2], self.tz) if named else None) or content.timestamp)
        start = (parse_time(meta.get("window_start"), self.tz)
                 or (parse_time(parts[1], self.tz) if named else None))
        if end is None:
            raise ReportFormatError("no window end in metadata, file name or report timestamp")
        start = start or end
        if start > end:
            raise ReportFormatError(f"window start {start} is after window end {end}")
        model = (found.model or _text(meta.get("model")) or tags.get("model")
                 or self.models.get(dataset))
        return dataset, start, end, model

    def _copy(self, found: Found, dataset: str, raw: bytes, sha: str) -> Path:
        name = found.snapshot_id or f"{found.path.stem}-{sha[:12]}"
        folder = self.settings.reports_dir / self.c.product / dataset / "imported"
        path = folder / f"{name}.json"
        try:
            if not (path.is_file() and _sha(path.read_bytes()) == sha):
                folder.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".json.tmp")
                tmp.write_bytes(raw)
                os.replace(tmp, path)
        except OSError as e:
            raise self.c.fail(f"cannot copy report {found.path} to {path}: {e}") from e
        return path


def _workspace_hint(found: Found) -> str:
    """An import dir pointed at an Evidently workspace trips on one of its other files."""
    if found.snapshot_id is not None:
        return ""
    for project in list(found.path.parents)[:4]:
        if (project / "metadata.json").is_file() and (project / "snapshots").is_dir():
            return (f" ({project.parent} looks like an Evidently UI workspace: list it "
                    "under workspaces, not import_dirs)")
    return ""


def _sha(raw: bytes | None) -> str:
    return hashlib.sha256(raw or b"").hexdigest()


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _tag_values(tags: tuple[str, ...]) -> Mapping[str, str]:
    """{'dataset': 'orders'} from a tag 'dataset:orders' (the first of each wins)."""
    found: dict[str, str] = {}
    for tag in tags:
        name, sep, value = tag.partition(":")
        if sep and value.strip():
            found.setdefault(name.strip().lower(), value.strip())
    return found
