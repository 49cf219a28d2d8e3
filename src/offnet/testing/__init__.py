"""What offnet's tests, benchmarks and demo share: `world` (roles, the credit schedule and default
terms, the deployed suite and its factories, council decisions, refusals, wait_until), `accounts`
(funded throwaway accounts), `carriers` (sellers and oracles in-process), `oracles` (`offnet oracle
run` as a process, the seller's notifications), `faults` (a cuttable link), `gas` (the snapshot)."""
