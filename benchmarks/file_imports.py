"""Throughput of the file-based sources: an Evidently UI workspace and a Jira CSV export.

Usage: .venv/bin/python benchmarks/file_imports.py [--snapshots 500] [--items 5000]

Evidently: computes one real 0.7 snapshot (DataDriftPreset + DataSummaryPreset, 5 columns)
and writes it `--snapshots` times into a local workspace (two projects), each with its own
id and a day's timestamp, as a year of daily snapshots would look. Files: `--items` items
in Jira's CSV export columns with four status changes each in a changelog. Each source is
collected through the runner into a fresh SQLite store three times: cold (everything new),
again (nothing new: 0 rows), and after adding 1 % more. Prints records/s and seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from collectors.runner import run_sources
from config.schema import EvidentlySource, FilesSource
from config.sources import SourceBase
from store.db import Store

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def snapshot_text() -> str:
    from evidently import Report
    from evidently.presets import DataDriftPreset, DataSummaryPreset

    rng = np.random.default_rng(7)
    ref = pd.DataFrame({c: rng.normal(0, 1, 2000) for c in "abcde"})
    cur = pd.DataFrame({c: rng.normal(0.2, 1, 1000) for c in "abcde"})
    return str(Report([DataDriftPreset(), DataSummaryPreset()]).run(cur, ref).dumps())


def add_snapshots(root: Path, text: str, first: int, count: int) -> None:
    data = json.loads(text)
    for i in range(first, first + count):
        project = root / ("01a22900-0000-7000-8000-00000000000" + str(i % 2))
        (project / "snapshots").mkdir(parents=True, exist_ok=True)
        meta = project / "metadata.json"
        if not meta.exists():
            meta.write_text(json.dumps({"id": project.name, "name": f"Project {i % 2}"}))
        data["timestamp"] = (T0 + timedelta(days=i)).replace(tzinfo=None).isoformat()
        (project / "snapshots" / f"{uuid.uuid4()}.json").write_text(json.dumps(data))


def jira_export(folder: Path, items: int, first: int = 0) -> None:
    statuses = ["To Do", "In Progress", "In Review", "Done"]
    issues = folder / "issues.csv"
    changes = folder / "changelog.csv"
    if first == 0:
        issues.write_text("Issue key,Summary,Issue Type,Status,Created,Resolved,Sprint,"
                          "Labels,Custom field (Story Points)\n")
        changes.write_text("Issue key,Created,Field,fromString,toString\n")
    with issues.open("a") as f, changes.open("a") as g:
        for n in range(first, first + items):
            created = T0 + timedelta(hours=n)
            done = created + timedelta(days=3)
            f.write(f"ML-{n},Item {n},Story,Done,{created:%d/%b/%y %I:%M %p},"
                    f"{done:%d/%b/%y %I:%M %p},Sprint {n // 200},ml,3\n")
            for k in range(1, 4):
                at = created + timedelta(days=k)
                g.write(f"ML-{n},{at:%d/%b/%y %I:%M %p},status,{statuses[k - 1]},"
                        f"{statuses[k]}\n")


def measure(store: Store, source: SourceBase, label: str) -> None:
    t = time.perf_counter()
    [result] = run_sources(store, [source])
    seconds = time.perf_counter() - t
    assert result.ok, result.error
    rate = result.records / seconds if seconds else 0.0
    print(f"  {label:<22} {result.records:>7} records {result.rows:>7} rows "
          f"{seconds:6.2f} s  {rate:9,.0f} records/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--snapshots", type=int, default=500)
    parser.add_argument("--items", type=int, default=5000)
    args = parser.parse_args()
    os.environ.setdefault("DO_NOT_TRACK", "1")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        store = Store(f"sqlite:///{base / 'dspo.db'}")
        store.upgrade()
        text = snapshot_text()
        ws = base / "workspace"
        add_snapshots(ws, text, 0, args.snapshots)
        mb = sum(p.stat().st_size for p in ws.rglob("*.json")) / 1e6
        print(f"evidently workspace: {args.snapshots} snapshots, {mb:.0f} MB")
        drift = EvidentlySource(name="ui", product="p", kind="evidently",
                                reports_dir=base / "reports", workspaces=[{"path": ws}])
        measure(store, drift, "cold")
        measure(store, drift, "again, nothing new")
        add_snapshots(ws, text, args.snapshots, max(1, args.snapshots // 100))
        measure(store, drift, "1 % new")
        jira_export(base, args.items)
        print(f"files: {args.items} items, {3 * args.items} changelog rows")
        files = FilesSource(name="jira", product="p", kind="files", items=base / "issues.csv",
                            history=base / "changelog.csv")
        measure(store, files, "cold")
        measure(store, files, "again, nothing new")
        jira_export(base, max(1, args.items // 100), first=args.items)
        measure(store, files, "1 % new")
        store.dispose()


if __name__ == "__main__":
    main()
