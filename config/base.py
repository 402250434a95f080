"""Building blocks shared by every config model (`config/schema.py`, `config/alerting.py`).

They live apart so that the top-level schema can import the alerting models without a
circular import: both modules import from here, neither from the other's internals.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Op = Literal[">=", ">", "<=", "<"]
KEY_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"


class Strict(BaseModel):
    """Unknown keys are errors: a typo in a YAML key must not silently do nothing."""

    model_config = ConfigDict(extra="forbid", frozen=True)
