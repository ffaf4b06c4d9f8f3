"""Parley: one inbox for every conversation an organisation's AI agents handle."""

__version__ = "0.1.0"
