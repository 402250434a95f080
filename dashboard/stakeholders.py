"""Which stakeholder KPI pages a principal may open, and which its home lists.

The guard lets POs and admins reach every KPI page path and checks stakeholders against
the page's audience and share links against their one page (`dashboard.auth.access`).
What it cannot know is a page's products: a PO may open only the pages of products they
look after, so the page, its share panel and its export ask `may_open` too.
"""

from __future__ import annotations

from config.schema import DspoConfig
from config.stakeholders import StakeholderPage
from dashboard.auth.access import ACTION_ROLES
from dashboard.auth.principal import Principal


def may_open(principal: Principal, page: StakeholderPage) -> bool:
    if principal.kind == "share":
        return principal.share_page == page.slug
    if principal.kind != "user":
        return False
    if principal.role in ACTION_ROLES:
        return all(principal.sees_product(key) for key in page.products)
    return principal.role == "stakeholder" and page.opens_for(principal.username)


def may_share(principal: Principal, page: StakeholderPage) -> bool:
    """POs of all the page's products and admins make and revoke its share links."""
    return principal.kind == "user" and principal.role in ACTION_ROLES \
        and may_open(principal, page)


def listed_pages(principal: Principal, config: DspoConfig) -> list[StakeholderPage]:
    """The home's list: a share link's own page; a stakeholder's listed pages; every page
    of a PO's products (unlisted ones too: they made them)."""
    pages = [p for p in config.stakeholder_pages if may_open(principal, p)]
    if principal.kind == "user" and principal.role == "stakeholder":
        return [p for p in pages if p.listed]
    return pages
