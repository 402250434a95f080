"""The rules of who may see which page and call which callback.

Every page declares its audience when it registers (`dash.register_page(..., access=...)`):
"po" (the default: POs and admins, for the products they look after), "admin", or
"stakeholder" (a KPI page, open to POs, admins, the stakeholders in its audience and its
share links). Every callback is registered through `callback(...)` below with the page it
belongs to and whether it changes anything; the guard refuses a callback nobody
registered, so a callback without a rule cannot slip through, and a test discovers every
callback from `/_dash-dependencies` and checks it is refused to the wrong people.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import dash

from dashboard.auth.principal import Principal

Access = Literal["po", "admin", "stakeholder", "shell", "public"]
ACTION_ROLES = frozenset({"po", "admin"})


@dataclass(frozen=True)
class Need:
    """What a callback (or page) requires: its page's audience, and whether it acts."""

    access: Access
    page: str = ""  # the page path; "" for the shell
    action: bool = False  # changes state: never for stakeholders or share links


NEEDS: dict[str, Need] = {}
"""Callback output spec (as Dash sends it in `output`) -> what calling it needs."""

ROUTER_OUTPUT = ".._pages_content.children..._pages_store.data.."
"""Dash's own page router: its need is the page its `pathname` input names."""


@dataclass(frozen=True)
class _Registration:
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    fn: Callable[..., Any]
    need: Need


_REGISTERED: list[_Registration] = []


def callback(*args: Any, access: Access = "po", page: str = "", action: bool = False,
             **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`dash.callback`, kept with its access rule until `attach_callbacks` adds it to an app.

    Not `dash.callback` itself: Dash hands its global callbacks to the first app that
    serves a request and clears them, so a second app in the same process (tests, a
    worker that builds its app again) had pages without callbacks.
    """
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        _REGISTERED.append(_Registration(args, kwargs, fn, Need(access, page, action)))
        return fn
    return register


def attach_callbacks(app: dash.Dash) -> None:
    """Every callback registered above, on `app`, with its need recorded for the guard."""
    for registration in _REGISTERED:
        before = len(app._callback_list)
        app.callback(*registration.args, **registration.kwargs)(registration.fn)
        for spec in app._callback_list[before:]:
            NEEDS[spec["output"]] = registration.need


def page_access(page: dict[str, Any]) -> Access:
    """The audience a registered page declared ("po" when it declared none)."""
    return page.get("access", "po")  # type: ignore[no-any-return]


def audience_allows(principal: Principal, audience: Iterable[str]) -> bool:
    """A stakeholder in a KPI page's audience ("*" is every stakeholder)."""
    names = set(audience)
    return principal.role == "stakeholder" and ("*" in names or principal.username in names)


def allows(principal: Principal, need: Need, *, stakeholder_page: str | None = None,
           audience: Iterable[str] = ()) -> bool:
    """Whether `principal` may use something that needs `need`.

    `stakeholder_page` is the KPI page asked for (its slug), with its `audience`.
    """
    if need.access == "public":
        return True
    if not principal.signed_in:
        return False
    if need.action and principal.role not in ACTION_ROLES:
        return False
    if need.access == "shell":
        return True
    if need.access == "admin":
        return principal.role == "admin"
    if need.access == "po":
        return principal.role in ACTION_ROLES
    # a stakeholder page
    if principal.role in ACTION_ROLES:
        return True
    if principal.kind == "share":
        return stakeholder_page is not None and principal.share_page == stakeholder_page
    return stakeholder_page is not None and audience_allows(principal, audience)
