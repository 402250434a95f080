"""Stakeholder KPI pages: what a PO publishes for the people who only need the numbers.

A page names its products, the objectives and usage KPIs it shows and who may open it;
the dashboard serves it at `/kpi/<slug>` to those stakeholders (and to share links a PO
makes), read-only and printable. What the page may show is fixed here, in the config, so a
stakeholder never reaches a number the PO did not choose to publish.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from pydantic import Field, field_validator

from config.base import KEY_PATTERN, Duration, Strict

if TYPE_CHECKING:
    from config.schema import ProductConfig

EVERY_STAKEHOLDER = "*"
MAX_PERIOD = timedelta(days=366)


class StakeholderPage(Strict):
    slug: str = Field(pattern=KEY_PATTERN,
                      description="The page's address: /kpi/<slug> (a-z, 0-9, _ . -).")
    title: str = Field(description="Shown at the top of the page and in the stakeholders' list.")
    audience: list[str] = Field(
        default_factory=list,
        description="Usernames of the stakeholders who may open the page; \"*\" is every "
        "stakeholder. POs of its products and admins always may; share links open it too.",
    )
    products: list[str] = Field(min_length=1, description="Keys of the products it shows.")
    objectives: list[str] = Field(
        default_factory=list,
        description="Names of the products' objectives shown, with their value, target, "
        "status and trend over the period.",
    )
    kpis: list[str] = Field(
        default_factory=list,
        description="Usage KPI names (sql_kpis queries, pushed usage) shown with their "
        "7-day mean against the target of the product's usage objective.",
    )
    period: Duration = Field(default=timedelta(days=28),
                             description="How far back the trends reach, e.g. 28d.")
    commentary: str = Field(
        default="", description="The PO's words for the readers, shown as plain text.")
    show_backlog: bool = Field(
        default=False,
        description="Also show sprint velocity and backlog progress; by default the page "
        "shows no backlog internals.",
    )
    listed: bool = Field(
        default=True,
        description="Listed on the stakeholders' home (/kpi/); an unlisted page opens only "
        "by its address.",
    )

    @field_validator("period")
    @classmethod
    def _period_in_range(cls, value: timedelta) -> timedelta:
        if value < timedelta(days=1) or value > MAX_PERIOD:
            raise ValueError("period must be between 1d and 366d")
        return value

    @field_validator("audience")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not name or name != name.strip():
                raise ValueError(f"{name!r} is not a username")
        return value

    def opens_for(self, username: str | None) -> bool:
        """Whether a stakeholder called `username` is in the audience."""
        return EVERY_STAKEHOLDER in self.audience or username in self.audience


def check_pages(pages: Sequence[StakeholderPage], products: Sequence[ProductConfig]) -> None:
    """What a page cannot check alone: unique slugs, its products exist, and every objective
    it names belongs to one of them. Raises ValueError naming the YAML path."""
    by_key = {p.key: p for p in products}
    seen: set[str] = set()
    for i, page in enumerate(pages):
        path = f"stakeholder_pages[{i}]"
        if page.slug in seen:
            raise ValueError(f"{path}.slug: duplicate {page.slug!r}")
        seen.add(page.slug)
        for j, key in enumerate(page.products):
            if key not in by_key:
                raise ValueError(f"{path}.products[{j}]: unknown product {key!r} "
                                 f"(known: {', '.join(by_key)})")
        names = {o.name for key in page.products for o in by_key[key].objectives}
        for j, name in enumerate(page.objectives):
            if name not in names:
                known = ", ".join(repr(n) for n in sorted(names)) or "none"
                raise ValueError(f"{path}.objectives[{j}]: no objective {name!r} in "
                                 f"{', '.join(page.products)} (known: {known})")
