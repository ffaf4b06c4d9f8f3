"""ingestion: external ids, analysis fields, tags, partial turns, idempotency keys, the event log,
background jobs and provider webhooks

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import parley.db.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_UTC = parley.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("external_id", sa.String(255), nullable=True))
    op.create_index("ix_agents_org_external", "agents", ["org_id", "external_id"], unique=True)
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("external_id", sa.String(255), nullable=True))
        batch.add_column(sa.Column("ended_reason", sa.String(200), nullable=True))
        batch.add_column(sa.Column("sentiment", sa.String(16), nullable=True))
        batch.add_column(sa.Column("successful", sa.Boolean(), nullable=True))
    op.create_index("ix_conversations_org_external", "conversations", ["org_id", "external_id"], unique=True)
    op.create_index(
        "ix_conversations_org_sentiment_created", "conversations", ["org_id", "sentiment", "created_at", "id"]
    )
    with op.batch_alter_table("transcript_turns") as batch:
        batch.add_column(sa.Column("final", sa.Boolean(), nullable=False, server_default="1"))
    op.create_table(
        "conversation_tags",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.BigInteger(), nullable=False),
        sa.Column("tag", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "conversation_id"],
            ["conversations.org_id", "conversations.id"],
            name="fk_conversation_tags_org_id_conversations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "conversation_id", "tag", name="pk_conversation_tags"),
    )
    op.create_index("ix_conversation_tags_org_tag", "conversation_tags", ["org_id", "tag", "conversation_id"])
    op.create_table(
        "idempotency_keys",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("created_at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name="fk_idempotency_keys_org_id_orgs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("org_id", "key", name="pk_idempotency_keys"),
    )
    op.create_index("ix_idempotency_keys_org_created", "idempotency_keys", ["org_id", "created_at"])
    op.create_table(
        "event_counters",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name="fk_event_counters_org_id_orgs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("org_id", name="pk_event_counters"),
    )
    op.create_table(
        "events",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("conversation_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name="fk_events_org_id_orgs", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("org_id", "seq", name="pk_events"),
    )
    op.create_index("ix_events_org_conversation", "events", ["org_id", "conversation_id", "seq"])
    op.create_index("ix_events_org_created", "events", ["org_id", "created_at"])
    op.create_table(
        "jobs",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("conversation_id", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("run_after", _UTC, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name="fk_jobs_org_id_orgs", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("org_id", "id", name="pk_jobs"),
    )
    op.create_index("ix_jobs_org_run_after", "jobs", ["org_id", "run_after"])
    op.create_table(
        "hooks",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("revoked_at", _UTC, nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name="fk_hooks_org_id_orgs", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_hooks"),
    )
    op.create_index("ix_hooks_org_id", "hooks", ["org_id"])
    op.create_table(
        "hook_deliveries",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("delivery_key", sa.String(255), nullable=False),
        sa.Column("received_at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name="fk_hook_deliveries_org_id_orgs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("org_id", "provider", "delivery_key", name="pk_hook_deliveries"),
    )
    op.create_index("ix_hook_deliveries_org_received", "hook_deliveries", ["org_id", "received_at"])


def downgrade() -> None:
    for table in ("hook_deliveries", "hooks", "jobs", "events", "event_counters", "idempotency_keys"):
        op.drop_table(table)
    op.drop_table("conversation_tags")
    with op.batch_alter_table("transcript_turns") as batch:
        batch.drop_column("final")
    op.drop_index("ix_conversations_org_sentiment_created", "conversations")
    op.drop_index("ix_conversations_org_external", "conversations")
    with op.batch_alter_table("conversations") as batch:
        for column in ("successful", "sentiment", "ended_reason", "external_id"):
            batch.drop_column(column)
    op.drop_index("ix_agents_org_external", "agents")
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("external_id")
