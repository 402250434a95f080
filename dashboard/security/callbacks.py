"""Malformed Dash callback requests get a 400 that says what is wrong, not a 500.

Dash reads the body of `/_dash-update-component` by key and index (`body["output"]`,
`callback_map[output]`, one value per declared input), so a body it did not write
raises KeyError or TypeError deep inside Dash. The shape is checked here first, against the
callbacks the app registered.

Then each value is checked against the type hint of the callback's parameter it becomes
(pydantic, strict: no coercion, so the callback gets exactly what was checked). A browser
only sends what the components hold, but a hand-made request may send `null` where a
callback reads a dict, or a list where it reads a string; such a request is refused here
rather than failing inside the callback. A parameter without a hint takes anything.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any

import flask
from dash import Dash
from pydantic import TypeAdapter, ValidationError

from dashboard.security.answers import answer

MAX_ERROR_TEXT = 120
ENDPOINT = "_dash-update-component"


def _is_prop(item: Any) -> bool:
    """One {id, property, value?} entry, as the renderer sends it for an input or output."""
    return (isinstance(item, dict) and isinstance(item.get("id"), str | dict)
            and isinstance(item.get("property"), str))


def _is_props(item: Any) -> bool:
    """An entry, or the list of entries of a pattern-matching (ALL, ALLSMALLER) dependency."""
    return _is_prop(item) or (isinstance(item, list) and all(_is_prop(i) for i in item))


def _count(declared: Any) -> int:
    return len(declared) if isinstance(declared, list | tuple) else 1


def body_problem(body: Any, callbacks: Mapping[str, Mapping[str, Any]]) -> str | None:
    """What is wrong with a callback request body, or None when Dash can dispatch it."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    output = body.get("output")
    if not isinstance(output, str):
        return "'output' must name a callback's output"
    spec = callbacks.get(output)
    if spec is None or "callback" not in spec:
        return f"no server callback has the output {output[:MAX_ERROR_TEXT]!r}"
    for key in ("inputs", "state"):
        items = body.get(key, [])
        expected = len(spec.get(key) or [])
        if not isinstance(items, list) or len(items) != expected:
            return f"'{key}' must be a list of {expected} entries for this callback"
        if not all(_is_props(i) for i in items):
            return f"each entry of '{key}' must be {{id, property, value}} or a list of them"
    outputs = body.get("outputs", [])
    if not _is_props(outputs) and not (isinstance(outputs, list)
                                       and all(_is_props(o) for o in outputs)):
        return "'outputs' must be {id, property} entries"
    if isinstance(spec.get("output"), list) and (
            not isinstance(outputs, list) or len(outputs) != _count(spec["output"])):
        return f"'outputs' must list {_count(spec['output'])} entries for this callback"
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "'changedPropIds' must be a list of strings"
    return None


Param = tuple[str, "TypeAdapter[Any] | None"]


@cache
def _parameters(func: Callable[..., Any]) -> tuple[Param, ...] | None:
    """(name, validator) of each positional parameter of a callback, in order; None when
    its hints cannot be read (a name only imported for type checking)."""
    inner = inspect.unwrap(func)
    try:
        hints = typing.get_type_hints(inner)
    except (NameError, TypeError):
        return None
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return tuple(
        (p.name, TypeAdapter(hints[p.name]) if p.name in hints else None)
        for p in inspect.signature(inner).parameters.values() if p.kind in positional
    )


def _value(entry: Any) -> Any:
    """What Dash passes for an entry: its value, or the list of values of a pattern."""
    if isinstance(entry, list):
        return [e.get("value") for e in entry]
    return entry.get("value")


def _label(entry: Any) -> str:
    first = entry[0] if isinstance(entry, list) and entry else entry
    if not isinstance(first, dict):
        return "a pattern-matching input"
    ident = first["id"] if isinstance(first["id"], str) else first["id"].get("type", "?")
    return f"{str(ident)[:MAX_ERROR_TEXT]}.{first['property']}"


def value_problem(body: Mapping[str, Any], spec: Mapping[str, Any]) -> str | None:
    """Which value does not fit the type of the callback parameter it is passed as."""
    if not isinstance(spec.get("inputs_state_indices"), list | int):
        return None  # grouped (dict) arguments: Dash's own callbacks, keyword-passed
    entries: Sequence[Any] = [*body.get("inputs", []), *body.get("state", [])]
    params = _parameters(spec["callback"])
    if params is None or len(params) != len(entries):
        return None
    for (name, adapter), entry in zip(params, entries, strict=True):
        if adapter is None:
            continue
        try:
            adapter.validate_python(_value(entry), strict=True)
        except ValidationError:
            shown = str(adapter.core_schema.get("type", ""))
            return f"the value of {_label(entry)} does not fit the callback's {name!r} ({shown})"
    return None


def guard_callbacks(app: Dash) -> None:
    """Check the body before Dash's own dispatch sees it."""
    server = app.server
    endpoint = app.config.routes_pathname_prefix + ENDPOINT
    dispatch: Callable[..., Any] = server.view_functions[endpoint]

    def checked_dispatch(*args: Any, **kwargs: Any) -> Any:
        body = flask.request.get_json(silent=True)
        if body is None:
            return answer(400, "Bad callback request: the body must be JSON "
                          "(Content-Type: application/json).")
        problem = body_problem(body, app.callback_map)
        if problem is None:
            problem = value_problem(body, app.callback_map[body["output"]])
        if problem is not None:
            return answer(400, f"Bad callback request: {problem}.")
        return dispatch(*args, **kwargs)

    server.view_functions[endpoint] = checked_dispatch
