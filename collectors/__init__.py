"""Collectors: one module per source kind, each yielding `store.records` records."""

import os

# MLflow and Evidently are imported by collectors: opt out of their telemetry before they load.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "1")
