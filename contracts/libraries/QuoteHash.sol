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

    /// @notice hashStruct of a quote: keccak256(QUOTE_TYPEHASH, its first nine fields, hashStruct of
    /// its credit schedule, its last five fields).
    /// @dev Hashed straight from calldata in scratch memory: a Quote is a static struct of 25 words
    /// (the credit schedule inline at words 9..19). Equal to the abi.encode form for well-formed
    /// calldata; a quote with dirty padding hashes differently, so no signature made over the typed
    /// values can match it (and the award reads every field through checked accessors anyway).
    function hash(IRfqMarket.Quote calldata q) internal pure returns (bytes32 result) {
        bytes32 quoteTypehash = QUOTE_TYPEHASH;
        bytes32 creditsTypehash = CREDIT_SCHEDULE_TYPEHASH;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, creditsTypehash)
            calldatacopy(add(ptr, 0x20), add(q, 0x120), 0x160)
            let credits := keccak256(ptr, 0x180)
            mstore(ptr, quoteTypehash)
            calldatacopy(add(ptr, 0x20), q, 0x120)
            mstore(add(ptr, 0x140), credits)
            calldatacopy(add(ptr, 0x160), add(q, 0x280), 0xa0)
            result := keccak256(ptr, 0x200)
        }
    }
}
