"""Throughput of the push API: metric points per second through `dspo serve` over HTTP.

Usage: .venv/bin/python benchmarks/push_api.py [--batches 20] [--batch-size 1000]
       [--store-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

Starts `dspo serve` on 127.0.0.1 with one push source (a fresh SQLite store unless
--store-url names another; on PostgreSQL it writes into a throwaway schema), then POSTs
`--batches` lists of `--batch-size` metric points (10 series, distinct times) one after
another over one keep-alive connection, and the same batches again (idempotent re-sends:
validated and compared, 0 rows written). Prints records/s and ms per request for both.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy import create_engine, text

from dspo.devserver import serving
from store.db import normalize_url

TOKEN = "benchmark-token-0123456789abcdef"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def batch(index: int, size: int) -> list[dict[str, Any]]:
    start = index * size
    return [
        {"name": "auc", "value": 0.8 + (i % 97) / 1000,
         "ts": (T0 + timedelta(minutes=start + i)).isoformat().replace("+00:00", "Z"),
         "labels": {"run_id": f"run-{i % 10}"}}
        for i in range(size)
    ]


@contextmanager
def store_url(given: str | None, folder: Path) -> Iterator[str]:
    """The store to serve: a SQLite file, or a throwaway schema of the given PostgreSQL."""
    if given is None:
        yield f"sqlite:///{folder / 'dspo.db'}"
        return
    schema = f"dspo_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalize_url(given))
    with admin.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = normalize_url(given).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def send(client: httpx.Client, url: str, batches: list[list[dict[str, Any]]]
         ) -> tuple[float, list[float], int]:
    """(seconds, per-request ms, rows written) for POSTing every batch in turn."""
    timings, rows = [], 0
    t0 = time.perf_counter()
    for body in batches:
        t = time.perf_counter()
        answer = client.post(url, json=body, headers={"Authorization": f"Bearer {TOKEN}"})
        answer.raise_for_status()
        rows += answer.json()["rows_written"]
        timings.append((time.perf_counter() - t) * 1000)
    return time.perf_counter() - t0, timings, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--store-url", default=None)
    args = parser.parse_args()
    batches = [batch(i, args.batch_size) for i in range(args.batches)]
    total = args.batches * args.batch_size
    with tempfile.TemporaryDirectory() as tmp, store_url(args.store_url, Path(tmp)) as url:
        config = Path(tmp) / "dspo.yaml"
        config.write_text(yaml.safe_dump({
            "store": {"url": url},
            "products": [{"key": "p", "name": "P"}],
            "sources": [{"name": "bench", "kind": "push", "product": "p", "token": TOKEN}],
        }))
        with serving(config, {}, Path(tmp) / "serve.log") as base, \
                httpx.Client(timeout=120) as client:
            endpoint = f"{base}api/v1/sources/bench/metrics"
            for label, expect_rows in (("first send", True), ("re-send", False)):
                seconds, ms, rows = send(client, endpoint, batches)
                assert (rows > 0) == expect_rows, rows
                print(f"{label:>10}: {total:,} points in {seconds:.2f} s = "
                      f"{total / seconds:,.0f} points/s; per request of {args.batch_size:,}: "
                      f"p50 {statistics.median(ms):.0f} ms, max {max(ms):.0f} ms; "
                      f"rows written {rows:,}")


if __name__ == "__main__":
    main()
