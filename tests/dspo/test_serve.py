"""`dspo serve`: gunicorn by default, whose workers answer at once and share sign-ins, a
graceful stop on SIGTERM, and a refusal with the command to run when the store is not at
the newest schema (serve never migrates: that is `dspo db upgrade`, once per deployment)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gunicorn.config import Config
from typer.testing import CliRunner

from dspo import server
from dspo.cli import app
from dspo.devserver import free_port, wait_for_http
from dspo.users import add
from store.db import Store

PASSWORD = "correct-horse-battery"
DSPO = Path(sys.executable).parent / "dspo"
ENV = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Path, Store]]:
    """A config and its (never migrated) SQLite store."""
    store = Store(f"sqlite:///{tmp_path / 'dspo.db'}")
    config = tmp_path / "dspo.yaml"
    config.write_text(f'store: {{url: "{store.url}"}}\nproducts: [{{key: churn, name: Churn}}]\n')
    yield config, store
    store.dispose()


def test_an_old_schema_stops_serve_before_any_server_starts(world: tuple[Path, Store]) -> None:
    config, store = world
    store.upgrade("0006")
    head = store.head_revision()
    out = subprocess.run([str(DSPO), "serve", "-c", str(config), "--port", str(free_port())],
                         env=ENV, capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert (f"is at schema 0006, dspo needs {head}; run: dspo db upgrade -c {config}"
            in out.stderr)
    assert "dspo dashboard:" not in out.stdout and "gunicorn" not in out.stderr
    assert store.current_revision() == "0006"  # serve did not migrate


def test_an_empty_store_is_refused_until_db_upgrade(world: tuple[Path, Store]) -> None:
    config, store = world
    runner = CliRunner()
    refused = runner.invoke(app, ["serve", "-c", str(config)])
    assert refused.exit_code == 1
    assert f"has no dspo schema; run: dspo db upgrade -c {config}" in refused.output
    assert runner.invoke(app, ["db", "check", "-c", str(config)]).exit_code == 1
    assert runner.invoke(app, ["db", "upgrade", "-c", str(config)]).exit_code == 0
    checked = runner.invoke(app, ["db", "check", "-c", str(config)])
    assert checked.exit_code == 0, checked.output
    assert f"at revision {store.head_revision()} (newest)" in checked.output


@pytest.mark.parametrize(("cores", "workers"), [(1, 3), (2, 5), (3, 7), (4, 8), (64, 8)])
def test_default_workers_are_two_per_core_plus_one_at_most_eight(cores: int, workers: int
                                                                  ) -> None:
    assert server.default_workers(cores) == workers


def test_gunicorn_takes_every_setting_dspo_gives_it(world: tuple[Path, Store]) -> None:
    _, store = world
    settings = server.gunicorn_settings(server.Listen("::1", 8050, workers=3, threads=2), store)
    config = Config()
    for name, value in settings.items():
        config.set(name, value)  # an unknown name or a bad value raises
    assert config.bind == ["[::1]:8050"]
    assert (config.workers, config.threads) == (3, 2)
    assert config.worker_class_str == "DspoThreadWorker"
    assert config.forwarded_allow_ips == []  # dashboard.proxy_hops alone decides
    assert config.accesslog is None and config.preload_app and config.control_socket_disable


def test_waitress_where_gunicorn_cannot_run(monkeypatch: pytest.MonkeyPatch) -> None:
    assert server.production_server() == "gunicorn"
    monkeypatch.setitem(sys.modules, "gunicorn.app.base", None)  # as on Windows
    assert server.production_server() == "waitress"
    monkeypatch.setitem(sys.modules, "waitress", None)
    with pytest.raises(server.ServerUnavailable, match="pip install gunicorn"):
        server.production_server()


def test_waitress_serves_the_web_app(world: tuple[Path, Store]) -> None:
    from config.loader import load_config
    from dspo.web import create_web_app

    config, store = world
    store.upgrade()
    web = create_web_app(load_config(config), store)
    listen = server.Listen("127.0.0.1", free_port(), workers=1, threads=2)
    waitress = server.waitress_server(web.server, listen)
    thread = threading.Thread(target=waitress.run, daemon=True)
    thread.start()
    try:
        answer = httpx.get(listen.url + "login", timeout=30)
        assert answer.status_code == 200 and 'id="signin"' in answer.text
        assert answer.headers["server"] == "dspo"
    finally:
        waitress.close()
        thread.join(timeout=10)
    assert not thread.is_alive()


def _sign_in(url: str) -> httpx.Cookies:
    """Sign in through the form, each request on a new connection (any worker)."""
    form = httpx.get(url + "login", timeout=30)
    token = re.search(r'name="form_token" value="([^"]+)"', form.text)
    assert token, form.text
    answer = httpx.post(url + "login", cookies=form.cookies, timeout=30, data={
        "username": "ada", "password": PASSWORD, "form_token": token.group(1), "next": "/"})
    assert answer.status_code == 302 and "/login" not in answer.headers["location"]
    cookies = httpx.Cookies(form.cookies)
    cookies.update(answer.cookies)
    return cookies


def _signed_in_pages_served_by(log: Path) -> set[str]:
    """Pids of the workers the access log shows answering `/` with a page (200)."""
    return set(re.findall(r'"GET / HTTP/1.1" 200 \d+ \d+ms worker <(\d+)>', log.read_text()))


def _half_a_request(port: int) -> socket.socket:
    """A client that sent only part of its request and keeps the connection open."""
    slow = socket.create_connection(("127.0.0.1", port), timeout=30)
    slow.sendall(f"GET /login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode())
    return slow


def test_serve_runs_gunicorn_workers_that_answer_at_once_and_stop_on_sigterm(
        world: tuple[Path, Store], tmp_path: Path) -> None:
    config, store = world
    store.upgrade()
    add(store, "ada", "admin", password=PASSWORD)
    port, log = free_port(), tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(DSPO), "serve", "-c", str(config), "--port", str(port), "--workers", "2",
             "--threads", "2", "--access-log"],
            env=ENV, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for_http(url + "login", timeout=60, process=process)
        slow = _half_a_request(port)
        started = time.monotonic()
        assert httpx.get(url + "login", timeout=30).status_code == 200
        assert time.monotonic() - started < 10  # not queued behind the slow client
        slow.sendall(b"\r\n")
        assert slow.recv(64).startswith(b"HTTP/1.1 200")
        slow.close()

        cookies = _sign_in(url)
        for _ in range(60):  # new connections, until both workers have taken some
            page = httpx.get(url, cookies=cookies, timeout=30)
            assert page.status_code == 200, page.headers.get("location")
            if len(_signed_in_pages_served_by(log)) == 2:
                break

        with httpx.Client(timeout=30) as browser:  # keeps its connection open, idle
            assert browser.get(url + "login").headers["connection"] == "keep-alive"
            stopping = time.monotonic()
            os.kill(process.pid, signal.SIGTERM)
            assert process.wait(timeout=15) == 0
            assert time.monotonic() - stopping < 5
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    text = log.read_text()
    assert f"dspo dashboard: {url}  (gunicorn, 2 worker(s) x 2 threads" in text
    assert "development server" not in text.lower()
    workers = set(re.findall(r"Booting worker with pid: (\d+)", text))
    assert len(workers) == 2
    # one sign-in, pages from both workers: no worker keeps a session to itself
    assert _signed_in_pages_served_by(log) == workers
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists()
    assert "Shutting down: Master" in text
