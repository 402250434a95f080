"""dspo makes no call home, and neither may the libraries it drives."""

from __future__ import annotations

import os

NO_CALL_HOME = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"}


def disable_call_home() -> None:
    """Set the opt-outs MLflow and Evidently honour, unless the user set them already."""
    for name, value in NO_CALL_HOME.items():
        os.environ.setdefault(name, value)
