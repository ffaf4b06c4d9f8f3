"""The search documents of a conversation: what ``q`` finds it by (see ``conversations/search.py``).

SQLite keeps them in the org's two FTS5 tables keyed by rowid = conversation id; PostgreSQL in one
table keyed like the conversation, whose org-namespaced tsvectors it computes itself (see
``db.search_tables``). Seeding writes them in bulk
(``writer.py``); a change to one conversation rewrites its document here, in the change's
transaction.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select, text

from parley.db import tables
from parley.db.search_tables import create_org_tables, idents_table, words_table


def identifiers(
    conversation_id: int, user_id: str | None, agent_number: str | None, addresses: Iterable[str]
) -> str:
    """What the trigram index holds: every identifier a user may paste a fragment of."""
    parts = [str(conversation_id), user_id or "", agent_number or "", *addresses]
    return " ".join(p for p in parts if p)


def transcript_text(texts: Iterable[str]) -> str:
    return "\n".join(texts)


def refresh(connection: Connection, org_id: int, conversation_id: int) -> None:
    """Rewrite one conversation's search documents from what is stored now."""
    c, t, p = tables.conversations, tables.transcript_turns, tables.participants
    row = connection.execute(
        select(c.c.summary, c.c.caller_name, c.c.user_id, c.c.agent_number).where(
            c.c.org_id == org_id, c.c.id == conversation_id
        )
    ).one()
    turns = connection.execute(
        select(t.c.text).where(t.c.org_id == org_id, t.c.conversation_id == conversation_id).order_by(t.c.seq)
    ).scalars()
    addresses = connection.execute(
        select(p.c.address).where(p.c.org_id == org_id, p.c.conversation_id == conversation_id)
    ).scalars()
    values = {
        "id": conversation_id,
        "org": org_id,
        "summary": row.summary,
        "caller_name": row.caller_name,
        "transcript": transcript_text(turns),
        "idents": identifiers(conversation_id, row.user_id, row.agent_number, addresses),
    }
    if connection.dialect.name == "sqlite":
        remove(connection, org_id, conversation_id)
        connection.execute(
            text(
                f"INSERT INTO {words_table(org_id)} (rowid, summary, caller_name, transcript) "
                "VALUES (:id, :summary, :caller_name, :transcript)"
            ),
            values,
        )
        connection.execute(
            text(f"INSERT INTO {idents_table(org_id)} (rowid, idents) VALUES (:id, :idents)"), values
        )
        return
    connection.execute(
        text(
            "INSERT INTO conversation_text (org_id, conversation_id, summary, caller_name, transcript, idents) "
            "VALUES (:org, :id, :summary, :caller_name, :transcript, :idents) "
            "ON CONFLICT (org_id, conversation_id) DO UPDATE SET summary = EXCLUDED.summary, "
            "caller_name = EXCLUDED.caller_name, transcript = EXCLUDED.transcript, idents = EXCLUDED.idents"
        ),
        values,
    )


def remove(connection: Connection, org_id: int, conversation_id: int) -> None:
    """Drop a conversation's SQLite documents (PostgreSQL's go with the row, by foreign key)."""
    if connection.dialect.name == "sqlite":
        create_org_tables(connection, org_id)  # they come with the org; should they be missing, here
        for name in (words_table(org_id), idents_table(org_id)):
            connection.execute(text(f"DELETE FROM {name} WHERE rowid = :id"), {"id": conversation_id})
