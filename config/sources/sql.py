"""Settings of the sql_kpis source: usage KPIs from SQL against the product's database."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from config.base import KEY_PATTERN, Strict
from config.sources import SourceBase


class SqlKpiQuery(Strict):
    name: str = Field(pattern=KEY_PATTERN, description="KPI name, used by usage objectives.")
    sql: str = Field(description="SELECT returning columns ts and value.")
    unit: str = Field(default="", description="Unit shown next to the value.")


class SqlKpisSource(SourceBase):
    collector: ClassVar[str | None] = "collectors.sql_kpis:SqlKpisCollector"

    kind: Literal["sql_kpis"] = Field(description="Usage KPIs from SQL against product data.")
    url: str = Field(description="SQLAlchemy URL of the product database.")
    queries: list[SqlKpiQuery] = Field(min_length=1, description="One query per KPI.")
