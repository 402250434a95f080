"""`dspo users ...`: passwords shown once and kept only as hashes, sessions ended by role and
password changes, clear errors, every change in the audit log."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dashboard.auth.passwords import verify_password
from dspo.cli import app
from dspo.users import demo_users
from store.audit import audit_events
from store.db import Store
from store.people import find_user


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "dspo.yaml"
    path.write_text(f'store: {{url: "sqlite:///{tmp_path / "dspo.db"}"}}\n'
                    "products: [{key: churn, name: Churn}, {key: demand, name: Demand}]\n")
    return path


def store_of(config: Path) -> Store:
    return Store(f"sqlite:///{config.parent / 'dspo.db'}")


def run(config: Path, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["users", *args, "-c", str(config)], input=stdin)
    return result.exit_code, result.output


def test_add_prints_a_password_once_and_keeps_only_its_hash(config: Path) -> None:
    code, out = run(config, "add", "ana", "--role", "po", "-p", "churn", "--name", "Ana")
    assert code == 0, out
    password = re.search(r"password: (\S+)", out).group(1)  # type: ignore[union-attr]
    store = store_of(config)
    with store.session() as s:
        ana = find_user(s, "ana")
    assert ana is not None and ana.role == "po" and ana.products == ("churn",)
    assert ana.password_hash and password not in ana.password_hash
    assert verify_password(ana.password_hash, password)
    code, out = run(config, "list")
    assert re.search(r"ana\s+po\s+churn\s+local", out)


def test_a_password_from_stdin_is_not_printed(config: Path) -> None:
    code, out = run(config, "add", "ben", "--role", "admin", "--password-stdin",
                    stdin="correct-horse-battery\n")
    assert code == 0 and "correct-horse-battery" not in out
    with store_of(config).session() as s:
        ben = find_user(s, "ben")
    assert ben is not None and verify_password(ben.password_hash, "correct-horse-battery")


def test_role_and_password_changes_end_sessions(config: Path) -> None:
    run(config, "add", "ana", "--role", "po")
    with store_of(config).session() as s:
        first = find_user(s, "ana").session_version  # type: ignore[union-attr]
    assert run(config, "set-role", "ana", "stakeholder")[0] == 0
    code, out = run(config, "reset-password", "ana")
    assert code == 0 and re.search(r"new password for ana: \S{20}", out)
    with store_of(config).session() as s:
        ana = find_user(s, "ana")
    assert ana is not None and ana.role == "stakeholder"
    assert ana.session_version == first + 2  # one per change: every older session ends


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add", "ana", "--role", "boss"), "unknown role 'boss'"),
        (("set-role", "nobody", "po"), "no user 'nobody'"),
        (("remove", "nobody"), "no user 'nobody'"),
        (("reset-password", "nobody"), "no user 'nobody'"),
    ],
)
def test_mistakes_get_one_clear_line(config: Path, args: tuple[str, ...], message: str) -> None:
    code, out = run(config, *args)
    assert code == 1 and message in out and "Traceback" not in out


def test_a_taken_name_and_a_short_password_are_refused(config: Path) -> None:
    run(config, "add", "ana", "--role", "po")
    code, out = run(config, "add", "ana", "--role", "po")
    assert code == 1 and "user 'ana' exists already" in out
    code, out = run(config, "add", "bob", "--role", "po", "--password-stdin", stdin="short\n")
    assert code == 1 and "at least 12 characters" in out


def test_every_change_is_in_the_audit_log(config: Path) -> None:
    run(config, "add", "ana", "--role", "po")
    run(config, "set-role", "ana", "admin")
    run(config, "reset-password", "ana")
    run(config, "remove", "ana")
    events = audit_events(store_of(config))
    assert events["action"].tolist() == ["user-remove", "user-reset-password", "user-set-role",
                                         "user-add"]
    assert set(events["target"]) == {"ana"} and all(a.startswith("cli") for a in events["actor"])


def test_the_demo_users_get_new_passwords_each_start(config: Path) -> None:
    store = store_of(config)
    store.upgrade()
    first, second = demo_users(store), demo_users(store)
    assert [(u.username, u.role) for u in first] == [("po", "po"), ("stakeholder", "stakeholder")]
    assert first[0].password != second[0].password
    with store.session() as s:
        po = find_user(s, "po")
    assert po is not None and verify_password(po.password_hash, second[0].password)
    assert not verify_password(po.password_hash, first[0].password)
