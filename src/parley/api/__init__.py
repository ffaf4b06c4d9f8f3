"""The HTTP API: problem+json errors, dependencies and the route modules."""
