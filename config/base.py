"""Building blocks shared by every config model (`config/schema.py`, `config/alerting.py`).

They live apart so that the top-level schema can import the alerting models without a
circular import: both modules import from here, neither from the other's internals.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationInfo

Op = Literal[">=", ">", "<=", "<"]
KEY_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"


class Strict(BaseModel):
    """Unknown keys are errors: a typo in a YAML key must not silently do nothing."""

    model_config = ConfigDict(extra="forbid", frozen=True)


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(value: Any) -> Any:
    """'90s', '15m', '1h', '2d', '1w', or a number of seconds; anything else is left to
    pydantic's own timedelta parsing (ISO 8601 such as PT1H)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str) and (match := _DURATION.match(value)):
        return timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})
    return value


def format_duration(value: timedelta) -> str:
    """A duration as the YAML would write it: 0s, 90m, 7d (the inverse of parse_duration)."""
    seconds = int(value.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


BASE_DIR = "base_dir"
"""Key of the validation context holding the folder of the YAML file being loaded."""


def resolve_config_path(value: Any, info: ValidationInfo) -> Any:
    """A relative path in a YAML file means relative to that file, not to wherever dspo was
    started from (cron, systemd and containers all start elsewhere). `~` is expanded.
    Without a base folder in the context (settings built in code or tests) a path stays
    as given, so it is relative to the working directory as usual. Takes a path, None or
    a list of paths, so one validator serves the three aliases below."""
    if value is None:
        return None
    if isinstance(value, list):
        return [resolve_config_path(v, info) for v in value]
    path = Path(value).expanduser()
    base = info.context.get(BASE_DIR) if isinstance(info.context, dict) else None
    if base is None or path.is_absolute():
        return path
    return Path(base) / path


# The validator sits on the whole field type (not inside Optional/list) so that pydantic
# lifts it into the field's metadata and the field still reads as Path, Path | None or
# list[Path] (docs/configuration.md shows those).
ConfigPath = Annotated[Path, AfterValidator(resolve_config_path)]
"""A file or folder path of the config: resolved against the config file's folder."""
OptionalConfigPath = Annotated[Path | None, AfterValidator(resolve_config_path)]
ConfigPathList = Annotated[list[Path], AfterValidator(resolve_config_path)]
