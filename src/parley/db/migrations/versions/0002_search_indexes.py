"""full-text and identifier search indexes

SQLite gets two FTS5 tables whose rowid is the conversation id: one with the porter stemmer over
summary, caller name and transcript, and one with the trigram tokenizer over identifiers (caller id,
agent number, email participants, conversation id) so the last digits of a number match.
PostgreSQL gets one table with a stored, weighted tsvector under GIN and a pg_trgm GIN index over
the identifiers.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE conversation_text USING fts5("
            "summary, caller_name, transcript, tokenize = 'porter unicode61 remove_diacritics 2')"
        )
        op.execute("CREATE VIRTUAL TABLE conversation_idents USING fts5(idents, tokenize = 'trigram')")
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        """
        CREATE TABLE conversation_text (
            org_id integer NOT NULL,
            conversation_id bigint NOT NULL,
            summary text,
            caller_name text,
            transcript text,
            idents text NOT NULL DEFAULT '',
            document tsvector GENERATED ALWAYS AS (
                setweight(to_tsvector('english', coalesce(summary, '')), 'A')
                || setweight(to_tsvector('english', coalesce(caller_name, '')), 'A')
                || setweight(to_tsvector('english', coalesce(transcript, '')), 'B')
            ) STORED,
            CONSTRAINT pk_conversation_text PRIMARY KEY (org_id, conversation_id),
            CONSTRAINT fk_conversation_text_conversations FOREIGN KEY (org_id, conversation_id)
                REFERENCES conversations (org_id, id) ON DELETE CASCADE
        )
        """
    )
    op.execute("CREATE INDEX ix_conversation_text_document ON conversation_text USING gin (document)")
    op.execute(
        "CREATE INDEX ix_conversation_text_idents ON conversation_text USING gin (idents gin_trgm_ops)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE conversation_idents")
    op.execute("DROP TABLE conversation_text")
