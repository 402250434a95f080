"""One example payload per record kind: the curl examples of docs/push-api.md.

The OpenAPI document carries them as request examples, and the tests send exactly these
to a running server and check that docs/push-api.md shows the same bodies, so the
documented commands are known to work.
"""

from __future__ import annotations

from typing import Any

PIPELINE_RUN: dict[str, Any] = {
    "run_id": "churn-scoring#4711",
    "pipeline": "churn-scoring",
    "state": "failed",
    "start": "2026-03-02T06:00:00Z",
    "end": "2026-03-02T06:12:30Z",
    "trigger": "timer",
    "run_type": "scheduled",
    "attempt": 1,
    "branch": "main",
    "url": "https://jenkins.example.com/job/churn-scoring/4711/",
    "detail": {"result": "FAILURE"},
    "tasks": [
        {"task_id": "extract", "state": "success", "start": "2026-03-02T06:00:05Z",
         "end": "2026-03-02T06:04:00Z"},
        {"task_id": "score", "state": "failed", "start": "2026-03-02T06:04:01Z",
         "end": "2026-03-02T06:12:29Z", "try_number": 2},
    ],
}

DEPLOYMENT: dict[str, Any] = {
    "model": "churn-clf",
    "alias": "production",
    "version": "7",
    "at": "2026-03-02T14:30:00+01:00",
    "run_id": "sagemaker-train-2026-03-01",
}

METRIC_POINTS: list[dict[str, Any]] = [
    {"name": "auc", "value": 0.861, "ts": "2026-03-02T07:00:00Z",
     "labels": {"run_id": "sagemaker-train-2026-03-01"}},
    {"name": "auc", "value": 0.853, "ts": "2026-03-03T07:00:00Z",
     "labels": {"run_id": "sagemaker-train-2026-03-01"}},
    {"name": "dau", "kind": "usage", "value": 1312, "ts": "2026-03-02T00:00:00Z",
     "unit": "users"},
]

DRIFT_REPORT: dict[str, Any] = {
    "dataset": "churn-features",
    "window_start": "2026-02-23T00:00:00Z",
    "window_end": "2026-03-02T00:00:00Z",
    "dataset_drift": True,
    "model": "churn-clf",
    "features": [
        {"column": "tenure_months", "method": "ks", "score": 0.003, "threshold": 0.05,
         "drifted": True},
        {"column": "monthly_charges", "method": "psi", "score": 0.04, "threshold": 0.1,
         "drifted": False},
    ],
}

BACKLOG_ITEM: dict[str, Any] = {
    "key": "ML-142",
    "title": "Retrain churn model on February data",
    "type": "Story",
    "status": "In Progress",
    "points": 5,
    "sprint": "Sprint 12",
    "created": "2026-02-20T10:00:00Z",
    "labels": ["retraining"],
    "history": [
        {"ts": "2026-02-20T10:00:00Z", "field": "status", "from": None, "to": "To Do"},
        {"ts": "2026-02-24T09:30:00Z", "field": "status", "from": "To Do",
         "to": "In Progress"},
    ],
}
