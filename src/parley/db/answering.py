"""psycopg connections that stop waiting on a server that never answers.

PostgreSQL's ``statement_timeout`` is enforced by the server: a server that accepts a statement
and then says nothing (hung, or cut off behind a proxy or firewall that keeps the socket open)
never sends the cancel either, and psycopg would wait on the socket for ever, holding the
request's thread. Every wait for the server goes through ``Connection.wait``; this one gives each
a deadline, and past it closes the connection, so the caller gets an OperationalError (answered
503) and the pool replaces the connection.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import errors


def answering_connection_class(answer_seconds: float | None) -> type[psycopg.Connection[Any]]:
    """A ``psycopg.Connection`` whose waits for the server last at most ``answer_seconds``
    (None: psycopg's own, unbounded)."""
    if answer_seconds is None:
        return psycopg.Connection

    class AnsweringConnection(psycopg.Connection[Any]):
        def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
            try:
                return super().wait(gen, interval, answer_seconds if timeout is None else timeout)
            # psycopg's own name for an expired wait (internal to it, but the only signal it
            # gives); a test against a silent server pins it.
            except errors._WaitTimeout:
                # The protocol is now in an unknown state: the connection cannot be used again.
                self.pgconn.finish()
                raise psycopg.OperationalError(
                    f"the database sent no answer for {answer_seconds:g} s; the connection was closed"
                ) from None

    return AnsweringConnection
