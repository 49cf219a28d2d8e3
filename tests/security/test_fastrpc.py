"""The campaign's lean RPC path decodes and signs exactly as the libraries it replaces: its word decoder
gives what eth-abi gives for every return type the suite's views have, its event decoder what web3's
does, and its transaction signer the bytes eth-account signs."""

from __future__ import annotations

from types import SimpleNamespace

from eth_abi import decode, encode
from eth_account import Account
from eth_utils import keccak
from fastrpc import EventBook, FastSender, _split_tuple, _type, decoder
from hypothesis import given, settings
from hypothesis import strategies as st
from web3 import Web3
from web3._utils.events import get_event_data

from offnet.chain import load_artifact

CONTRACTS = ("OrderEscrow", "RfqMarket", "SlaLedger", "CarrierRegistry", "ContractNotary", "TestStablecoin")


def _view_types() -> set[tuple[str, ...]]:
    """Every output type list of every function of the suite."""
    found = set()
    for name in CONTRACTS:
        for entry in load_artifact(name).abi:
            if entry.get("type") == "function":
                found.add(tuple(_type(o) for o in entry["outputs"]))
    return found


def _value(abi_type: str) -> st.SearchStrategy:
    if abi_type.endswith("[]"):
        return st.lists(_value(abi_type[:-2]), max_size=3)
    if abi_type.startswith("("):
        return st.tuples(*(_value(t) for t in _split_tuple(abi_type)))
    if abi_type == "bool":
        return st.booleans()
    if abi_type == "address":
        return st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
    if abi_type.startswith("bytes") and abi_type != "bytes":
        size = int(abi_type[5:])
        return st.binary(min_size=size, max_size=size)
    if abi_type.startswith("uint"):
        return st.integers(0, 2 ** int(abi_type[4:] or 256) - 1)
    if abi_type.startswith("int"):
        bits = int(abi_type[3:] or 256)
        return st.integers(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    if abi_type == "string":
        return st.text(max_size=40)
    if abi_type == "bytes":
        return st.binary(max_size=80)
    raise AssertionError(f"no strategy for {abi_type}")


TYPES = sorted(_view_types())


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(st.data())
def test_word_decoder__every_view_return_type__equals_eth_abi(data):
    types = data.draw(st.sampled_from(TYPES))
    values = data.draw(st.tuples(*(_value(t) for t in types)))
    encoded = encode(list(types), list(values))
    assert decoder(types)(encoded) == decode(list(types), encoded)


def _events() -> list[dict]:
    """Every event of every contract of the suite without struct arguments (the campaign reads none;
    for a struct our decoder gives a tuple where web3 gives a dict)."""
    found = []
    for name in CONTRACTS:
        for entry in load_artifact(name).abi:
            if entry.get("type") == "event" and not any(_type(i).startswith("(") for i in entry["inputs"]):
                found.append({**entry, "contract": ADDRESSES[name]})
    return found


ADDRESSES = {name: "0x" + f"{i + 1:040x}" for i, name in enumerate(CONTRACTS)}
EVENTS = _events()
BOOK = EventBook([(ADDRESSES[n], load_artifact(n).abi) for n in CONTRACTS])
W3 = Web3()


def _topic(abi_type: str, value) -> str:
    """An indexed argument as a log topic (a dynamic one is its hash; any 32 bytes will do)."""
    if abi_type in ("string", "bytes") or abi_type.endswith("]"):
        return "0x" + "11" * 32
    return "0x" + encode([abi_type], [value]).hex()


@settings(max_examples=200, deadline=None, database=None, derandomize=True)
@given(st.data())
def test_event_decoder__events_of_the_suite__equal_web3(data):
    entry = data.draw(st.sampled_from(EVENTS))
    types = [_type(i) for i in entry["inputs"]]
    topic0 = "0x" + keccak(text=f"{entry['name']}({','.join(types)})").hex()
    indexed = [i for i in entry["inputs"] if i["indexed"]]
    values = dict(
        zip((i["name"] for i in entry["inputs"]), data.draw(st.tuples(*map(_value, types))), strict=True)
    )
    plain = [i for i in entry["inputs"] if not i["indexed"]]
    log = {
        "address": entry["contract"],
        "topics": [topic0] + [_topic(_type(i), values[i["name"]]) for i in indexed],
        "data": "0x" + encode([_type(i) for i in plain], [values[i["name"]] for i in plain]).hex(),
    }
    web3_log = {
        "topics": [bytes.fromhex(t[2:]) for t in log["topics"]],
        "data": bytes.fromhex(log["data"][2:]),
        "logIndex": 0,
        "transactionIndex": 0,
        "transactionHash": b"\0" * 32,
        "address": "0x" + "00" * 20,
        "blockHash": b"\0" * 32,
        "blockNumber": 1,
    }
    assert BOOK.decode(log) == dict(get_event_data(W3.codec, entry, web3_log)["args"])


def test_transaction_signer__equals_eth_account():
    account = Account.from_key("0x" + "42" * 32)
    sender = FastSender(SimpleNamespace(chain_id=31337), account, EventBook([]))
    to, data = "0x" + "ab" * 20, "0x" + "cd" * 68
    ours = sender.sign(7, Web3.to_checksum_address(to), data)
    theirs = account.sign_transaction(
        {
            "to": Web3.to_checksum_address(to),
            "data": data,
            "value": 0,
            "gas": 6_000_000,
            "gasPrice": 2 * 10**9,
            "nonce": 7,
            "chainId": 31337,
        }
    )
    assert ours == "0x" + bytes(theirs.raw_transaction).hex()
