"""The stress suite: ``python -m stress run --db sqlite|postgres --minutes N``.

Loopback only and bounded in time. It starts its own database (a fresh SQLite file, or a fresh
PostgreSQL database reached through ``tests.faults.FaultProxy``) and its own ``parley serve``, then
runs 64 readers and one writer at full speed while it injects faults: the database made
unreachable and silent, and back (PostgreSQL); the server SIGKILLed mid-ingestion and
mid-export, and restarted. At the end it compares what the writer was acknowledged with what the
API lists (count and checksum) and checks the database's integrity. ``--attacks`` also runs the
availability benchmarks (``benchmarks.availability``) against this code.

Not part of the pytest run; ``tests/stress`` runs its short form.
"""
