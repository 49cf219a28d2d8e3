"""A first judge of Sonata documents that needs no pydantic, so that `offnet sonata validate`
answers in a few milliseconds instead of building ~130 pydantic validators in every process.

It runs the models' validators as compiled by ``offnet.sonata.models.compiled`` (plain JSON data,
the same steps in the same order, the same ``offnet.sonata.rules``) and answers True (the models
accept the document), False (they refuse it) or None (not sure: a step it cannot judge exactly,
such as a date-time outside the form it reads, or a non-ASCII text against a pattern). A caller
hands every answer but True to the models themselves, which also word the errors.

The compiled form is cached in the user's cache folder (``$OFFNET_CACHE_DIR``, else
``$XDG_CACHE_HOME/offnet``, else ``~/.cache/offnet``) under a key made of the models' sources, the
rules, this module and pydantic's version: a change to any of them rebuilds it, and so does a file
that cannot be read or whose content does not match its own digest. A new cache is written to a
temporary file and renamed over the old one, so concurrent writers never leave a half file.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from datetime import datetime
from typing import Any

from _pysha3 import sha3_256  # the C module canonical hashing loads anyway, without OpenSSL

from offnet.sonata import rules

FORMAT = 1
"""Version of the compiled form this module runs (``offnet.sonata.models.compiled`` writes it)."""
CACHE_ENV = "OFFNET_CACHE_DIR"
CACHE_FILE = "sonata-precheck.json"

_HERE = os.path.dirname(os.path.abspath(__file__))
# A date-time the models certainly accept: RFC 3339 with ASCII digits, an upper-case T and Z, at
# most microseconds (pydantic truncates finer fractions, Python's datetime refuses them).
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})"
)
_BEFORE = {
    "not_null": rules.not_null,
    "check_number": rules.check_number,
    "parse_rfc3339": rules.parse_rfc3339,
    "unique": rules.unique,
    "one_as_list": rules.one_as_list,
}
_JSON = (str, int, float, bool, list, dict)


class _Invalid(Exception):
    """The models refuse the value."""


class _Unsure(Exception):
    """Only the models can tell."""


class _Model:
    """What a model step yields: its fields' values and its other properties."""

    __slots__ = ("extra", "fields")

    def __init__(self, fields: dict[str, Any], extra: dict[str, Any]) -> None:
        self.fields = fields
        self.extra = extra


def _is_json(value: Any) -> bool:
    return value is None or isinstance(value, _JSON)


class Precheck:
    """The compiled models, ready to judge documents."""

    def __init__(self, program: dict[str, Any]) -> None:
        if program.get("format") != FORMAT:
            raise ValueError(f"compiled Sonata models of format {program.get('format')!r}, not {FORMAT}")
        self.roots: dict[str, Any] = program["roots"]
        self.definitions: dict[str, Any] = program["definitions"]
        self.envelopes: dict[str, list[Any]] = program["envelopes"]

    def judge(self, model: str, document: Any) -> bool | None:
        """True if model ``model`` accepts ``document``, False if it refuses it, None if unsure."""
        root = self.roots.get(model)
        if root is None:
            return None
        try:
            self._run(root, document)
        except _Invalid:
            return False
        except Exception:  # _Unsure, or a cache that does not say what it should: the models judge
            return None
        return True

    def envelope(self, event_type: Any) -> tuple[str, str, int] | None:
        """The envelope model, notification API and version of a notification's event type."""
        entry = self.envelopes.get(event_type) if isinstance(event_type, str) else None
        return (entry[0], entry[1], entry[2]) if entry else None

    # --- the steps, as pydantic takes them ----------------------------------------------------

    def _run(self, node: dict[str, Any], value: Any) -> Any:
        step = _STEPS.get(node["t"])
        if step is None:
            raise _Unsure(f"a step named {node['t']!r}")
        return step(self, node, value)

    def _ref(self, node: dict[str, Any], value: Any) -> Any:
        return self._run(self.definitions[node["r"]], value)

    def _root(self, name: str, value: Any) -> bool:
        try:
            self._run(self.roots[name], value)
        except _Invalid:
            return False
        return True

    def _unsure(self, node: dict[str, Any], value: Any) -> Any:
        raise _Unsure(node.get("why"))

    def _any(self, node: dict[str, Any], value: Any) -> Any:
        return value

    def _model(self, node: dict[str, Any], value: Any) -> _Model:
        if not isinstance(value, dict):
            raise _Invalid() if _is_json(value) else _Unsure()
        fields: dict[str, Any] = {}
        used: set[str] = set()
        invalid = False
        for name, keys, has_default, not_null, schema in node["fields"]:
            present = [key for key in keys if key in value]
            if len(present) > 1:
                raise _Unsure(f"both {present} given")  # which one pydantic keeps is its own affair
            if not present:
                invalid = invalid or not has_default
                continue
            used.add(present[0])
            item = value[present[0]]
            if item is None and not_null:
                invalid = True
                continue
            try:
                fields[name] = self._run(schema, item)
            except _Invalid:
                invalid = True
        extra = {key: item for key, item in value.items() if key not in used}
        if node["extra"] == "forbid" and extra:
            invalid = True
        if invalid:
            raise _Invalid()
        return _Model(fields, extra if node["extra"] == "allow" else {})

    def _str(self, node: dict[str, Any], value: Any) -> str:
        if not isinstance(value, str):
            raise _Invalid() if _is_json(value) else _Unsure()
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise _Unsure("a lone surrogate") from None
        if len(value) < node.get("min_length", 0) or len(value) > node.get("max_length", len(value)):
            raise _Invalid()
        pattern = node.get("pattern")
        if pattern is not None:
            # pydantic's Rust regex and Python's re read these patterns alike on printable ASCII.
            if not (value.isascii() and value.isprintable()):
                raise _Unsure("a pattern on a text beyond printable ASCII")
            if re.search(pattern, value) is None:
                raise _Invalid()
        return value

    def _int(self, node: dict[str, Any], value: Any) -> int:
        if type(value) is not int:
            raise _Invalid() if node.get("strict") and _is_json(value) else _Unsure()
        self._bounds(node, value)
        return value

    def _float(self, node: dict[str, Any], value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Unsure("a float from something else")
        return value

    def _bool(self, node: dict[str, Any], value: Any) -> bool:
        if type(value) is not bool:
            raise _Invalid() if node.get("strict") and _is_json(value) else _Unsure()
        return value

    def _choice(self, node: dict[str, Any], value: Any) -> Any:
        if not _is_json(value):
            raise _Unsure()
        if not isinstance(value, str) or value not in node["values"]:
            raise _Invalid()
        return value

    def _datetime(self, node: dict[str, Any], value: Any) -> Any:
        if not isinstance(value, str) or _DATETIME.fullmatch(value) is None:
            raise _Unsure("a date-time outside the form read here")
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise _Unsure("a date-time Python refuses") from None
        return value

    def _nullable(self, node: dict[str, Any], value: Any) -> Any:
        return None if value is None else self._run(node["s"], value)

    def _list(self, node: dict[str, Any], value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise _Invalid() if _is_json(value) else _Unsure()
        invalid = not node.get("min_length", 0) <= len(value) <= node.get("max_length", len(value))
        items = []
        for item in value:
            try:
                items.append(self._run(node["s"], item))
            except _Invalid:
                invalid = True
        if invalid:
            raise _Invalid()
        return items

    def _union(self, node: dict[str, Any], value: Any) -> Any:
        unsure = False
        for choice in node["choices"]:  # pydantic takes any choice that accepts the value
            try:
                return self._run(choice, value)
            except _Invalid:
                continue
            except _Unsure:
                unsure = True
        raise _Unsure() if unsure else _Invalid()

    def _before(self, node: dict[str, Any], value: Any) -> Any:
        try:
            value = _BEFORE[node["f"]](value)
        except ValueError:
            raise _Invalid() from None
        return self._run(node["s"], value)

    def _after(self, node: dict[str, Any], value: Any) -> Any:
        value = self._run(node["s"], value)
        self._bounds({node["f"]: node["limit"]}, value)
        return value

    def _bounds(self, limits: dict[str, Any], value: Any) -> None:
        try:
            ok = (
                ("ge" not in limits or value >= limits["ge"])
                and ("gt" not in limits or value > limits["gt"])
                and ("le" not in limits or value <= limits["le"])
                and ("lt" not in limits or value < limits["lt"])
                and ("min_length" not in limits or len(value) >= limits["min_length"])
                and ("max_length" not in limits or len(value) <= limits["max_length"])
            )
        except TypeError:
            raise _Unsure("a bound on an unordered value") from None
        if not ok:
            raise _Invalid()

    def _one_of(self, node: dict[str, Any], value: Any) -> Any:
        value = self._run(node["s"], value)
        if value is not None and sum(self._root(shape, value) for shape in node["shapes"]) != 1:
            raise _Invalid()
        return value

    def _extras_as(self, node: dict[str, Any], value: Any) -> Any:
        model = self._run(node["s"], value)
        kind = node["kinds"].get(model.fields.get(node["field"]))
        if kind is None:
            if node["required"]:
                raise _Invalid()
        elif not self._root(kind, model.extra):
            raise _Invalid()
        return model


_STEPS = {
    name: getattr(Precheck, "_" + name)
    for name in (
        *("ref", "unsure", "any", "model", "str", "int", "float", "bool", "choice", "datetime"),
        *("nullable", "list", "union", "before", "after", "one_of", "extras_as"),
    )
}
"""Every step a compiled node may name."""


# --- the cache --------------------------------------------------------------------------------


def cache_dir() -> str:
    """Where the compiled models are kept: never inside the project. (Plain os.path: pathlib
    alone would add a twentieth to the command's start.)"""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return os.path.expanduser(configured)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return os.path.join(xdg or os.path.join(os.path.expanduser("~"), ".cache"), "offnet")


def source_key() -> str:
    """What the compiled form depends on: the models' sources, the rules, this module, pydantic."""
    digest = sha3_256(f"{FORMAT}:{sys.version}".encode())
    models = os.path.join(_HERE, "models")
    sources = [os.path.join(models, name) for name in sorted(os.listdir(models)) if name.endswith(".py")]
    sources += [os.path.join(_HERE, name) for name in ("rules.py", "precheck.py")]
    sources.append(_pydantic_version_file())
    for path in sources:
        with open(path, "rb") as handle:
            digest.update(os.path.basename(path).encode() + b"\0" + handle.read() + b"\0")
    return digest.hexdigest()


def _pydantic_version_file() -> str:
    # Found the way the import system would find it, without importing pydantic.
    for entry in sys.path:
        candidate = os.path.join(entry or ".", "pydantic", "version.py")
        if os.path.isfile(candidate):
            return candidate
    raise ModuleNotFoundError("pydantic")


def _read(path: str, key: str) -> dict[str, Any] | None:
    try:
        with open(path, "rb") as handle:
            header, _, body = handle.read().partition(b"\n")
        meta = json.loads(header)
        if meta.get("key") != key or meta.get("digest") != sha3_256(body).hexdigest():
            return None
        program = json.loads(body)
        return program if isinstance(program, dict) else None
    except (OSError, ValueError, AttributeError):
        return None


def _write(path: str, key: str, program: dict[str, Any]) -> None:
    import tempfile

    body = json.dumps(program, separators=(",", ":")).encode()
    header = json.dumps({"key": key, "digest": sha3_256(body).hexdigest()}).encode()
    try:
        folder, name = os.path.split(path)
        os.makedirs(folder, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    except OSError:
        return  # a read-only cache folder: judge without keeping the compiled form
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(header + b"\n" + body)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)


def load() -> Precheck:
    """The pre-check, from the cache when it is current, else compiled from the models (and kept)."""
    key = source_key()
    path = os.path.join(cache_dir(), CACHE_FILE)
    program = _read(path, key)
    if program is not None:
        try:
            return Precheck(program)
        except (KeyError, ValueError, TypeError):
            pass  # a cache of another shape: compile again
    from offnet.sonata.models.compiled import compile_models

    program = compile_models()
    _write(path, key, program)
    return Precheck(program)
