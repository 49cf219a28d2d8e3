"""The MEF LSO Sonata SDK as judge: its specs read from the SDK folder at test time (never copied
into the project), a JSON-Schema judge for any of their schemas, and the MEF 106 Access E-Line
product schema bundled from its files so the judge can apply it to ``productConfiguration``."""

from __future__ import annotations

import copy
import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

ROOT = Path(__file__).resolve().parents[2]
ACCESS_ELINE = "urn:mef:lso:spec:sonata:access-eline-ovc:v5.0.0:all"
ACCESS_ELINE_SCHEMA = "productSchema/carrierEthernet/operatorEthernet/accessEline/accessElineOvc.yaml"

SELLER_SPECS = {
    "quote": "productApi/quote/quoteManagement.api.yaml",
    "productOrder": "productApi/order/productOrderManagement.api.yaml",
    "troubleTicket": "productApi/troubleTicket/troubleTicketManagement.api.yaml",
}
NOTIFICATION_SPECS = {
    "quote": "productApi/quote/quoteNotification.api.yaml",
    "productOrder": "productApi/order/productOrderNotification.api.yaml",
    "troubleTicket": "productApi/troubleTicket/troubleTicketNotification.api.yaml",
}
SECURITY_SPECS = {
    "quote": (
        "generated/security/quote/quoteManagement.api.yaml",
        "generated/security/quote/quoteNotification.api.yaml",
    ),
    "productOrder": (
        "generated/security/order/productOrderManagement.api.yaml",
        "generated/security/order/productOrderNotification.api.yaml",
    ),
    "troubleTicket": (
        "generated/security/troubleTicket/troubleTicketManagement.api.yaml",
        "generated/security/troubleTicket/troubleTicketNotification.api.yaml",
    ),
}


def find_sdk() -> Path | None:
    """The SDK folder: ``$MEF_SDK``, else ``../shared/mef-sdk`` beside the checkout, else
    ``/work/shared/mef-sdk``; None if none of them holds the specs."""
    candidates = [os.environ.get("MEF_SDK"), ROOT.parent / "shared" / "mef-sdk", "/work/shared/mef-sdk"]
    for candidate in candidates:
        if candidate and (Path(candidate) / SELLER_SPECS["quote"]).is_file():
            return Path(candidate).resolve()
    return None


class _Loader(yaml.SafeLoader):
    """YAML as JSON sees it: dates stay strings (the specs' examples hold timestamps)."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@functools.cache
def load(path: Path) -> dict[str, Any]:
    """A spec or schema file, parsed once."""
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_Loader)


def base_path(spec: dict[str, Any]) -> str:
    """The path part of a spec's server URL, e.g. ``/mefApi/sonata/quoteManagement/v8``."""
    return spec["servers"][0]["url"].split("{serverBase}", 1)[1].rstrip("/")


@functools.cache
def access_eline_schema(sdk: Path) -> dict[str, Any]:
    """The Access E-Line OVC product schema with every file reference inlined as a definition."""
    definitions: dict[str, Any] = {}

    def visit(node: Any, file: Path) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                target, _, fragment = node["$ref"].partition("#")
                path = (file.parent / target).resolve() if target else file
                name = f"{path.stem}.{fragment.rsplit('/', 1)[-1]}" if fragment else path.stem
                if name not in definitions:
                    definitions[name] = {}
                    resolved: Any = load(path)
                    for part in fragment.strip("/").split("/") if fragment else []:
                        resolved = resolved[part]
                    definitions[name] = visit(copy.deepcopy(resolved), path)
                return {"$ref": f"#/definitions/{name}"}
            return {
                k: visit(v, file)
                for k, v in node.items()
                if k not in ("$id", "$schema", "title") and v is not None  # an empty "properties:"
            }
        if isinstance(node, list):
            return [visit(v, file) for v in node]
        return node

    top = sdk / ACCESS_ELINE_SCHEMA
    root = visit(copy.deepcopy(load(top)), top)
    root.pop("definitions", None)
    return {**root, "definitions": definitions}


def tolerate_use_case_departures(configuration: dict[str, Any]) -> dict[str, Any]:
    """The two departures of MEF's own Access E-Line use cases that offnet accepts (``l2cp_P`` as
    one object, an empty ingress bandwidth-profile list at the ENNI), rewritten into the schema's
    form so the schema judges the rest."""
    document = copy.deepcopy(configuration)
    for end_point in ("uniEp", "enniEp"):
        ep = document.get(end_point)
        if not isinstance(ep, dict):
            continue
        for key in ("ingressClassOfServiceMap", "egressEquivalenceClassIdentifier"):
            cos_map = ep.get(key)
            if isinstance(cos_map, dict) and isinstance(cos_map.get("l2cp_P"), dict):
                cos_map["l2cp_P"] = [cos_map["l2cp_P"]]
        if end_point == "enniEp" and ep.get("ingressBandwidthProfilePerClassOfServiceName") == []:
            del ep["ingressBandwidthProfilePerClassOfServiceName"]
    return document


@dataclass(frozen=True)
class Verdict:
    valid: bool
    errors: tuple[str, ...]


class Judge:
    """MEF's schemas as judge: a component schema of a spec, plus the Access E-Line product
    schema for every ``productConfiguration`` of that type, and the discriminator mappings the
    specs declare (a place's ``@type`` names its kind)."""

    def __init__(self, sdk: Path) -> None:
        self.sdk = sdk
        self._validators: dict[tuple[str, str], Any] = {}
        self._access_eline = jsonschema_rs.Draft7Validator(access_eline_schema(sdk), validate_formats=True)

    def spec(self, relative: str) -> dict[str, Any]:
        return load(self.sdk / relative)

    def validator(self, relative: str, schema: str) -> Any:
        key = (relative, schema)
        if key not in self._validators:
            document = {
                "$ref": f"#/components/schemas/{schema}",
                "components": self.spec(relative)["components"],
            }
            self._validators[key] = jsonschema_rs.Draft4Validator(document, validate_formats=True)
        return self._validators[key]

    def judge(self, relative: str, schema: str, document: Any) -> Verdict:
        """Whether ``document`` is a valid ``schema`` of the spec at ``relative``."""
        errors = [
            f"{'/'.join(map(str, e.instance_path))}: {e.message}"
            for e in self.validator(relative, schema).iter_errors(document)
        ]
        components = self.spec(relative)["components"]["schemas"]
        for path, node in _walk(document):
            if (
                path
                and path[-1] == "productConfiguration"
                and isinstance(node, dict)
                and node.get("@type") == ACCESS_ELINE
            ):
                configuration = tolerate_use_case_departures({k: v for k, v in node.items() if k != "@type"})
                errors += [
                    f"{'/'.join(map(str, path))}/{'/'.join(map(str, e.instance_path))}: {e.message}"
                    for e in self._access_eline.iter_errors(configuration)
                ]
            if path and path[-1] == "place" and isinstance(node, list):
                errors += _discriminated(components, "RelatedPlaceRefOrValue", node, path)
        return Verdict(not errors, tuple(errors))


def _discriminated(
    components: dict[str, Any], base: str, items: list[Any], path: tuple[Any, ...]
) -> list[str]:
    """The discriminator's rule the JSON-Schema validator ignores: ``@type`` must name a mapped
    kind, and the item must be valid as that kind."""
    mapping = components[base]["discriminator"]["mapping"]
    errors = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        kind = item.get("@type")
        if kind not in mapping:
            errors.append(
                f"{'/'.join(map(str, path))}/{index}/@type: {kind!r} is not one of {sorted(mapping)}"
            )
            continue
        schema = {"$ref": mapping[kind], "components": {"schemas": components}}
        errors += [
            f"{'/'.join(map(str, path))}/{index}: {e.message}"
            for e in jsonschema_rs.Draft4Validator(schema).iter_errors(item)
        ]
    return errors


def _walk(node: Any, path: tuple[Any, ...] = ()) -> Any:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, (*path, index))


def documents(sdk: Path, relative: str, schema: str) -> Any:
    """A Hypothesis strategy of documents valid as ``schema`` of the spec at ``relative``
    (Schemathesis generates them as the body of a synthetic operation taking that schema)."""
    import schemathesis

    components = copy.deepcopy(load(sdk / relative)["components"])
    return _body_strategy(schemathesis.openapi.from_dict(_synthetic(components, schema)))


def access_eline_configurations(sdk: Path) -> Any:
    """A Hypothesis strategy of Access E-Line OVC product configurations valid as the product
    schema says (``@type`` included)."""
    import schemathesis

    bundled = access_eline_schema(sdk)
    schemas = {name: _to_components(node) for name, node in bundled["definitions"].items()}
    schemas["AccessElineOvc"] = _to_components({k: v for k, v in bundled.items() if k != "definitions"})
    schema = schemathesis.openapi.from_dict(_synthetic({"schemas": schemas}, "AccessElineOvc"))
    return _body_strategy(schema).map(lambda body: {"@type": ACCESS_ELINE, **body})


def _to_components(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: (v.replace("#/definitions/", "#/components/schemas/") if k == "$ref" else _to_components(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_to_components(v) for v in node]
    return node


def _synthetic(components: dict[str, Any], schema: str) -> dict[str, Any]:
    return {
        "openapi": "3.0.1",
        "info": {"title": f"documents of {schema}", "version": "1"},
        "paths": {
            "/document": {
                "post": {
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}
                        },
                    },
                    "responses": {"204": {"description": "taken"}},
                }
            }
        },
        "components": components,
    }


def _body_strategy(schema: Any) -> Any:
    [operation] = [result.ok() for result in schema.get_all_operations()]
    return operation.as_strategy().map(lambda case: case.body)
