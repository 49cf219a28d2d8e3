"""The pre-check of `offnet sonata validate`: the models compiled to plain data, judged without
pydantic, giving the models' own verdict or none; and its cache, which is rebuilt whenever it is
stale, unreadable or corrupt, and never left half written."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Annotated, Any

import pytest
from pydantic import ConfigDict, Field

from offnet.sonata import models as m
from offnet.sonata import precheck
from offnet.sonata.examples import example_names, load_example
from offnet.sonata.models.compiled import compile_models
from offnet.sonata.precheck import CACHE_ENV, CACHE_FILE, Precheck
from offnet.testing.mutants import mutants, replacements

ROOT = Path(__file__).resolve().parents[3]
PROGRAM = compile_models()
PRECHECK = Precheck(PROGRAM)
MODELS = sorted(PROGRAM["roots"])
EXAMPLES = sorted(example_names())

# Values at the edges of what the pre-check reads itself, put in place of every value of every
# example: leap seconds, date-times in forms pydantic reads and Python does not (or the other way
# round), non-ASCII digits and texts, a lone surrogate, a trailing newline against a `$` pattern,
# numbers at the edge of a JSON number, places and configurations of another kind.
EDGES: list[Any] = [
    "2026-06-30T23:59:60Z",
    "2026-06-30T23:59:60.5+02:00",
    "2026-01-01t10:00:00z",
    "2026-01-01T10:00:00.1234567Z",
    "2026-01-01T10:00:00+24:00",
    "2026-01-01T10:00:00+23:59",
    "0000-01-01T00:00:00Z",
    "\uff12\uff10\uff12\uff16-01-01T10:00:00Z",
    "2026-01-01T10:00:00Z\n",
    "https://example.com/é",
    "https://example.com/x\n",
    "urn:x",
    "\ud800",
    "ÉTÉ",
    "FieldedAddress",
    "GeographicSiteRef",
    "FORM_U",
    m.ACCESS_ELINE_OVC_TYPE,
    0,
    1,
    -0.0,
    1e308,
    2**64,
    True,
    False,
    {"@type": "FieldedAddress", "role": "x", "city": "c", "country": "FR", "streetName": "s"},
    {"mapType": "ENDPOINT"},
    [1, 1],
    [{"a": 1}, {"a": 1}],
]


def _subclasses(model: type[m.SonataModel]) -> Any:
    for subclass in model.__subclasses__():
        yield subclass
        yield from _subclasses(subclass)


CLASSES = {model.__name__: model for model in [m.SonataModel, *_subclasses(m.SonataModel)]}


def models_verdict(model: str, document: Any) -> bool:
    try:
        m.validate(CLASSES[model], document)
    except ValueError:
        return False
    return True


def _nodes(node: Any) -> Any:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _nodes(value)


def test_compiled_models__every_step_of_every_model_is_understood() -> None:
    unsure = [node["why"] for node in _nodes(PROGRAM) if node.get("t") == "unsure"]
    assert unsure == []
    assert {"QuoteCreate", "ProductOrder", "TroubleTicketUpdate", "AccessElineOvc", "QuoteEvent"} <= set(
        MODELS
    )


@pytest.mark.parametrize("example", EXAMPLES)
def test_examples__every_model_gives_the_models_verdict(example: str) -> None:
    document = load_example(example)
    verdicts = {model: PRECHECK.judge(model, document) for model in MODELS}
    assert verdicts == {model: models_verdict(model, document) for model in MODELS}
    assert any(verdicts.values())


EXAMPLE_MODELS = {
    "quote_create": "QuoteCreate",
    "quote": "Quote",
    "product_order_create": "ProductOrderCreate",
    "product_order": "ProductOrder",
    "trouble_ticket_create": "TroubleTicketCreate",
    "trouble_ticket": "TroubleTicket",
    "access_eline_configuration": "AccessElineOvc",
}


def _own_model(example: str) -> str:
    document = load_example(example)
    if "eventType" in document:
        return PRECHECK.envelope(document["eventType"])[0]
    return EXAMPLE_MODELS[example]


@pytest.mark.parametrize("example", EXAMPLES)
def test_mutants_of_the_examples__get_the_models_verdict_or_none(example: str) -> None:
    model = _own_model(example)
    seed = load_example(example)
    assert PRECHECK.judge(model, seed) is True
    decided = {True: 0, False: 0, None: 0}
    for mutant in mutants(seed, lambda value: replacements(value) + EDGES):
        verdict = PRECHECK.judge(model, mutant)
        decided[verdict] += 1
        if verdict is not None:
            assert verdict == models_verdict(model, mutant), f"{model}: {json.dumps(mutant)[:600]}"
    # Most documents are judged without the models; refusals among them.
    assert decided[True] and decided[False]
    assert decided[None] < 0.2 * sum(decided.values())


@pytest.mark.parametrize(
    ("value", "verdict", "models"),
    [
        ("2026-06-30T23:59:60Z", True, True),  # a leap second, read as :59 by both
        ("2026-01-01t10:00:00z", None, True),  # forms pydantic reads and the pre-check leaves to it
        ("2026-01-01T10:00:00.1234567Z", None, True),
        ("\uff12\uff10\uff12\uff16-01-01T10:00:00Z", None, False),
        ("2026-02-30T10:00:00Z", None, False),
        ("next tuesday", False, False),
        (None, False, False),
        (1_900_000_000, False, False),
    ],
)
def test_date_times__judged_only_in_the_form_read_here(
    value: Any, verdict: bool | None, models: bool
) -> None:
    document = load_example("quote_create") | {"requestedQuoteCompletionDate": value}
    assert PRECHECK.judge("QuoteCreate", document) is verdict
    assert models_verdict("QuoteCreate", document) is models


class Stripped(m.SonataModel):
    """A model with a setting the compiler does not know (texts stripped before they are judged)."""

    model_config = ConfigDict(str_strip_whitespace=True)
    name: m.Str


class Stepped(m.SonataModel):
    """A model with a constraint the compiler does not know, on one field."""

    name: m.Str
    code: Annotated[int, Field(multiple_of=5, strict=True)] | None = None


def test_steps_the_compiler_does_not_know__leave_the_documents_that_reach_them_to_the_models() -> None:
    check = Precheck(compile_models(Stripped, Stepped))
    assert check.judge("Stripped", {"name": "x"}) is None
    assert check.judge("Stepped", {"name": "x"}) is True
    assert check.judge("Stepped", {"name": 1}) is False
    assert check.judge("Stepped", {"name": "x", "code": 10}) is None
    assert Stepped.model_validate({"name": "x", "code": 10}).code == 10


def test_a_property_given_by_alias_and_by_name__is_left_to_the_models() -> None:
    document = load_example("quote_create")
    place = document["quoteItem"][0]["product"]["place"][0]
    place["type"] = place["@type"]
    assert PRECHECK.judge("QuoteCreate", document) is None


def test_an_unknown_model_or_event_type__is_left_to_the_models() -> None:
    assert PRECHECK.judge("NoSuchModel", {}) is None
    assert PRECHECK.envelope("quoteLostEvent") is None
    assert PRECHECK.envelope(["quoteStateChangeEvent"]) is None
    assert PRECHECK.envelope("quoteStateChangeEvent") == ("QuoteEvent", "quoteNotification", 8)


# --- the cache ----------------------------------------------------------------------------------


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(folder))
    return folder / CACHE_FILE


def _header(path: Path) -> dict[str, Any]:
    return json.loads(path.read_bytes().partition(b"\n")[0])


def test_load__cold_cache__compiles_the_models_and_keeps_them(cache: Path) -> None:
    assert not cache.exists()
    assert precheck.load().judge("QuoteCreate", load_example("quote_create")) is True
    assert _header(cache)["key"] == precheck.source_key()
    assert [p.name for p in cache.parent.iterdir()] == [CACHE_FILE]  # no temporary file left


def _in_a_process(script: str, cache_dir: Path) -> str:
    env = {**os.environ, CACHE_ENV: str(cache_dir)}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_load__warm_cache__judges_without_importing_pydantic(tmp_path: Path) -> None:
    script = """
        import sys
        from offnet.sonata import precheck
        from offnet.sonata.examples import load_example
        print(precheck.load().judge("QuoteCreate", load_example("quote_create")), "pydantic" in sys.modules)
    """
    assert _in_a_process(script, tmp_path) == "True True"  # cold: compiled from the models
    assert _in_a_process(script, tmp_path) == "True False"  # warm: read from the cache


def test_load__stale_cache__is_compiled_again(cache: Path) -> None:
    precheck.load()
    header, _, body = cache.read_bytes().partition(b"\n")
    program = json.loads(body)
    program["roots"]["QuoteCreate"] = {"t": "any"}  # what an older model would have compiled to
    stale = json.dumps(program).encode()
    meta = json.loads(header) | {"key": "an older source", "digest": precheck.sha3_256(stale).hexdigest()}
    cache.write_bytes(json.dumps(meta).encode() + b"\n" + stale)

    assert precheck.load().judge("QuoteCreate", {}) is False
    assert _header(cache)["key"] == precheck.source_key()


def test_source_key__changes_with_the_models_the_rules_the_checker_and_pydantic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "sonata"
    shutil.copytree(Path(precheck.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(precheck, "_HERE", str(copy))
    keys = [precheck.source_key()]
    for changed in ("models/quote.py", "models/common.py", "rules.py", "precheck.py"):
        with open(copy / changed, "a") as handle:
            handle.write("\n# changed\n")
        keys.append(precheck.source_key())
    (copy / "models" / "new_api.py").write_text("# a new module of models\n")
    keys.append(precheck.source_key())
    version = tmp_path / "version.py"
    version.write_text("VERSION = '2.14.4'\n")
    monkeypatch.setattr(precheck, "_pydantic_version_file", lambda: str(version))
    keys.append(precheck.source_key())
    version.write_text("VERSION = '2.15.0'\n")  # pydantic upgraded
    keys.append(precheck.source_key())
    assert len(set(keys)) == len(keys)


def test_source_key__reads_the_installed_pydantics_version() -> None:
    import pydantic

    with open(precheck._pydantic_version_file()) as handle:
        assert f"VERSION = '{pydantic.VERSION}'" in handle.read()


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda text: b"",
        lambda text: b"not json at all",
        lambda text: text[: len(text) // 2],  # cut short
        lambda text: text[:-20] + bytes(20),  # bytes changed under the digest
        lambda text: text.replace(b'"format":1', b'"format":0'),  # digest no longer matches
    ],
    ids=["empty", "garbage", "truncated", "zeroed", "edited"],
)
def test_load__corrupt_cache__is_ignored_and_rebuilt(cache: Path, corrupt) -> None:
    precheck.load()
    cache.write_bytes(corrupt(cache.read_bytes()))
    assert precheck.load().judge("QuoteCreate", load_example("quote_create")) is True
    assert _header(cache)["key"] == precheck.source_key()


def test_load__cache_of_another_shape_with_a_good_digest__is_rebuilt(cache: Path) -> None:
    precheck.load()
    body = json.dumps({"format": precheck.FORMAT, "roots": []}).encode()
    meta = {"key": precheck.source_key(), "digest": precheck.sha3_256(body).hexdigest()}
    cache.write_bytes(json.dumps(meta).encode() + b"\n" + body)
    assert precheck.load().judge("QuoteCreate", load_example("quote_create")) is True
    assert "QuoteCreate" in json.loads(cache.read_bytes().partition(b"\n")[2])["roots"]


def test_load__cache_folder_that_cannot_be_written__still_judges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "a-file" / "cache"))
    assert precheck.load().judge("QuoteCreate", load_example("quote_create")) is True
    (tmp_path / "folder" / CACHE_FILE).mkdir(parents=True)  # a folder where the file should be
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "folder"))
    assert precheck.load().judge("QuoteCreate", load_example("quote_create")) is True
    assert os.listdir(tmp_path / "folder") == [CACHE_FILE]  # its temporary file removed


def test_concurrent_writers__never_leave_a_half_file(cache: Path) -> None:
    precheck.load()
    key = precheck.source_key()
    writer = f"""
        import json
        from offnet.sonata import precheck
        program = json.loads(open({str(cache)!r}, "rb").read().partition(b"\\n")[2])
        for _ in range(40):
            precheck._write({str(cache)!r}, {key!r}, program)
    """
    writers = [
        subprocess.Popen([sys.executable, "-c", textwrap.dedent(writer)], env={**os.environ})
        for _ in range(4)
    ]
    reads = 0
    while any(w.poll() is None for w in writers):
        assert precheck._read(str(cache), key) is not None
        reads += 1
    assert [w.returncode for w in writers] == [0, 0, 0, 0] and reads > 0
    assert [p.name for p in cache.parent.iterdir()] == [CACHE_FILE]


def test_cache_dir__the_users_cache_never_the_project(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "mine"))
    assert precheck.cache_dir() == str(tmp_path / "mine")
    monkeypatch.delenv(CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert precheck.cache_dir() == str(tmp_path / "xdg" / "offnet")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert precheck.cache_dir() == str(tmp_path / "home" / ".cache" / "offnet")
    assert not Path(precheck.cache_dir()).resolve().is_relative_to(ROOT)
