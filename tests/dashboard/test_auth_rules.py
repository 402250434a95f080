"""The pure parts of access: who may use what, how long a guessed password must wait, and
how passwords are kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dashboard.auth.access import Need, allows
from dashboard.auth.passwords import hash_password, new_password, verify_password
from dashboard.auth.principal import ANONYMOUS, Principal
from dashboard.auth.throttle import MAX_WAIT, wait_needed

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
ADMIN = Principal("user", "ada", "admin")
PO = Principal("user", "ana", "po", ("churn",))
PO_ALL = Principal("user", "ben", "po")
SAM = Principal("user", "sam", "stakeholder")
SHARE = Principal("share", share_page="board-q1", shared_by="ana", share_id="x1")


@pytest.mark.parametrize(
    ("principal", "need", "slug", "audience", "allowed"),
    [
        (ANONYMOUS, Need("po", "/sprint"), None, (), False),
        (ANONYMOUS, Need("shell"), None, (), False),
        (ANONYMOUS, Need("public"), None, (), True),
        (PO, Need("po", "/sprint"), None, (), True),
        (PO, Need("po", "/alerts", action=True), None, (), True),
        (PO, Need("admin", "/admin"), None, (), False),
        (ADMIN, Need("admin", "/admin"), None, (), True),
        (SAM, Need("po", "/sprint"), None, (), False),
        (SAM, Need("shell"), None, (), True),
        (SAM, Need("stakeholder", "/kpi/<slug>"), "board-q1", ("sam",), True),
        (SAM, Need("stakeholder", "/kpi/<slug>"), "board-q1", ("*",), True),
        (SAM, Need("stakeholder", "/kpi/<slug>"), "board-q1", ("lee",), False),
        (SAM, Need("stakeholder", "/kpi/<slug>", action=True), "board-q1", ("sam",), False),
        (SHARE, Need("stakeholder", "/kpi/<slug>"), "board-q1", (), True),
        (SHARE, Need("stakeholder", "/kpi/<slug>"), "board-q2", ("*",), False),
        (SHARE, Need("po", "/overview"), None, (), False),
        (PO, Need("stakeholder", "/kpi/<slug>"), "board-q1", (), True),
    ],
    ids=["anon-page", "anon-shell", "public", "po-page", "po-action", "po-admin",
         "admin-admin", "stakeholder-po-page", "stakeholder-shell", "stakeholder-audience",
         "stakeholder-everyone", "stakeholder-not-in-audience", "stakeholder-action",
         "share-its-page", "share-another-page", "share-po-page", "po-kpi-page"],
)
def test_who_may_use_what(principal: Principal, need: Need, slug: str | None,
                          audience: tuple[str, ...], allowed: bool) -> None:
    assert allows(principal, need, stakeholder_page=slug, audience=audience) is allowed


def test_a_po_sees_their_products_an_admin_all() -> None:
    assert PO.sees_product("churn") and not PO.sees_product("demand")
    assert PO_ALL.sees_product("demand") and ADMIN.sees_product("demand")
    assert not SAM.sees_product("churn") and not SHARE.sees_product("churn")


@pytest.mark.parametrize(
    ("failures", "wait"),
    [
        # after four failures the fifth attempt is free
        (4, timedelta(0)),
        # after the 5th failure the next attempt waits 2 s, after the 6th 4 s, the 7th 8 s
        (5, timedelta(seconds=2)),
        (6, timedelta(seconds=4)),
        (7, timedelta(seconds=8)),
        # after 15: 2 ** 11 = 2048 s would exceed the cap of 15 minutes
        (15, MAX_WAIT),
    ],
)
def test_repeated_failures_wait_twice_as_long_each_time(failures: int, wait: timedelta) -> None:
    times = [NOW - timedelta(seconds=failures - i) for i in range(failures)]  # last at NOW-1s
    expected = max(timedelta(0), wait - timedelta(seconds=1)) if wait else timedelta(0)
    assert wait_needed(times, NOW) == expected


def test_a_wait_runs_out() -> None:
    times = [NOW - timedelta(minutes=10)] * 6  # 6 failures: 2 s wait, long past
    assert wait_needed(times, NOW) == timedelta(0)


def test_passwords_are_argon2_hashes_that_verify() -> None:
    password = new_password()
    assert len(password) == 20
    hashed = hash_password(password)
    assert hashed.startswith("$argon2id$") and password not in hashed
    assert verify_password(hashed, password)
    assert not verify_password(hashed, password + "x")
    assert not verify_password("not-a-hash", password) and not verify_password(None, password)
    with pytest.raises(ValueError, match="at least 12"):
        hash_password("short")
