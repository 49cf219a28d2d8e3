"""The models' validators compiled into plain JSON data that ``offnet.sonata.precheck`` runs
without pydantic: one node per step of pydantic's own core schema, read from the models.

Every node mirrors a step pydantic takes (a type with its constraints, a model's fields and
aliases, a before- or after-validator of the models). A step this compiler does not know becomes
an ``unsure`` node, and the pre-check hands any document that reaches it to the models: a new
constraint in the models can slow ``offnet sonata validate`` down, never change its verdict.
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic import BaseModel

from offnet.sonata import rules
from offnet.sonata.models import common, events
from offnet.sonata.models.access_eline import OneOf
from offnet.sonata.precheck import FORMAT

# The models' own validators, by the name the pre-check knows them by (offnet.sonata.rules).
_BEFORE = {
    rules.not_null: "not_null",
    rules.check_number: "check_number",
    rules.parse_rfc3339: "parse_rfc3339",
    rules.unique: "unique",
    rules.one_as_list: "one_as_list",
}
# pydantic's constraint checks that run after a union or a list (its _validators module).
_CONSTRAINTS = {
    "greater_than_validator": "gt",
    "greater_than_or_equal_validator": "ge",
    "less_than_validator": "lt",
    "less_than_or_equal_validator": "le",
    "min_length_validator": "min_length",
    "max_length_validator": "max_length",
}
_SCALAR_KEYS = {
    "str": {"strict", "pattern", "min_length", "max_length"},
    "int": {"strict", "ge", "le", "gt", "lt"},
    "float": set(),
    "bool": {"strict"},
    "any": set(),
}
_IGNORED = {"type", "ref", "metadata", "serialization"}
_MODEL_KEYS = {"cls", "config", "custom_init", "root_model", "schema", "generic_origin"}
_MODEL_FIELDS_KEYS = {"fields", "model_name", "computed_fields", "extra_behavior"}
_FIELD_KEYS = {"schema", "validation_alias", "serialization_alias", "frozen", "serialization_exclude"}
# Settings of a model that change no verdict; any other (strict, str_strip_whitespace, ...) would.
_CONFIG_KEYS = {"title", "extra_fields_behavior", "validate_by_name", "validate_by_alias"}


class _Unknown(Exception):
    """A step of pydantic's that this compiler does not know."""


class _Compiler:
    def __init__(self) -> None:
        self.definitions: dict[str, Any] = {}
        self.roots: dict[str, Any] = {}
        self._models: dict[str, type[BaseModel]] = {}
        self._names: dict[str, str] = {}

    def root(self, model: type[BaseModel]) -> str:
        """Compile ``model`` (once) and return its root name."""
        name = model.__name__
        if self._models.setdefault(name, model) is not model:
            raise ValueError(f"two Sonata models are named {name}")
        if name not in self.roots:
            self.roots[name] = {"t": "unsure", "why": "being compiled"}  # a model that nests itself
            model.model_rebuild()
            self.roots[name] = self.node(model.__pydantic_core_schema__)
        return name

    def node(self, schema: Any) -> dict[str, Any]:
        ref = schema.get("ref")
        if ref is not None:
            name = self._name(ref)
            if name not in self.definitions:
                self.definitions[name] = {"t": "unsure", "why": "being compiled"}
                self.definitions[name] = self._node(schema)
            return {"t": "ref", "r": name}
        return self._node(schema)

    def _name(self, ref: str) -> str:
        # pydantic's refs ("offnet.sonata.models.common.Note:9489...") by their class name, shorter to read.
        if ref not in self._names:
            base = ref.partition(":")[0].rpartition(".")[2]
            taken = set(self._names.values())
            self._names[ref] = next(
                n for n in (base, *(f"{base}~{i}" for i in range(1, 1000))) if n not in taken
            )
        return self._names[ref]

    def _node(self, schema: dict[str, Any]) -> dict[str, Any]:
        kind = schema["type"]
        extra = set(schema) - _IGNORED
        if kind == "definitions":
            for definition in schema["definitions"]:
                self.node(definition)
            return self.node(schema["schema"])
        if kind == "definition-ref":
            return {"t": "ref", "r": self._name(schema["schema_ref"])}
        if kind in _SCALAR_KEYS:
            if extra - _SCALAR_KEYS[kind]:
                return _unsure(f"{kind} with {sorted(extra - _SCALAR_KEYS[kind])}")
            return {"t": kind, **{key: schema[key] for key in extra}}
        if kind in ("literal", "enum"):
            values = schema["expected"] if kind == "literal" else [m.value for m in schema["members"]]
            known = {"expected"} if kind == "literal" else {"cls", "members", "sub_type"}
            if extra - known or not all(type(v) is str for v in values):
                return _unsure(f"{kind} of {values!r}")
            return {"t": "choice", "values": values}
        if kind == "datetime":
            if schema.get("tz_constraint") != "aware" or extra - {"tz_constraint", "microseconds_precision"}:
                return _unsure("datetime without an offset required")
            return {"t": "datetime"}
        if kind == "nullable" and not extra - {"schema"}:
            return {"t": kind, "s": self.node(schema["schema"])}
        if kind == "list":
            if extra - {"items_schema", "min_length", "max_length"}:
                return _unsure(f"list with {sorted(extra)}")
            node = {"t": "list", "s": self.node(schema.get("items_schema", {"type": "any"}))}
            return node | {key: schema[key] for key in ("min_length", "max_length") if key in schema}
        if kind == "union":
            if extra - {"choices"}:
                return _unsure(f"union with {sorted(extra)}")
            choices = [c[0] if isinstance(c, tuple) else c for c in schema["choices"]]
            return {"t": "union", "choices": [self.node(c) for c in choices]}
        if kind in ("function-before", "function-after"):
            return self._function(kind, schema)
        if kind == "model":
            return self._model(schema)
        return _unsure(f"{kind} schema")

    def _function(self, kind: str, schema: dict[str, Any]) -> dict[str, Any]:
        function = schema["function"]["function"]
        inner = self.node(schema["schema"])
        if kind == "function-before":
            name = self._before_name(schema)
            return {"t": "before", "f": name, "s": inner} if name else _unsure(f"before {function!r}")
        if (
            isinstance(function, functools.partial)
            and function.func.__module__ == "pydantic._internal._validators"
            and function.func.__name__ in _CONSTRAINTS
            and not function.args
            and len(function.keywords) == 1
        ):
            [limit] = function.keywords.values()
            return {"t": "after", "f": _CONSTRAINTS[function.func.__name__], "limit": limit, "s": inner}
        if isinstance(function, OneOf):
            return {"t": "one_of", "shapes": [self.root(shape) for shape in function.shapes], "s": inner}
        if function is common.RelatedPlace._fields_of_its_kind:
            # Its @type names one of the place kinds, and its other properties are valid as that kind.
            kinds = {name: self.root(model) for name, model in common.PLACE_KINDS.items()}
            return {"t": "extras_as", "field": "type", "kinds": kinds, "required": True, "s": inner}
        if function is common.ProductConfiguration._product_schema:
            # An Access E-Line configuration's other properties are valid as its product schema.
            from offnet.sonata.models.access_eline import AccessElineOvc

            kinds = {common.ACCESS_ELINE_OVC_TYPE: self.root(AccessElineOvc)}
            return {"t": "extras_as", "field": "type", "kinds": kinds, "required": False, "s": inner}
        return _unsure(f"after {function!r}")

    def _model(self, schema: dict[str, Any]) -> dict[str, Any]:
        config = schema.get("config", {})
        fields_schema = schema["schema"]
        if (
            schema.get("custom_init")
            or schema.get("root_model")
            or set(schema) - _IGNORED - _MODEL_KEYS
            or fields_schema["type"] != "model-fields"
            or set(fields_schema) - _IGNORED - _MODEL_FIELDS_KEYS
            or set(config) - _CONFIG_KEYS
            or config.get("validate_by_alias") is False
        ):
            return _unsure(f"model {schema['cls'].__name__} of an unusual shape")
        fields = []
        for name, field in fields_schema["fields"].items():
            alias = field.get("validation_alias")
            if (alias is not None and not isinstance(alias, str)) or set(field) - _IGNORED - _FIELD_KEYS:
                return _unsure(f"field {name} of an unusual shape")
            keys = [alias] if alias else []
            if not alias or config.get("validate_by_name"):
                keys.append(name)
            try:
                fields.append([name, list(dict.fromkeys(keys)), *self._field(field["schema"])])
            except _Unknown as unknown:
                return _unsure(f"field {name}: {unknown}")
        extra = fields_schema.get("extra_behavior") or config.get("extra_fields_behavior") or "ignore"
        return {"t": "model", "fields": fields, "extra": extra}

    def _field(self, schema: dict[str, Any]) -> tuple[bool, bool, dict[str, Any]]:
        """Whether the field has a default and refuses null, and its value's node. The wrapping
        every Sonata field has (default, then the not-null rule, then nullable) is folded into the
        first two, which keeps the compiled form small and quick to read."""
        has_default = schema["type"] == "default"
        if has_default:
            if set(schema) - _IGNORED != {"default", "schema"}:  # a default factory, or validated
                raise _Unknown(f"a default with {sorted(set(schema) - _IGNORED)}")
            schema = schema["schema"]
        not_null = schema["type"] == "function-before" and self._before_name(schema) == "not_null"
        if not_null:
            schema = schema["schema"]
            if schema["type"] == "nullable" and set(schema) - _IGNORED == {"schema"}:
                schema = schema["schema"]  # null never gets past the rule
        return has_default, not_null, self.node(schema)

    @staticmethod
    def _before_name(schema: dict[str, Any]) -> str | None:
        function = schema["function"]["function"]
        function = getattr(function, "__func__", function)
        if function is common.SonataModel._not_null.__func__:
            return "not_null"
        return _BEFORE.get(function)


def _unsure(why: str) -> dict[str, Any]:
    return {"t": "unsure", "why": why}


def compile_models(*more: type[BaseModel]) -> dict[str, Any]:
    """Every public Sonata model (and ``more``), the notification envelopes by event type, as plain
    data."""
    from offnet.sonata import models

    compiler = _Compiler()
    for model in more:
        compiler.root(model)
    for name in models.__all__:
        value = getattr(models, name)
        if (
            isinstance(value, type)
            and issubclass(value, BaseModel)
            and value.__name__ == name
            and not value.__pydantic_generic_metadata__["parameters"]  # only its parametrised forms judge
        ):
            compiler.root(value)
    envelopes: dict[str, list[Any]] = {}
    for api in events.SONATA_APIS:  # the first API that knows an event type takes it
        for event_type, envelope in api.events.items():
            envelopes.setdefault(event_type, [compiler.root(envelope), api.notification, api.version])
    return {
        "format": FORMAT,
        "roots": compiler.roots,
        "definitions": compiler.definitions,
        "envelopes": envelopes,
    }
