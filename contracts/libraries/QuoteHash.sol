// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.29;

import {CreditSchedule} from "../types/OrderTypes.sol";
import {IRfqMarket} from "../interfaces/IRfqMarket.sol";

/// @title QuoteHash
/// @notice EIP-712 struct hashes of a quote and its nested credit schedule (the off-chain signer in
/// offnet.market.quotes builds the same type strings).
library QuoteHash {
    bytes internal constant CREDIT_SCHEDULE_TYPE = "CreditSchedule(uint16 lateDeliveryBpsPerDay,uint16 lateDeliveryCapBps,"
        "uint32 availabilityObjectivePpm,uint16 availabilityCreditBps,uint32 frameDelayObjectiveUs,"
        "uint16 frameDelayCreditBps,uint32 frameLossObjectivePpm,uint16 frameLossCreditBps,"
        "uint32 timeToRestoreObjectiveSec,uint16 timeToRestoreCreditBps,uint16 monthlyCreditCapBps)";

    bytes internal constant QUOTE_TYPE = "Quote(uint256 rfqId,address provider,address buyer,address token,"
        "uint128 oneTimeCharge,uint128 monthlyCharge,uint16 termMonths,uint16 installDays,bytes32 slaTermsHash,"
        "CreditSchedule credits,uint16 prepaidMonths,uint40 validUntil,uint256 nonce,uint64 epoch,bytes32 contractHash)";

    bytes32 internal constant CREDIT_SCHEDULE_TYPEHASH = keccak256(CREDIT_SCHEDULE_TYPE);
    bytes32 internal constant QUOTE_TYPEHASH = keccak256(abi.encodePacked(QUOTE_TYPE, CREDIT_SCHEDULE_TYPE));

    /// @notice hashStruct of a credit schedule (its fields are all static, so abi.encode inlines them).
    function hashCredits(CreditSchedule calldata credits) internal pure returns (bytes32) {
        return keccak256(abi.encode(CREDIT_SCHEDULE_TYPEHASH, credits));
    }

    /// @notice hashStruct of a quote; encoded in two halves to stay within the stack.
    function hash(IRfqMarket.Quote calldata q) internal pure returns (bytes32) {
        return keccak256(
            bytes.concat(
                abi.encode(QUOTE_TYPEHASH, q.rfqId, q.provider, q.buyer, q.token, q.oneTimeCharge, q.monthlyCharge),
                abi.encode(
                    q.termMonths,
                    q.installDays,
                    q.slaTermsHash,
                    hashCredits(q.credits),
                    q.prepaidMonths,
                    q.validUntil,
                    q.nonce,
                    q.epoch,
                    q.contractHash
                )
            )
        );
    }
}
