"""Deterministic synthetic data: realistic conversations for demos, tests and benchmarks.

``seed.run.seed_org`` is the entry point; ``seed.generator`` makes the records without touching a
database, ``seed.vocabulary`` holds the words they are made of and ``seed.audio`` the small pool of
WAV files every seeded recording points at.
"""
