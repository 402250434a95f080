"""Reads the log: each line {"pipeline", "run_id", "state", "start", "end"} is one run.

The whole file is read each time (a log is small, and upserts by run id make a re-read
write nothing); a bad line fails the run naming the file and the line, and the store keeps
what it had.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime

from collectors.base import Collector
from dspo_jsonl_runs.settings import JsonlRunsSource
from store.records import PipelineRun, PipelineState, Record, utc

STATES = {s.value: s for s in PipelineState}


class JsonlRunsCollector(Collector[JsonlRunsSource]):
    kind = "jsonl_runs"

    @property
    def where(self) -> str:
        return str(self.settings.path)

    def collect(self, since: datetime | None, until: datetime) -> Iterator[Record]:
        try:
            lines = self.settings.path.read_text(encoding="utf-8").splitlines()
        except OSError as e:
            raise self.fail(f"cannot read: {e.strerror}") from e
        for number, line in enumerate(lines, start=1):
            if line.strip():
                yield self._run(number, line)

    def _run(self, number: int, line: str) -> PipelineRun:
        try:
            row = json.loads(line)
            return PipelineRun(
                product=self.product, system=self.settings.system, pipeline=row["pipeline"],
                run_id=str(row["run_id"]), state=STATES[row["state"]],
                start=utc(datetime.fromisoformat(row["start"])),
                end=utc(datetime.fromisoformat(row["end"])) if row.get("end") else None,
            )
        except (ValueError, KeyError, TypeError) as e:
            raise self.fail(f"line {number}: {type(e).__name__}: {e}") from e
