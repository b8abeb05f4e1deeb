"""Props passthrough for embedders, as AWS Solutions Constructs do it (``overrideProps``): a dict of a
CDK construct's keyword properties merged over this library's defaults.

Some keys cannot be overridden because the runtime depends on them (a function's handler and code, the
table's keys and stream): they fail at synth time with the key named. Mappings listed in ``merged``
(a function's ``environment``) are merged key by key, and a key of ours cannot be replaced; sequences
listed in ``appended`` (a function's ``layers``) get the embedder's items after ours.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def override_props(
    defaults: Mapping[str, Any],
    *overrides: Mapping[str, Any] | None,
    owner: str,
    fixed: Iterable[str] = (),
    merged: Iterable[str] = (),
    appended: Iterable[str] = (),
    why: str = "the runtime depends on it",
) -> dict[str, Any]:
    """``defaults`` with each of ``overrides`` applied in turn (later ones win)."""
    fixed, merged, appended = set(fixed), set(merged), set(appended)
    result = dict(defaults)
    for layer in overrides:
        for key, value in (layer or {}).items():
            if key in fixed:
                raise ValueError(f"{owner}: {key} cannot be overridden ({why})")
            if key in merged:
                result[key] = _merge(
                    result.get(key) or {}, value, ours=defaults.get(key) or {}, owner=f"{owner} {key}"
                )
            elif key in appended:
                result[key] = [*(result.get(key) or ()), *_sequence(value)]
            else:
                result[key] = value
    return result


def _merge(
    current: Mapping[str, Any], theirs: Mapping[str, Any], *, ours: Mapping[str, Any], owner: str
) -> dict[str, Any]:
    """``theirs`` added to ``current``; a key of ``ours`` (the library's) cannot be replaced."""
    clash = sorted(set(ours) & set(theirs))
    if clash:
        raise ValueError(f"{owner}: {', '.join(clash)} set by this construct, cannot be overridden")
    return {**current, **theirs}


def _sequence(value: Sequence[Any] | Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]
