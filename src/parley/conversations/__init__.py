"""Conversations: domain values, filters, keyset cursors, queries, the field policy and CSV export."""
