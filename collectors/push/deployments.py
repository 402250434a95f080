"""Pushed deployments and promotions: alias events, and the versions' current aliases.

A deployment says "alias A of model M serves version V since `at`". dspo keeps that two
ways, as the MLflow collector does: an `AliasEvent` per move (the promotion history the
DORA page counts; origin `push`), and on each `ModelVersion` the aliases it carries now
(what objectives resolve `alias: production` to). The second needs what the store holds:
a move is current only if no later move of that alias is stored, so a deployment pushed
late (a backfill, a retried call) adds history without moving the alias back.

Two pushes moving the same alias at the very same moment may both read the old state
(PostgreSQL writes concurrently); their events are both kept, and the next push of that
model settles the current aliases.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import pandas as pd

from collectors.push.models import DeploymentIn
from store import queries
from store.db import Store
from store.records import AliasEvent, ModelVersion, Record, utc

PUSH_ORIGIN = "push"
"""`AliasEvent.origin` of pushed moves (beside MLflow's `tag` and `observed`)."""


@dataclass(frozen=True)
class Held:
    """What the store holds of one model: its versions, and each alias's newest move."""

    versions: Mapping[str, ModelVersion]
    newest_move: Mapping[str, datetime]


def held(store: Store, product: str, models: Iterable[str]) -> dict[str, Held]:
    """The stored versions and alias history of each model named in a push."""
    found: dict[str, Held] = {}
    for model in sorted(set(models)):
        frame = queries.model_versions(store, product, model)
        versions = {
            str(row.version): ModelVersion(
                product=product, model=model, version=str(row.version), run_id=row.run_id,
                created=row.created.to_pydatetime(),
                updated=None if pd.isna(row.updated) else row.updated.to_pydatetime(),
                status=row.status, stage=row.stage, aliases=tuple(sorted(row.aliases)),
            )
            for row in frame.itertuples(index=False)
        }
        events = queries.alias_events(store, product, model)
        latest = events.groupby("alias")["ts"].max()
        newest = {str(alias): ts.to_pydatetime() for alias, ts in latest.items()}
        found[model] = Held(versions, newest)
    return found


def deployment_records(
    deployments: Sequence[DeploymentIn], product: str, stored: Mapping[str, Held]
) -> list[Record]:
    """Alias events for every deployment, then each version whose aliases or run changed."""
    records: list[Record] = [
        AliasEvent(product=product, model=d.model, alias=d.alias, version=_version(d),
                   ts=utc(d.at), origin=PUSH_ORIGIN)
        for d in deployments
    ]
    for model in sorted({d.model for d in deployments}):
        mine = [d for d in deployments if d.model == model]
        records += _versions(mine, product, model, stored.get(model, Held({}, {})))
    return records


def _versions(
    deployments: list[DeploymentIn], product: str, model: str, stored: Held
) -> list[ModelVersion]:
    state = {v: set(x.aliases) for v, x in stored.versions.items()}
    first_seen: dict[str, datetime] = {}
    run_ids: dict[str, str] = {}
    for d in sorted(deployments, key=lambda d: utc(d.at)):
        version = _version(d)
        if version is not None:
            first_seen.setdefault(version, utc(d.at))
            state.setdefault(version, set())
            if d.run_id is not None:
                run_ids[version] = d.run_id
    for alias, newest in _newest_per_alias(deployments).items():
        if alias in stored.newest_move and utc(newest.at) < stored.newest_move[alias]:
            continue  # a later move of this alias is stored: history only
        for aliases in state.values():
            aliases.discard(alias)
        if (version := _version(newest)) is not None:
            state[version].add(alias)
    changed: list[ModelVersion] = []
    for version, aliases in sorted(state.items()):
        before = stored.versions.get(version) or ModelVersion(
            product=product, model=model, version=version, run_id=None,
            created=first_seen[version],
        )
        after = replace(before, aliases=tuple(sorted(aliases)),
                        run_id=run_ids.get(version, before.run_id))
        if version not in stored.versions or after != before:
            changed.append(after)
    return changed


def _newest_per_alias(deployments: Sequence[DeploymentIn]) -> dict[str, DeploymentIn]:
    """alias -> its latest deployment in this push (the last sent wins a tie)."""
    newest: dict[str, DeploymentIn] = {}
    for d in deployments:
        if d.alias not in newest or utc(d.at) >= utc(newest[d.alias].at):
            newest[d.alias] = d
    return newest


def _version(d: DeploymentIn) -> str | None:
    return d.version
