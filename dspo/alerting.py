"""`dspo alerts ...`: evaluate rules, deliver the outbox, test a rule, acknowledge, silence,
and list, retry or discard what the outbox could not deliver.

The commands are thin: `alerts.engine` and `alerts.delivery` do the work; this module loads
the config, opens the store and prints what happened.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from alerts import deadletters, engine
from alerts.delivery import DeliveryReport, build_sinks, deliver, retry_policies
from alerts.silences import SilenceError, silence_length, silence_until
from config.loader import load_config
from config.schema import DspoConfig
from dspo.server import upgrade_command
from store import queries
from store.db import Store
from store.writer import sync_products

console = Console(stderr=True)
out = Console()  # what a command was asked for (a listing) goes to stdout
OPEN = ("pending", "dead")


def _open(config_path: Path) -> tuple[DspoConfig, Store]:
    cfg = load_config(config_path)
    store = Store(cfg.store.url)
    store.ensure_schema(hint=f"run: {upgrade_command(config_path)}")
    with store.session() as s:
        sync_products(s, cfg.products)
    return cfg, store


def evaluate_and_deliver(store: Store, cfg: DspoConfig, now: datetime
                         ) -> tuple[list[engine.RuleResult], DeliveryReport]:
    """One alerting cycle: every rule at `now`, then the outbox."""
    results = engine.evaluate(store, cfg, now)
    return results, deliver_now(store, cfg, now)


def deliver_now(store: Store, cfg: DspoConfig, now: datetime) -> DeliveryReport:
    """Send the outbox with the configured sinks and their retry settings."""
    return deliver(store, build_sinks(store, cfg, lambda: now), now,
                   policies=retry_policies(cfg))


def evaluate_command(config_path: Path, now: datetime | None = None) -> int:
    """`dspo alerts evaluate`; returns how many rules failed to evaluate."""
    cfg, store = _open(config_path)
    try:
        if not cfg.alerts:
            console.print(f"{config_path}: no alert rules configured")
            return 0
        results, report = evaluate_and_deliver(store, cfg, now or datetime.now(UTC))
        print_summary(results, report)
        return sum(r.error is not None for r in results)
    finally:
        store.dispose()


def evaluate_and_print(store: Store, cfg: DspoConfig, now: datetime) -> None:
    """One alerting cycle of `cfg`'s rules on an open store, with its summary printed."""
    results, report = evaluate_and_deliver(store, cfg, now)
    print_summary(results, report)


def evaluate_if_configured(config_path: Path) -> None:
    """After a collect cycle (`dspo collect --every`, `dspo demo`): alerts, when rules exist."""
    cfg = load_config(config_path)
    if cfg.alerts:
        evaluate_command(config_path)


def print_summary(results: Sequence[engine.RuleResult], report: DeliveryReport) -> None:
    table = Table("rule", "instances", "states", "transitions", "actions", box=None)
    for r in results:
        states = Counter(o.after + (" (silenced)" if o.silenced else "") for o in r.outcomes)
        moves = [f"{o.before}→{o.after}" for o in r.outcomes if o.transition]
        actions = [a for o in r.outcomes for a in o.actions]
        table.add_row(r.rule, str(len(r.outcomes)),
                      ", ".join(f"{n} {s}" for s, n in sorted(states.items())) or "–",
                      ", ".join(moves) or "–", ", ".join(actions) or "–")
    console.print(table)
    for r in results:
        if r.error:
            console.print(f"[red]rule {escape(r.rule)} failed:[/] {escape(r.error)}",
                          highlight=False, soft_wrap=True)
    print_delivery(report)


def print_delivery(report: DeliveryReport) -> None:
    console.print(f"delivered {len(report.delivered)}, pending {report.waiting}"
                  + (f", dead {len(report.dead)}" if report.dead else ""))
    for line in report.delivered:
        console.print(f"  [green]sent[/] {escape(line)}", highlight=False, soft_wrap=True)
    for line in report.failed:
        console.print(f"  [yellow]kept for retry[/] {escape(line)}", highlight=False,
                      soft_wrap=True)
    for line in report.dead:
        console.print(f"  [red]dead letter[/] {escape(line)}", highlight=False, soft_wrap=True)
    if report.dead:
        console.print("  see: dspo alerts outbox list; then retry ID or discard ID",
                      highlight=False)


def test_command(config_path: Path, rule: str, now: datetime | None = None) -> None:
    """`dspo alerts test RULE`: what the rule would do now, writing nothing."""
    cfg = load_config(config_path)
    if rule not in {r.name for r in cfg.alerts}:
        known = ", ".join(r.name for r in cfg.alerts) or "none"
        raise SystemExit(f"error: no alert rule named {rule!r} (known: {known})")
    store = Store(cfg.store.url)
    try:
        store.check_schema()
        [result] = engine.evaluate(store, cfg, now or datetime.now(UTC), rules=[rule],
                                   dry_run=True)
    finally:
        store.dispose()
    table = Table("instance", "value", "observed", "state", "would do", box=None)
    for o in result.outcomes:
        labels = ", ".join(f"{k}={v}" for k, v in sorted(o.labels.items()))
        value = "no data" if o.value is None else f"{o.value:.4g}"
        state = f"{o.before} → {o.after}" if o.after != o.before else o.after
        action = ", ".join(o.actions) or ("silenced" if o.silenced else "nothing")
        table.add_row(labels, value, o.observation, state, action)
    console.print(table)
    if result.error:
        console.print(f"[red]evaluation error:[/] {escape(result.error)}", highlight=False)


def ack_command(config_path: Path, fingerprint: str, by: str) -> bool:
    """Acknowledge, then deliver at once so the comment reaches the tickets now."""
    cfg, store = _open(config_path)
    try:
        now = datetime.now(UTC)
        if not engine.acknowledge(store, fingerprint, by, now):
            return False
        deliver_now(store, cfg, now)
        return True
    finally:
        store.dispose()


def silence_command(config_path: Path, *, rule: str, labels: Sequence[str], until: str | None,
                    for_: str | None, reason: str, by: str) -> tuple[int, datetime]:
    cfg, store = _open(config_path)
    try:
        found = [r for r in cfg.alerts if r.name == rule]
        if not found:
            raise SystemExit(f"error: no alert rule named {rule!r}")
        matchers = dict(_label(x) for x in labels)
        now = datetime.now(UTC)
        try:
            ends = _until(now, until, for_)
            silence_id = engine.silence(store, product=found[0].product, rule=rule,
                                        matchers=matchers, starts_at=now, ends_at=ends,
                                        reason=reason, by=by)
        except SilenceError as e:
            raise SystemExit(f"error: {e}") from None
        return silence_id, ends
    finally:
        store.dispose()


def _label(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise SystemExit(f"error: --label takes key=value, not {text!r}")
    return key, value


def _until(now: datetime, until: str | None, for_: str | None) -> datetime:
    if (until is None) == (for_ is None):
        raise SilenceError("give either --until ISO-TIME or --for DURATION (e.g. 2h)")
    if for_ is not None:
        return now + silence_length(for_)
    return silence_until(now, until)


# ------------------------------------------------------------ the outbox: dead letters


def outbox_list_command(config_path: Path, *, everything: bool = False) -> int:
    """`dspo alerts outbox list`: undelivered rows (or all), oldest first; returns how many
    are dead."""
    _, store = _open(config_path)
    try:
        rows = queries.outbox(store, pending_only=not everything)
    finally:
        store.dispose()
    if rows.empty:
        out.print("nothing to deliver: every tracker update was sent")
        return 0
    for _, row in rows.iterrows():
        out.print(_outbox_line(row, rows), highlight=False, soft_wrap=True)
    return int((rows["state"] == "dead").sum())


def _outbox_line(row: pd.Series, rows: pd.DataFrame) -> str:
    rule = row["rule"] if isinstance(row["rule"], str) else row["fingerprint"]
    head = (f"#{row['id']} {row['state']} {row['action']}@{row['sink']} rule {rule} "
            f"(attempts {row['attempts']})")
    lines = [escape(head)]
    if row["state"] == "pending" and not pd.isna(row["next_attempt_at"]):
        lines.append(f"  next attempt {pd.Timestamp(row['next_attempt_at']).isoformat()}")
    if isinstance(row["last_error"], str) and row["last_error"]:
        label = "tracker's answer" if row["state"] == "dead" else "last answer"
        lines.append(f"  {label}: {escape(row['last_error'])}")
    if row["state"] == "dead":
        same = (rows["fingerprint"] == row["fingerprint"]) & (rows["sink"] == row["sink"])
        behind = int((same & (rows["id"] > row["id"]) & rows["state"].isin(OPEN)).sum())
        lines.append(f"  waiting behind it: {behind}; dspo alerts outbox retry {row['id']} "
                     f"| discard {row['id']}")
    if row["state"] == "discarded":
        lines.append(f"  discarded by {escape(str(row['discarded_by']))} at "
                     f"{pd.Timestamp(row['discarded_at']).isoformat()}")
    return "\n".join(lines)


def outbox_retry_command(config_path: Path, ids: Sequence[int], *, all_dead: bool,
                         by: str) -> list[int]:
    """Dead rows back to pending, then one delivery at once; returns the ids revived."""
    if bool(ids) == all_dead:
        raise SystemExit("error: give the ids to retry, or --all-dead")
    cfg, store = _open(config_path)
    try:
        now = datetime.now(UTC)
        try:
            revived = deadletters.retry(store, None if all_dead else list(ids), by, now)
        except ValueError as e:
            raise SystemExit(f"error: {e}") from None
        if revived:
            print_delivery(deliver_now(store, cfg, now))
        return [r.id for r in revived]
    finally:
        store.dispose()


def outbox_discard_command(config_path: Path, ids: Sequence[int], by: str) -> list[int]:
    """Give dead rows up for good; returns the ids discarded."""
    _, store = _open(config_path)
    try:
        try:
            gone = deadletters.discard(store, list(ids), by, datetime.now(UTC))
        except ValueError as e:
            raise SystemExit(f"error: {e}") from None
        return [r.id for r in gone]
    finally:
        store.dispose()
