"""Mutants of a JSON document for tests that compare two judges of it: every value in turn deleted,
nulled or replaced by a wrong JSON type, an out-of-range number, a value outside an enumeration, a
malformed date, an empty or a duplicated array."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from typing import Any

DELETE = object()
"""A replacement that deletes the value (the property or the array item) instead."""


def paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every value in ``node`` with the keys and indexes that lead to it."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key), value
            yield from paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*path, index), value
            yield from paths(value, (*path, index))


def replacements(value: Any) -> list[Any]:
    """What a mutant puts in place of ``value``: wrong JSON types, out-of-range numbers, values
    outside an enumeration, malformed dates, empty or duplicated arrays, null, nothing."""
    out: list[Any] = [DELETE, None]
    if isinstance(value, bool):
        out += ["yes", 1]
    elif isinstance(value, int):
        out += [str(value), 1.5, -1, 5000, 150]
    elif isinstance(value, float):
        out += [str(value), -1, 150, True]
    elif isinstance(value, str):
        out += [7, "notAValue", "2026-02-30T25:61:00Z", ""]
    elif isinstance(value, list):
        out += [{}, []] + ([[*value, copy.deepcopy(value[0])]] if value else [])
    elif isinstance(value, dict):
        out += [[], "x", {}]
    return out


def mutate(document: Any, path: tuple[Any, ...] | list[Any], replacement: Any) -> Any:
    """A copy of ``document`` with the value at ``path`` replaced (or deleted: ``DELETE``)."""
    mutant = json.loads(json.dumps(document))
    parent = mutant
    for key in path[:-1]:
        parent = parent[key]
    if replacement is DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = replacement
    return mutant


def mutants(document: Any, replace: Callable[[Any], list[Any]] = replacements) -> Iterator[Any]:
    """Every single-value mutant of ``document``, with ``replace`` choosing the replacements."""
    for path, value in list(paths(document)):
        for replacement in replace(value):
            yield mutate(document, path, replacement)
