"""Helpers shared by offnet's tests, benchmarks and demo: funded throwaway accounts, gas snapshot."""
