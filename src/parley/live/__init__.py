"""Live monitoring: the event log read back as Server-Sent Events, for the whole org or one
conversation, resumable with Last-Event-ID."""
