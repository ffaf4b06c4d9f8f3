"""The event log under concurrent writers: a reader that asks for "events after N", over and
over while they commit, sees every event exactly once, in order, never stepping past one that
commits a moment later."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from sqlalchemy import Engine

from parley.accounts import service as accounts
from parley.db.engine import SYSTEM, read_connection, write_connection
from parley.ingest import service
from parley.ingest.records import NewConversation
from parley.ingest.service import TurnChange
from parley.live.log import events_after

WRITERS = 6
WRITES_EACH = 25


def test_a_reader_never_skips_or_repeats_an_event_of_concurrent_writers(engine: Engine) -> None:
    with engine.begin() as connection:
        org = accounts.create_org(connection, "busy")
    with write_connection(engine, SYSTEM) as connection:
        conversations = [
            service.create_conversation(
                connection,
                org.id,
                NewConversation(0, datetime.now(UTC), "telephone", "inbound", "in_progress"),
            )
            for _ in range(WRITERS)
        ]
    done = threading.Event()
    errors: list[BaseException] = []

    def writer(conversation_id: int) -> None:
        try:
            for seq in range(WRITES_EACH):
                with write_connection(engine, SYSTEM) as connection:
                    service.append_turns(
                        connection,
                        org.id,
                        conversation_id,
                        [TurnChange(seq, "agent", f"turn {seq}", seq, True)],
                    )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(c,)) for c in conversations]
    for thread in threads:
        thread.start()
    seen: list[int] = []
    position = 0
    closer = threading.Thread(target=lambda: ([t.join() for t in threads], done.set()))
    closer.start()
    while True:
        finished = done.is_set()  # read before the log: a last read after every commit
        with read_connection(engine, SYSTEM) as connection:
            batch = events_after(connection, org.id, position, 50)
        seen.extend(event.seq for event in batch)
        if batch:
            position = batch[-1].seq
        elif finished:
            break
        else:
            time.sleep(0.002)  # as a feed waits for its next wake-up, rather than spin on the GIL
    closer.join()
    assert not errors, errors
    expected = WRITERS + WRITERS * WRITES_EACH  # the creations, then every turn
    assert seen == list(range(1, expected + 1))
