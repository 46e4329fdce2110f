"""Benchmarks of the payment engine: run `python -m bench.engine` from the project root."""
