"""The servers `dspo serve` runs the web app under.

gunicorn by default (Linux, macOS): several worker processes, each with a few threads.
waitress where gunicorn cannot run (Windows): one process, many threads. Werkzeug's
development server only when asked (`--dev`), never by default: it warns that it is not
for production, and it is right.

The app is built once, before any worker starts (gunicorn's `preload_app`): a bad config
or an old schema stops `dspo serve` with one line instead of every worker failing to boot,
and workers fork in milliseconds instead of each importing Dash. Nothing a worker keeps in
memory is needed by another: sessions, CSRF and sign-in state live in signed cookies, the
signing key and everything else in the store. The store's pool is emptied before the
workers fork, so no worker inherits another's database connection.

Threads: a PDF or PNG export renders the page through this same server while the export's
request waits, so a worker needs at least two threads or that export waits on itself.
"""

from __future__ import annotations

import gc
import logging
import os
import shlex
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dash import Dash

    from store.db import Store

MAX_DEFAULT_WORKERS = 8
DEFAULT_THREADS = 4
MIN_THREADS = 2
# Client, request line, status, bytes, milliseconds, worker pid: one short line per request.
ACCESS_LOG_FORMAT = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms worker %(p)s'
WSGIApp = Callable[..., Any]


class ServerUnavailable(RuntimeError):
    """No production server can run here; the message says what to install."""


@dataclass(frozen=True)
class Listen:
    """Where and how wide to serve."""

    host: str
    port: int
    workers: int
    threads: int = DEFAULT_THREADS
    access_log: bool = False

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"


def upgrade_command(config: Path) -> str:
    """The command that migrates the store of `config`, as a user would type it."""
    return f"dspo db upgrade -c {shlex.quote(str(config))}"


def usable_cores() -> int:
    """Cores this process may run on (a container's cpuset, not the host's count)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def default_workers(cores: int) -> int:
    """gunicorn's usual 2 x cores + 1, capped at 8 on big hosts: each worker holds its own
    copy of the app's memory once it runs, and `--workers` asks for more."""
    return max(1, min(2 * cores + 1, MAX_DEFAULT_WORKERS))


def production_server() -> str:
    """'gunicorn' where it imports (not on Windows), else 'waitress'."""
    try:
        import gunicorn.app.base  # noqa: F401
    except ImportError:
        pass
    else:
        return "gunicorn"
    try:
        import waitress  # noqa: F401
    except ImportError:
        raise ServerUnavailable(
            "no production server installed: pip install gunicorn (Linux, macOS) or "
            "waitress (Windows); or serve with --dev for development"
        ) from None
    return "waitress"


def thread_worker() -> type:
    """gunicorn's threaded worker, stopping in seconds even with idle keep-alive clients.

    After SIGTERM, gunicorn 26's gthread worker waits for socket events with the whole
    remaining grace period (30 s) as timeout and closes expired keep-alive connections
    only between waits: one idle browser tab kept it alive for the full 30 s (measured).
    Waiting at most a second at a time lets it close them after `keepalive` (2 s), while
    requests still in flight keep the whole grace period. Ctrl+C: see `init_signals`.
    """
    from gunicorn.workers.gthread import ThreadWorker

    class DspoThreadWorker(ThreadWorker):  # type: ignore[misc]
        def wait_for_and_dispatch_events(self, timeout: float) -> None:
            super().wait_for_and_dispatch_events(min(timeout, 1.0))

        def init_signals(self) -> None:
            """Leave Ctrl+C to the master, which sends each worker one SIGQUIT: Ctrl+C
            reaches the whole process group, and a worker quitting on both signals at
            once hung on its own thread pool's lock (1 stop in 8, measured)."""
            super().init_signals()
            signal.signal(signal.SIGINT, signal.SIG_IGN)

        def handle_quit(self, sig: int, frame: object) -> None:
            """The quick stop (SIGQUIT from the master) exits at once: gunicorn's own
            `sys.exit` waits at interpreter exit for every request thread, so a thread
            still busy held the stop until the grace period's SIGKILL."""
            self.alive = False
            self.tpool.shutdown(wait=False, cancel_futures=True)
            self.log.info("Worker quitting (pid: %s)", self.pid)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)

    return DspoThreadWorker


def gunicorn_settings(listen: Listen, store: Store) -> dict[str, Any]:
    """gunicorn's settings for `dspo serve`.

    `forwarded_allow_ips` is empty because `dashboard.proxy_hops` alone decides which
    X-Forwarded-* headers count (docs/security.md), whatever the server; the control
    socket is off because its default path is one per user, shared by every server the
    user starts.
    """
    settings: dict[str, Any] = {
        "bind": [listen.url.removeprefix("http://").rstrip("/")],
        "workers": listen.workers,
        "threads": listen.threads,
        "worker_class": thread_worker(),
        "preload_app": True,
        "proc_name": "dspo",
        "accesslog": "-" if listen.access_log else None,
        "access_log_format": ACCESS_LOG_FORMAT,
        "errorlog": "-",
        "loglevel": "info",
        "forwarded_allow_ips": "",
        "control_socket_disable": True,
        "post_fork": lambda _arbiter, _worker: store.engine.dispose(close=False),
    }
    if os.path.isdir("/dev/shm"):  # heartbeat files off a container's slow overlay disk
        settings["worker_tmp_dir"] = "/dev/shm"
    return settings


def run_gunicorn(app: WSGIApp, store: Store, listen: Listen) -> None:
    """Serve `app` under gunicorn until SIGTERM or SIGINT (gunicorn's graceful stop: in-flight
    requests finish, for up to 30 s)."""
    from gunicorn.app.base import BaseApplication

    settings = gunicorn_settings(listen, store)

    class DspoApplication(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for name, value in settings.items():
                self.cfg.set(name, value)

        def load(self) -> WSGIApp:
            return app

    store.dispose()  # the pool the app was built with must not reach the forked workers
    # The app's objects live as long as the process: out of the collector's reach, workers
    # share their pages with the master instead of copying them, and a stop does not spend
    # seconds collecting them (measured: 2 s -> 0.35 s per process on the demo config).
    gc.freeze()
    DspoApplication(prog="dspo serve").run()


def waitress_server(app: WSGIApp, listen: Listen) -> Any:
    """A waitress server for `app`, bound and not yet running: one process, so the
    workers' threads are its threads."""
    from waitress import create_server

    return create_server(app, host=listen.host, port=listen.port,
                         threads=max(MIN_THREADS, listen.workers * listen.threads),
                         trusted_proxy=None, ident="dspo")


def run_waitress(app: WSGIApp, listen: Listen) -> None:
    """Serve `app` under waitress until SIGTERM or Ctrl+C; waitress stops cleanly on the
    SystemExit the handler raises."""
    server = waitress_server(app, listen)
    if listen.access_log:
        logging.getLogger("waitress").info("waitress writes no access log; use gunicorn")

    def stop(_signum: int, _frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    server.run()


def run_development(dash_app: Dash, listen: Listen) -> None:
    """Werkzeug's development server: one process, a thread per request, no reloader and
    no debugger (the debugger runs code for whoever can reach the port)."""
    if not listen.access_log:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    dash_app.run(host=listen.host, port=listen.port, debug=False, threaded=True)


def choose(dev: bool) -> str:
    """'development' with --dev, else the production server that runs here."""
    return "development" if dev else production_server()


def serve(name: str, dash_app: Dash, store: Store, listen: Listen) -> None:
    """Run server `name` (from `choose`) in the foreground until it is stopped."""
    if name == "development":
        run_development(dash_app, listen)
    elif name == "gunicorn":
        run_gunicorn(dash_app.server, store, listen)
    else:
        run_waitress(dash_app.server, listen)


def describe(name: str, listen: Listen) -> str:
    """The line `dspo serve` prints before serving."""
    if name == "development":
        how = "Werkzeug development server, for development only"
    elif name == "waitress":
        how = f"waitress, {max(MIN_THREADS, listen.workers * listen.threads)} threads"
    else:
        how = f"gunicorn, {listen.workers} worker(s) x {listen.threads} threads"
    return f"dspo dashboard: {listen.url}  ({how}; Ctrl+C to stop)"
