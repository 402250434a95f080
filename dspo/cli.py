"""The `dspo` command: a thin shell over config, store, collectors and dashboard.

Heavy libraries (MLflow, Evidently, Dash) are imported inside the commands that need them,
so `dspo config check` answers in well under a second. Errors a user can fix are printed as
one line with a hint; `--debug` shows the traceback instead.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from dspo.telemetry import disable_call_home

app = typer.Typer(help="dspo: the product dashboard of a Data Science Product Owner.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
config_app = typer.Typer(help="Check configuration files.", no_args_is_help=True)
db_app = typer.Typer(help="Manage the store: schema, rollups, retention.",
                      no_args_is_help=True)
alerts_app = typer.Typer(help="Evaluate, test, acknowledge and silence alert rules; "
                         "retry or discard undeliverable tracker updates.",
                         no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")
outbox_app = typer.Typer(help="Tracker updates the outbox could not deliver: list, retry, "
                         "discard.", no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")
users_app = typer.Typer(help="Who may sign in to the dashboard, with which role.",
                        no_args_is_help=True)
app.add_typer(users_app, name="users")
alerts_app.add_typer(outbox_app, name="outbox")

ConfigOption = Annotated[
    Path,
    typer.Option("--config", "-c", envvar="DSPO_CONFIG", help="YAML configuration file."),
]
DebugOption = Annotated[bool, typer.Option("--debug", help="Show tracebacks.")]

DEFAULT_CONFIG = Path("dspo.yaml")
DEMO_CONFIG = Path(__file__).resolve().parent.parent / "config" / "demo.yaml"


def _fail(message: str, hint: str | None = None) -> NoReturn:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    if hint:
        typer.echo(f"hint: {hint}", err=True)
    raise typer.Exit(1)


def _guarded(debug: bool):  # type: ignore[no-untyped-def]
    """Turn the errors a user can act on into one line each (unless --debug)."""
    from contextlib import contextmanager

    from config.loader import ConfigError

    @contextmanager
    def guard():  # type: ignore[no-untyped-def]
        from store.db import StoreError

        try:
            yield
        except ConfigError as e:
            if debug:
                raise
            typer.secho(str(e), fg=typer.colors.RED, err=True)
            raise typer.Exit(1) from None
        except StoreError as e:
            if debug:
                raise
            _fail(str(e), "check store.url, or run: dspo db upgrade")

    return guard()


@config_app.command("check")
def config_check(file: Annotated[Path, typer.Argument(help="YAML file to check.")]) -> None:
    """Validate FILE and print every error with its YAML path."""
    from config.loader import ConfigError, load_config

    try:
        cfg = load_config(file)
    except ConfigError as e:
        typer.secho(str(e), fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"{file}: ok ({len(cfg.products)} product(s), {len(cfg.sources)} source(s), "
        f"{len(cfg.alerts)} alert rule(s))"
    )


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = DEFAULT_CONFIG, debug: DebugOption = False) -> None:
    """Migrate the store to the newest schema: once per deployment, before `dspo serve`."""
    from config.loader import load_config
    from store.db import Store

    with _guarded(debug):
        cfg = load_config(config)
        store = Store(cfg.store.url)
        store.upgrade()
        typer.echo(f"{store.display_url}: at revision {store.current_revision()}")


@db_app.command("check")
def db_check(config: ConfigOption = DEFAULT_CONFIG, debug: DebugOption = False) -> None:
    """Exit 0 if the store is at the newest schema, else 1 with the command to run."""
    from config.loader import load_config
    from store.db import Store

    with _guarded(debug):
        store = Store(load_config(config).store.url)
        _require_schema(store, config, debug)
        typer.echo(f"{store.display_url}: at revision {store.current_revision()} (newest)")


@db_app.command("rollup")
def db_rollup(config: ConfigOption = DEFAULT_CONFIG, debug: DebugOption = False) -> None:
    """Recompute the hour and day rollups of every day that still has raw points (the
    writer keeps them up to date; migration 0008 fills them once)."""
    from config.loader import load_config
    from dspo.retention import rebuild
    from store.db import Store

    with _guarded(debug):
        store = Store(load_config(config).store.url)
        _require_schema(store, config, debug)
        typer.echo(f"{store.display_url}: {rebuild(store):,} rollup rows")


@db_app.command("prune")
def db_prune(config: ConfigOption = DEFAULT_CONFIG, debug: DebugOption = False) -> None:
    """Delete raw points older than store.retention.raw_points (rolled-up days only);
    `dspo collect` does it after its sources."""
    from config.loader import load_config
    from dspo.retention import prune
    from store.db import Store

    with _guarded(debug):
        cfg = load_config(config)
        store = Store(cfg.store.url)
        _require_schema(store, config, debug)
        done = prune(store, cfg.store)
        if done.before is None:
            typer.echo("store.retention.raw_points is not set: every point is kept")
        else:
            typer.echo(f"{store.display_url}: {done.points:,} raw points before "
                       f"{done.before:%Y-%m-%d} UTC deleted")


@app.command()
def collect(
    config: ConfigOption = DEFAULT_CONFIG,
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="Only these sources.")
    ] = None,
    loop: Annotated[
        bool, typer.Option("--loop", help="Keep collecting, each source on its `interval`; "
                           "alert rules are evaluated after the sources they read.")
    ] = False,
    every: Annotated[
        int | None, typer.Option(help="With --loop (implied): every source every N seconds, "
                                 "whatever its interval.")
    ] = None,
    parallel: Annotated[int, typer.Option(help="Sources collected at once.", min=1)] = 4,
    debug: DebugOption = False,
) -> None:
    """Collect every enabled source once (exit 2 if one failed), or keep collecting (--loop)."""
    from datetime import timedelta

    from dspo.collecting import collect_all, collect_loop

    with _guarded(debug):
        if loop or every is not None:
            collect_loop(config, only=source or None, parallel=parallel,
                         every=timedelta(seconds=every) if every is not None else None)
            return
        failed = collect_all(config, only=source or None, parallel=parallel)
    if failed:
        raise typer.Exit(2)


@app.command()
def sources(config: ConfigOption = DEFAULT_CONFIG, debug: DebugOption = False) -> None:
    """Each source's last run: status, duration, rows written, records read, last success,
    error (exit 2 if a source's last run failed)."""
    from dspo.collecting import print_sources

    with _guarded(debug):
        failed = print_sources(config)
    if failed:
        raise typer.Exit(2)


@app.command()
def serve(
    config: ConfigOption = DEFAULT_CONFIG,
    host: Annotated[str, typer.Option(help="Address to bind; 0.0.0.0 exposes it.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8050,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (default: 2 x cores + 1, "
                                 "at most 8).", show_default=False)
    ] = None,
    threads: Annotated[
        int, typer.Option(min=2, help="Threads per worker (at least 2: a PDF or PNG export "
                          "renders the page through this same server).")
    ] = 4,
    access_log: Annotated[
        bool, typer.Option("--access-log", help="Log one line per request.")
    ] = False,
    dev: Annotated[
        bool, typer.Option("--dev", help="Werkzeug's development server instead: one "
                           "process, for development only.")
    ] = False,
    debug: DebugOption = False,
) -> None:
    """Serve the dashboard and the push API under gunicorn (waitress on Windows).

    The store must be at the newest schema: run `dspo db upgrade -c FILE` once per
    deployment first; serve never migrates. SIGTERM stops it gracefully.
    """
    from config.loader import load_config
    from dspo import server
    from store.db import Store

    with _guarded(debug):
        cfg = load_config(config)
        store = Store(cfg.store.url)
        _require_schema(store, config, debug)
        name = _server_name(dev, debug)
        from dspo.web import create_web_app  # Dash: imported once the checks have passed

        dash_app = create_web_app(cfg, store)
    listen = server.Listen(host, port, workers or server.default_workers(server.usable_cores()),
                           threads, access_log)
    typer.echo(server.describe(name, listen))
    server.serve(name, dash_app, store, listen)


def _require_schema(store, config: Path, debug: bool) -> None:  # type: ignore[no-untyped-def]
    """Stop with the command to run unless the store is at the newest schema: migrating
    is a deployment step, never something each of several servers does at start."""
    from dspo.server import upgrade_command
    from store.db import StoreError

    try:
        store.check_schema(hint=f"run: {upgrade_command(config)}")
    except StoreError as e:
        if debug:
            raise
        _fail(str(e))


def _upgrade(config: Path) -> None:
    from config.loader import load_config
    from store.db import Store

    store = Store(load_config(config).store.url)
    try:
        store.upgrade()
    finally:
        store.dispose()


def _server_name(dev: bool, debug: bool) -> str:
    from dspo.server import ServerUnavailable, choose

    try:
        return choose(dev)
    except ServerUnavailable as e:
        if debug:
            raise
        _fail(str(e))


@app.command()
def demo(
    directory: Annotated[
        Path, typer.Option("--dir", envvar="DSPO_DEMO_DIR", help="Folder of the demo world.")
    ] = Path(".dspo/demo"),
    force: Annotated[bool, typer.Option(help="Rebuild even if the world exists.")] = False,
    config: Annotated[Path, typer.Option("--config", "-c", help="Demo config.")] = DEMO_CONFIG,
    debug: DebugOption = False,
) -> None:
    """Build the demo world with real MLflow, Evidently and SQLite, then collect it."""
    from dspo.collecting import collect_all
    from dspo.demo.world import build_world, world_exists

    directory = directory.resolve()
    os.environ["DSPO_DEMO_DIR"] = str(directory)
    with _guarded(debug):
        if force or not world_exists(directory):
            build_world(directory, force=force)
        else:
            typer.echo(f"demo world exists in {directory} (use --force to rebuild)")
        _upgrade(config)  # the demo is its own deployment: it migrates, collect does not
        failed = collect_all(config)
        from dspo.alerting import evaluate_if_configured

        evaluate_if_configured(config)
        _print_demo_users(config)
    if failed:
        raise typer.Exit(2)


def _print_demo_users(config: Path) -> None:
    """The demo's users, with the passwords they get for this run (printed, never stored)."""
    from config.loader import load_config
    from dspo.users import demo_users
    from store.db import Store

    store = Store(load_config(config).store.url)
    try:
        issued = demo_users(store)
    finally:
        store.dispose()
    typer.echo("demo users (new passwords on every start of the demo):")
    for user in issued:
        typer.echo(f"  {user.username:<12} {user.role:<12} password: {user.password}")


@alerts_app.command("evaluate")
def alerts_evaluate(config: ConfigOption = DEFAULT_CONFIG, debug: DebugOption = False) -> None:
    """Evaluate every rule now, then deliver the outbox; exit 2 if a rule failed."""
    from dspo.alerting import evaluate_command

    with _guarded(debug):
        failed = evaluate_command(config)
    if failed:
        raise typer.Exit(2)


@alerts_app.command("test")
def alerts_test(
    rule: Annotated[str, typer.Argument(help="Rule name.")],
    config: ConfigOption = DEFAULT_CONFIG,
    debug: DebugOption = False,
) -> None:
    """Print what RULE would do on the current store, writing and sending nothing."""
    from dspo.alerting import test_command

    with _guarded(debug):
        test_command(config, rule)


@alerts_app.command("ack")
def alerts_ack(
    fingerprint: Annotated[str, typer.Argument(help="The alert's fingerprint.")],
    by: Annotated[str, typer.Option("--by", help="Who takes it.")],
    config: ConfigOption = DEFAULT_CONFIG,
    debug: DebugOption = False,
) -> None:
    """Acknowledge an alert (recorded, and commented on its tickets)."""
    from dspo.alerting import ack_command

    with _guarded(debug):
        if not ack_command(config, fingerprint, by):
            _fail(f"no alert with fingerprint {fingerprint}", "see: dspo alerts evaluate")
    typer.echo(f"acknowledged {fingerprint} by {by}")


@alerts_app.command("silence")
def alerts_silence(
    rule: Annotated[str, typer.Option("--rule", help="Rule to silence.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (shown with the alert).")],
    label: Annotated[
        list[str] | None, typer.Option("--label", help="Only alerts with key=value.")
    ] = None,
    until: Annotated[str | None, typer.Option("--until", help="ISO time it ends.")] = None,
    for_: Annotated[str | None, typer.Option("--for", help="How long, e.g. 2h.")] = None,
    by: Annotated[str, typer.Option("--by", help="Who silences.")] = "cli",
    config: ConfigOption = DEFAULT_CONFIG,
    debug: DebugOption = False,
) -> None:
    """Silence a rule's alerts: they keep changing state but file and update nothing."""
    from dspo.alerting import silence_command

    with _guarded(debug):
        silence_id, ends = silence_command(config, rule=rule, labels=label or [],
                                           until=until, for_=for_, reason=reason, by=by)
    typer.echo(f"silence {silence_id} on {rule} until {ends.isoformat()}")


ByOption = Annotated[str, typer.Option("--by", help="Who does it (recorded).")]


@outbox_app.command("list")
def outbox_list(
    everything: Annotated[
        bool, typer.Option("--all", help="Also delivered and discarded rows.")
    ] = False,
    config: ConfigOption = DEFAULT_CONFIG,
    debug: DebugOption = False,
) -> None:
    """Tracker updates not delivered yet: when pending ones go next, why dead ones died."""
    from dspo.alerting import outbox_list_command

    with _guarded(debug):
        outbox_list_command(config, everything=everything)


@outbox_app.command("retry")
def outbox_retry(
    ids: Annotated[list[int] | None, typer.Argument(help="Dead rows to retry.")] = None,
    all_dead: Annotated[bool, typer.Option("--all-dead", help="Every dead row.")] = False,
    by: ByOption = "cli",
    config: ConfigOption = DEFAULT_CONFIG,
    debug: DebugOption = False,
) -> None:
    """Send dead rows again (a fresh count of attempts), then deliver at once."""
    from dspo.alerting import outbox_retry_command

    with _guarded(debug):
        revived = outbox_retry_command(config, ids or [], all_dead=all_dead, by=by)
    if not revived:
        _fail("no dead row to retry", "see: dspo alerts outbox list")
    typer.echo("retried " + ", ".join(f"#{i}" for i in revived))


@outbox_app.command("discard")
def outbox_discard(
    ids: Annotated[list[int], typer.Argument(help="Dead rows to give up.")],
    by: ByOption = "cli",
    config: ConfigOption = DEFAULT_CONFIG,
    debug: DebugOption = False,
) -> None:
    """Give dead rows up: never sent; the updates waiting behind them go on."""
    from dspo.alerting import outbox_discard_command

    with _guarded(debug):
        gone = outbox_discard_command(config, ids, by)
    if not gone:
        _fail("no such dead row", "see: dspo alerts outbox list")
    typer.echo("discarded " + ", ".join(f"#{i}" for i in gone))


ProductsOption = Annotated[
    list[str] | None,
    typer.Option("--product", "-p", help="A product a PO looks after (repeat); none: all."),
]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from stdin instead of "
                       "making one up and printing it.")
]


def _password(from_stdin: bool) -> str | None:
    return sys.stdin.readline().rstrip("\n") if from_stdin else None


def _user_guard(debug: bool):  # type: ignore[no-untyped-def]
    """Store and config errors as for every command; a user error (unknown user, taken
    name, short password) as one line."""
    from contextlib import contextmanager

    @contextmanager
    def guard():  # type: ignore[no-untyped-def]
        from store.people import UserError

        with _guarded(debug):
            try:
                yield
            except (UserError, ValueError) as e:
                if debug:
                    raise
                _fail(str(e))

    return guard()


def _users_store(config: Path):  # type: ignore[no-untyped-def]
    from config.loader import load_config
    from dspo.server import upgrade_command
    from store.db import Store

    store = Store(load_config(config).store.url)
    store.ensure_schema(hint=f"run: {upgrade_command(config)}")
    return store


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Sign-in name.")],
    role: Annotated[str, typer.Option("--role", help="admin, po or stakeholder.")],
    product: ProductsOption = None,
    name: Annotated[str, typer.Option("--name", help="Display name.")] = "",
    password_stdin: PasswordStdin = False,
    config: ConfigOption = DEFAULT_CONFIG,
    debug: DebugOption = False,
) -> None:
    """Add a user; prints the password made for them (shown once)."""
    from dspo.users import add

    with _user_guard(debug):
        issued = add(_users_store(config), username, role, products=product or [], name=name,
                     password=_password(password_stdin))
    typer.echo(f"added {issued.username} ({issued.role})")
    if not password_stdin:
        typer.echo(f"password: {issued.password}")


@users_app.command("remove")
def users_remove(username: Annotated[str, typer.Argument(help="Sign-in name.")],
                 config: ConfigOption = DEFAULT_CONFIG, debug: DebugOption = False) -> None:
    """Remove a user; their sessions end at their next request."""
    from dspo.users import remove

    with _user_guard(debug):
        remove(_users_store(config), username)
    typer.echo(f"removed {username}")


@users_app.command("set-role")
def users_set_role(
    username: Annotated[str, typer.Argument(help="Sign-in name.")],
    role: Annotated[str, typer.Argument(help="admin, po or stakeholder.")],
    product: ProductsOption = None,
    config: ConfigOption = DEFAULT_CONFIG,
    debug: DebugOption = False,
) -> None:
    """Change a user's role (and products); their sessions end."""
    from dspo.users import change_role

    with _user_guard(debug):
        user = change_role(_users_store(config), username, role, product)
    scope = ", ".join(user.products) or "all products"
    typer.echo(f"{user.username}: {user.role} ({scope})")


@users_app.command("reset-password")
def users_reset_password(
    username: Annotated[str, typer.Argument(help="Sign-in name.")],
    password_stdin: PasswordStdin = False,
    config: ConfigOption = DEFAULT_CONFIG,
    debug: DebugOption = False,
) -> None:
    """Give a user a new password (printed once); their sessions end."""
    from dspo.users import reset_password

    with _user_guard(debug):
        issued = reset_password(_users_store(config), username, _password(password_stdin))
    typer.echo(f"new password for {issued.username}" + (
        "" if password_stdin else f": {issued.password}"))


@users_app.command("list")
def users_list(config: ConfigOption = DEFAULT_CONFIG, debug: DebugOption = False) -> None:
    """Every user with role, products, and how they sign in."""
    from dspo.users import users

    with _user_guard(debug):
        rows = users(_users_store(config))
    for u in rows:
        scope = ", ".join(u.products) or ("all products" if u.role != "stakeholder" else "-")
        state = " (disabled)" if u.disabled else ""
        typer.echo(f"{u.username:<20} {u.role:<12} {scope:<30} {u.origin}{state}")


def main() -> None:
    disable_call_home()
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
