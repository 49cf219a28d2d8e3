"""The relay's own ABI encoding of reports, byte for byte against eth_abi's generic encoder.

The oracle writes a report's words itself (eth_abi costs ~40 us a report on the hot path); every
hash the ledger checks (content hash, leaf, batch root) and the submit calldata must stay exactly
what eth_abi gives for any report the type admits, at the edges of every field's range too.
"""

import pytest
from eth_abi import encode
from eth_utils import keccak, to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from offnet.market.ledger import Batch
from offnet.market.types import REPORT_ABI, PeriodMetrics, ReportKind, SlaReport
from offnet.oracle.relay import SUBMIT_SELECTOR, submit_calldata


def uint(bits: int) -> st.SearchStrategy[int]:
    """Integers of a uint type, its edges drawn often."""
    return st.one_of(st.sampled_from([0, 1, 2**bits - 1]), st.integers(0, 2**bits - 1))


metrics = st.builds(PeriodMetrics, uint(32), uint(32), uint(32), uint(32), uint(16))
reports = st.builds(
    SlaReport,
    st.binary(min_size=32, max_size=32),
    st.sampled_from(list(ReportKind)),
    uint(256),
    uint(64),
    uint(64),
    metrics,
    st.binary(min_size=32, max_size=32),
)
members = st.binary(min_size=20, max_size=20).map(lambda raw: "0x" + raw.hex())


def reference_tree_root(leaves: list[bytes]) -> bytes:
    """The contract's pairing rule written plainly, with eth_utils' keccak: the test's oracle."""
    level = leaves
    while len(level) > 1:
        pairs = [sorted(level[i : i + 2]) for i in range(0, len(level) - 1, 2)]
        level = [keccak(a + b) for a, b in pairs] + ([level[-1]] if len(level) % 2 else [])
    return level[0]


@settings(max_examples=300, deadline=None)
@given(reports, members)
def test_report_encoding__equals_eth_abi_in_id_hash_and_leaf(report, member):
    assert report.abi_encoded() == encode([REPORT_ABI], [report.to_tuple()])
    assert report.report_id == keccak(
        encode(["bytes32", "uint8", "uint256"], [report.order_id, int(report.kind), report.key])
    )
    assert report.content_hash == keccak(encode([REPORT_ABI], [report.to_tuple()]))
    expected_leaf = keccak(encode(["address", REPORT_ABI], [to_checksum_address(member), report.to_tuple()]))
    assert report.leaf(member) == expected_leaf
    assert report.leaf(member.upper().replace("0X", "0x")) == expected_leaf


@settings(max_examples=150, deadline=None)
@given(st.lists(reports, min_size=0, max_size=40), uint(64))
def test_submit_calldata__equals_eth_abi_for_any_batch_and_lane(batch, lane):
    expected = SUBMIT_SELECTOR + encode(["uint64", f"{REPORT_ABI}[]"], [lane, [r.to_tuple() for r in batch]])
    assert submit_calldata(lane, batch) == expected


@settings(max_examples=100, deadline=None)
@given(st.lists(reports, min_size=1, max_size=70), members)
def test_batch_root__equals_the_plain_tree_over_eth_abi_leaves(batch, member):
    leaves = [
        keccak(encode(["address", REPORT_ABI], [to_checksum_address(member), r.to_tuple()])) for r in batch
    ]
    assert Batch.of(member, batch).root == reference_tree_root(leaves)


def test_submit_calldata__lane_outside_uint64__is_refused():
    report = SlaReport(bytes(32), ReportKind.PERIOD, 1)
    for lane in (-1, 2**64):
        with pytest.raises(ValueError, match="uint64"):
            submit_calldata(lane, [report])


def test_report_leaf__not_an_address__is_refused():
    report = SlaReport(bytes(32), ReportKind.PERIOD, 1)
    for member in ("0x1234", "not an address", "0x" + "ab" * 21):
        with pytest.raises(ValueError):
            report.leaf(member)
