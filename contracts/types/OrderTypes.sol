// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.29;

/// @notice What the seller gives back when it misses an objective; one storage slot when stored.
/// @dev Rates in basis points (1/10,000) of the charge they apply to; objectives in the units of
/// the on-chain reports (ppm, microseconds, seconds). A zero objective means "not measured".
struct CreditSchedule {
    uint16 lateDeliveryBpsPerDay; // of the one-time charge, per whole day late
    uint16 lateDeliveryCapBps; // cap of the late-delivery credit
    uint32 availabilityObjectivePpm; // e.g. 999_500 for 99.95 %
    uint16 availabilityCreditBps; // of the monthly charge, when availability is below objective
    uint32 frameDelayObjectiveUs; // at the agreed percentile
    uint16 frameDelayCreditBps;
    uint32 frameLossObjectivePpm;
    uint16 frameLossCreditBps;
    uint32 timeToRestoreObjectiveSec;
    uint16 timeToRestoreCreditBps;
    uint16 monthlyCreditCapBps; // cap of all in-life credits of one period
}

/// @notice The immutable terms of one order, fixed at award. Contracts never store them: every
/// call that touches an order passes them, and the order id is their hash (see OrderId).
struct OrderTerms {
    uint256 rfqId;
    address buyer;
    address seller;
    address token;
    uint128 oneTimeCharge; // installation, released at delivery minus late-delivery credit
    uint128 monthlyCharge; // released per billing period minus SLA credits
    uint16 termMonths;
    uint16 installDays; // committed installation interval, from award
    uint16 prepaidMonths; // months of monthly charge pulled at award
    uint40 awardedAt;
    bytes32 slaTermsHash; // keccak256 of the canonical JSON of the SLA terms (carrierEthernetSls + credits)
    CreditSchedule credits;
    bytes32 contractHash; // commitment to the financial contract (see IContractNotary); zero = none
}

/// @notice In-life measurements of one billing period of one order.
struct PeriodMetrics {
    uint32 availabilityPpm;
    uint32 frameDelayUs;
    uint32 frameLossPpm;
    uint32 timeToRestoreSec; // longest time to restore of the period's trouble tickets
    uint16 outages;
}

/// @title OrderId
/// @notice Content-derived order ids: keccak256 of the ABI-encoded terms.
library OrderId {
    function compute(OrderTerms calldata terms) internal pure returns (bytes32) {
        return keccak256(abi.encode(terms));
    }
}
