"""The audit trail: who read sensitive data, logged in, made or revoked tokens, or wrote, and when."""
