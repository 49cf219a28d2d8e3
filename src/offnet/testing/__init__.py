"""What offnet's tests, benchmarks and demo share: `world` (roles, the credit schedule and default
terms, the deployed suite and its factories, council decisions, refusals, wait_until), `accounts`
(funded throwaway accounts), `carriers` (sellers and oracles in-process), `processes` (`offnet oracle
run` as a process, peers' notifications, the trade it works on), `faults` (a cuttable link), `gas`
(the snapshot)."""
