"""Parley's benchmarks: ``python -m benchmarks run``. See benchmarks/README.md for the method."""
