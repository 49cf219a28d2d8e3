"""`offnet sonata validate`: kind detected or given, model checked, canonical keccak-256 printed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from offnet.cli.main import main
from offnet.cli.sonata import KINDS
from offnet.sonata import models as m
from offnet.sonata.canonical import document_hash
from offnet.sonata.examples import load_example
from offnet.testing.mutants import mutants


def run(*args: str) -> tuple[int, str, str]:
    runner = CliRunner(mix_stderr=False)
    with runner.isolation() as (out, err):
        code = main(list(args))
        return code, out.getvalue().decode(), err.getvalue().decode()


@pytest.fixture
def write(tmp_path: Path):
    def write(name: str, data) -> str:
        path = tmp_path / name
        path.write_text(data if isinstance(data, str) else json.dumps(data, indent=4))
        return str(path)

    return write


@pytest.mark.parametrize(
    ("example", "kind", "model"),
    [
        ("quote_create", "quote-request", "QuoteCreate"),
        ("quote", "quote", "Quote"),
        ("product_order_create", "product-order-request", "ProductOrderCreate"),
        ("product_order", "product-order", "ProductOrder"),
        ("trouble_ticket_create", "trouble-ticket-request", "TroubleTicketCreate"),
        ("trouble_ticket", "trouble-ticket", "TroubleTicket"),
        (
            "notifications/productOrderingNotification.productOrderStateChangeEvent",
            "notification",
            "ProductOrderEvent",
        ),
        ("notifications/quoteNotification.quoteItemStateChangeEvent", "notification", "QuoteEvent"),
        (
            "notifications/troubleTicketNotification.troubleTicketResolvedEvent",
            "notification",
            "TroubleTicketEvent",
        ),
    ],
)
def test_validate__detects_the_kind_and_prints_the_canonical_hash(write, example, kind, model):
    data = load_example(example)
    code, out, err = run("sonata", "validate", write("doc.json", data))
    assert (code, err) == (0, "")
    assert out.splitlines() == [out.splitlines()[0], "0x" + document_hash(data).hex()]
    assert out.startswith(f"valid {kind}: {model}")


def test_validate__hash_ignores_key_order_and_whitespace(write):
    data = load_example("quote_create")
    reordered = json.dumps(dict(reversed(list(data.items()))), indent=1)
    _, first, _ = run("sonata", "validate", write("a.json", data), "--json")
    _, second, _ = run("sonata", "validate", write("b.json", reordered), "--json")
    assert (
        json.loads(first)["keccak256"] == json.loads(second)["keccak256"] == "0x" + document_hash(data).hex()
    )


def test_validate__forced_kind_that_does_not_fit__names_the_bad_field(write):
    code, out, err = run(
        "sonata", "validate", write("q.json", load_example("quote_create")), "--kind", "product-order-request"
    )
    assert code == 1 and out == ""
    assert err.startswith("error: invalid ProductOrderCreate: productOrderItem: required property missing")
    assert len(err.strip().splitlines()) == 1


def test_validate__invalid_quote_request__one_line_error(write):
    data = load_example("quote_create")
    data["requestedQuoteCompletionDate"] = "next tuesday"
    code, _, err = run("sonata", "validate", write("q.json", data))
    assert code == 1 and "requestedQuoteCompletionDate" in err and len(err.strip().splitlines()) == 1


def test_validate__notification_with_unknown_event_type__refused(write):
    data = load_example("notifications/quoteNotification.quoteStateChangeEvent") | {
        "eventType": "quoteLostEvent"
    }
    code, _, err = run("sonata", "validate", write("n.json", data))
    assert code == 1 and err.strip() == "error: unknown notification eventType 'quoteLostEvent'"


def test_validate__undetectable_or_broken_or_missing_file__one_line_errors(write, tmp_path):
    assert run("sonata", "validate", write("x.json", {"hello": 1}))[2].startswith(
        "error: cannot tell the document kind"
    )
    assert "is not valid JSON" in run("sonata", "validate", write("y.json", "{oops"))[2]
    code, _, err = run("sonata", "validate", str(tmp_path / "absent.json"))
    assert code == 1 and err.startswith("error: Sonata document not found")


def test_seller__unknown_profile__refused_before_serving():
    code, _, err = run("sonata", "seller", "--profile", "no-such-profile", "--port", "0")
    assert code == 1 and err.startswith("error: unknown seller profile 'no-such-profile'; known: ")


def test_seller__malformed_token__refused():
    code, _, err = run("sonata", "seller", "--token", "just-a-token")
    assert code == 1 and "expected TOKEN=BUYER_ID" in err


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda t: t.update(observedImpact="unavailable"), "observedImpact"),
        (lambda t: t.pop("relatedContactInformation"), "relatedContactInformation"),
        (lambda t: t["relatedEntity"][0].pop("@referredType"), "relatedEntity.0.@referredType"),
        (lambda t: t.update(priority="urgent"), "priority"),
    ],
)
def test_validate__mef_invalid_trouble_ticket__refused_in_one_line_naming_the_field(write, mutate, field):
    ticket = load_example("trouble_ticket_create")
    mutate(ticket)
    code, out, err = run("sonata", "validate", write("tt.json", ticket), "--kind", "trouble-ticket-request")
    assert code != 0 and out == ""
    assert err.startswith("error: invalid TroubleTicketCreate: ") and f"{field}:" in err
    assert len(err.strip().splitlines()) == 1


# --- the pre-check: the models' verdicts and words, without loading them --------------------------


HEAVY = {"pydantic", "pydantic_core", "eth_hash", "web3", "eth_utils", "offnet.market", "offnet.chain"}


def _modules_after(args: list[str]) -> tuple[list[str], list[str]]:
    script = (
        "import sys\nfrom offnet.cli.main import main\n"
        f"code = main({args!r})\n"
        "loaded = {m.split('.')[0] for m in sys.modules} | {m.rpartition('.')[0] for m in sys.modules}\n"
        f"print(code, sorted(loaded & {HEAVY!r}))"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    *out, last = result.stdout.splitlines()
    return out, last.split(" ", 1)


@pytest.mark.parametrize("as_json", [False, True])
def test_validate__warm_cache__answers_without_loading_pydantic_or_the_chain_libraries(write, as_json):
    path = write("q.json", load_example("quote_create"))
    args = ["sonata", "validate", path] + (["--json"] if as_json else [])
    _modules_after(args)  # the first run may compile the models into the cache
    out, (code, heavy) = _modules_after(args)
    digest = "0x" + document_hash(load_example("quote_create")).hex()
    assert (code, heavy) == ("0", "[]")
    if as_json:
        assert json.loads("\n".join(out)) == {
            "file": path,
            "kind": "quote-request",
            "model": "QuoteCreate (quoteManagement v8)",
            "valid": True,
            "keccak256": digest,
        }
    else:
        assert out == ["valid quote-request: QuoteCreate (quoteManagement v8)", digest]


@pytest.mark.parametrize(
    ("date", "error"),
    [
        ("2026-01-01t10:00:00z", None),  # valid, in a form the pre-check leaves to the models
        ("2026-02-30T10:00:00Z", "requestedQuoteCompletionDate: Input should be a valid datetime"),
    ],
)
def test_validate__documents_the_precheck_leaves__are_judged_by_the_models(write, date, error):
    data = load_example("quote_create") | {"requestedQuoteCompletionDate": date}
    code, out, err = run("sonata", "validate", write("q.json", data))
    if error is None:
        assert (code, err) == (0, "") and out.startswith("valid quote-request: QuoteCreate")
    else:
        assert code == 1 and out == "" and error in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("example", "kind"),
    [
        ("quote_create", "quote-request"),
        ("trouble_ticket", "trouble-ticket"),
        ("notifications/productOrderingNotification.productOrderItemStateChangeEvent", "notification"),
    ],
)
def test_validate__mutants__same_verdict_and_same_words_as_the_models(write, example, kind):
    name = KINDS[kind][0]
    for index, mutant in enumerate(mutants(load_example(example))):
        code, out, err = run("sonata", "validate", write(f"m{index}.json", mutant), "--kind", kind)
        try:
            if kind == "notification":
                api = next((a for a in m.SONATA_APIS if mutant.get("eventType") in a.events), None)
                if api is None:
                    raise ValueError(f"unknown notification eventType {mutant.get('eventType')!r}")
                m.parse_notification(api.notification, mutant["eventType"], mutant)
            else:
                m.validate(getattr(m, name), mutant)
        except ValueError as exc:
            assert (code, out, err) == (1, "", f"error: {' '.join(str(exc).split())}\n"), mutant
        else:
            assert code == 0 and err == "" and out.endswith(document_hash(mutant).hex() + "\n"), mutant
