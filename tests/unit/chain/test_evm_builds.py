"""Both EVM builds from the same sources: the chain is probed, the build it runs is deployed, and a
chain no build runs is refused in one line naming what it lacks."""

from __future__ import annotations

import pytest

from offnet.chain import Sender, connect, load_artifact
from offnet.chain.artifacts import EVM_BUILDS, artifact_names
from offnet.chain.evm import EvmSupport, probe, select_build
from offnet.exceptions import ChainError, ContractRevert
from offnet.testing.accounts import funded_account


@pytest.mark.parametrize("evm", EVM_BUILDS)
def test_probe__an_embedded_chain_reports_its_own_rules(evm):
    with connect("embedded", evm=evm) as chain:
        support = probe(chain.w3)
        assert support.build == evm == chain.evm
        assert ("MCOPY" in support.supported) == (evm == "cancun")


def test_select_build__a_chain_without_push0_is_refused_naming_what_it_lacks():
    from offnet.chain.evm import MCOPY, PUSH0, TRANSIENT_STORAGE

    with pytest.raises(ChainError, match=r"lacks PUSH0 \(EIP-3855, Shanghai\).*needs Shanghai \(PUSH0\)"):
        select_build(EvmSupport((), (PUSH0, TRANSIENT_STORAGE, MCOPY)), "chain 1")


def test_builds__ship_the_same_contracts_and_abis():
    for name in artifact_names():
        cancun, shanghai = (load_artifact(name, evm) for evm in EVM_BUILDS)
        assert cancun.abi == shanghai.abi
    assert (
        load_artifact("OrderEscrow", "cancun").bytecode != load_artifact("OrderEscrow", "shanghai").bytecode
    )


@pytest.mark.parametrize("evm", EVM_BUILDS)
def test_deploy_suite__deploys_the_build_the_chain_runs(evm):
    from offnet.deployment import SuiteConfig, deploy_suite

    with connect("embedded", evm=evm) as chain:
        deployer = Sender(chain, funded_account(chain, "evm builds"))
        suite = deploy_suite(chain, deployer, SuiteConfig(founders=[deployer.address]))
        manifest = suite.manifest
        assert manifest.evm == evm
        for name, deployed in manifest.contracts.items():
            assert deployed.artifact_sha256 == load_artifact(name, evm).sha256
        # The reentrancy guard of the build runs: a guarded call of the escrow is refused by its
        # own check (not by an invalid opcode) on either EVM.
        with pytest.raises(ContractRevert, match="EscrowNotMarket"):
            suite.escrow.open_order(deployer, _terms(deployer.address, suite.token.address))


def _terms(party: str, token: str):
    from offnet.market.types import CreditSchedule, OrderTerms

    return OrderTerms(
        1, party, "0x" + "22" * 20, token, 1, 1, 1, 1, 1, 1, bytes(32), CreditSchedule.none(), bytes(32)
    )
