"""Alias moves the registry shows but no recorded event explains: 'observed' alias events.

MLflow keeps only where each alias points now. A deployment job that follows the
`dspo.alias_history` convention tells dspo when it moved an alias (origin 'tag'); for one
that does not, the writer compares the aliases the store holds with the ones a collector
just read, and records each difference as an event at the time of writing (origin
'observed'), so promotions are captured from the day dspo starts watching.

Three rules keep these events honest:

- A model the store holds no version of is a baseline, not a change: its aliases were set
  at some unknown time before dspo watched, and stamping them "now" would invent a
  promotion on the first collect.
- A move the latest recorded event of that alias already says (typically a tag event the
  same collect brought in, or a previous observation) is not recorded again.
- When several versions carry one alias (only when a stale store row survives a version
  deleted in MLflow), the versions just read win over stored ones, then the highest.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from store import schema as s

VersionAliases = Mapping[str, Sequence[str]]
"""version -> the aliases it carries, for one model."""
Move = tuple[int, str, str | None]
"""(model_id, alias, version or None for a removed alias)."""


def version_key(version: str) -> tuple[int, int | str]:
    """MLflow versions are integers in text; compare them as numbers where they are."""
    return (0, int(version)) if version.isdigit() else (1, version)


def alias_map(versions: VersionAliases, fresh: Collection[str] = ()) -> dict[str, str]:
    """alias -> the version carrying it; ties go to `fresh` versions, then the highest."""
    owners: dict[str, list[str]] = {}
    for version, aliases in versions.items():
        for alias in aliases:
            owners.setdefault(alias, []).append(version)
    return {
        alias: max(candidates, key=lambda v: (v in fresh, version_key(v)))
        for alias, candidates in owners.items()
    }


def moves(
    held: VersionAliases, incoming: VersionAliases, latest: Mapping[str, str | None]
) -> list[tuple[str, str | None]]:
    """(alias, new version) for each alias whose version differs between what the store
    `held` and `held` updated with `incoming`, unless `latest` (alias -> version of its
    newest recorded event) already says so. Empty when nothing was held (a baseline)."""
    if not held:
        return []
    before = alias_map(held)
    after = alias_map({**held, **incoming}, fresh=set(incoming))
    found: list[tuple[str, str | None]] = []
    for alias in sorted(set(before) | set(after)):
        new = after.get(alias)
        if before.get(alias) == new:
            continue
        if alias in latest and latest[alias] == new:
            continue
        found.append((alias, new))
    return found


def observed_moves(
    session: Session, incoming: Mapping[int, VersionAliases], baseline: Collection[int] = ()
) -> tuple[list[Move], set[int]]:
    """The moves to record for the model versions about to be upserted (model_id ->
    version -> aliases), read before the upsert in the same transaction; and the models
    seen for the first time. Models in `baseline` (first seen earlier in the same write,
    when a large registry is flushed in several batches) are skipped as well."""
    if not incoming:
        return [], set()
    V, E = s.ModelVersion, s.ModelAliasEvent
    ids = sorted(incoming)
    held: dict[int, dict[str, list[str]]] = {}
    for model_id, version, aliases in session.execute(
        select(V.model_id, V.version, V.aliases).where(V.model_id.in_(ids))
    ).tuples():
        held.setdefault(model_id, {})[version] = list(aliases or [])
    latest: dict[int, dict[str, str | None]] = {}
    for model_id, alias, to_version in session.execute(
        select(E.model_id, E.alias, E.version).where(E.model_id.in_(ids)).order_by(E.ts, E.id)
    ).tuples():
        latest.setdefault(model_id, {})[alias] = to_version  # the newest event wins
    first_seen = {model_id for model_id in ids if model_id not in held}
    found = [
        (model_id, alias, new)
        for model_id in ids
        if model_id not in baseline
        for alias, new in moves(held.get(model_id, {}), incoming[model_id],
                                latest.get(model_id, {}))
    ]
    return found, first_seen
