"""Orgs, users, memberships and API tokens: the records behind authentication."""
