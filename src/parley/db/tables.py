"""The schema, in SQLAlchemy Core.

Every conversation table is keyed and indexed by ``org_id`` first: tenancy is part of every
lookup, and it keeps the door open to distributing by org (Citus) and partitioning by time.
Migrations in ``db/migrations`` create exactly this; a test compares the two.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from parley.db.types import UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

instance_settings = Table(
    "instance_settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

orgs = Table(
    "orgs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("slug", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(200), nullable=True),
    Column("password_hash", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

memberships = Table(
    "memberships",
    metadata,
    Column("org_id", Integer, ForeignKey("orgs.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("role", String(32), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("org_id", "user_id"),
    Index("ix_memberships_user_id", "user_id"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(8), nullable=False),  # "pat" or "ak"
    # The first characters of the secret, shown in listings and used to revoke; not enough to use it.
    Column("prefix", String(32), nullable=False, unique=True),
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 hex of the whole secret
    Column("org_id", Integer, ForeignKey("orgs.id", ondelete="CASCADE"), nullable=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=True),
    Column("scopes", Text, nullable=False),  # space-separated, sorted
    Column("name", String(200), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime, nullable=True),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),  # sha256 of the cookie value
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_web_sessions_user_id", "user_id"),
)

agents = Table(
    "agents",
    metadata,
    Column("org_id", Integer, ForeignKey("orgs.id", ondelete="CASCADE"), nullable=False),
    Column("id", BigInteger, nullable=False),
    Column("name", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # The agent's id at a voice provider (Retell, Vapi, ...), for agents created on first sight.
    Column("external_id", String(255), nullable=True),
    PrimaryKeyConstraint("org_id", "id"),
    UniqueConstraint("id"),
    Index("ix_agents_org_external", "org_id", "external_id", unique=True),
)

agent_versions = Table(
    "agent_versions",
    metadata,
    Column("org_id", Integer, nullable=False),
    Column("agent_id", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
    Column("notes", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("org_id", "agent_id", "version"),
    ForeignKeyConstraint(["org_id", "agent_id"], ["agents.org_id", "agents.id"], ondelete="CASCADE"),
)

conversations = Table(
    "conversations",
    metadata,
    Column("org_id", Integer, ForeignKey("orgs.id", ondelete="CASCADE"), nullable=False),
    # Time-ordered: the high bits are created_at in milliseconds (see conversations/ids.py), so
    # ordering by id alone agrees with ordering by (created_at, id).
    Column("id", BigInteger, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("direction", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("agent_id", BigInteger, nullable=True),
    Column("agent_version", Integer, nullable=True),
    Column("user_id", String(320), nullable=True),  # the caller's identity: phone, email, guest id
    Column("caller_name", String(200), nullable=True),
    Column("agent_number", String(320), nullable=True),
    Column("summary", Text, nullable=True),
    Column("duration_seconds", Integer, nullable=True),
    Column("started_at", UTCDateTime, nullable=True),
    Column("ended_at", UTCDateTime, nullable=True),
    Column("has_recording", Boolean, nullable=False, default=False),
    Column("participant_count", Integer, nullable=False, default=0),
    # Set by the writer that created it (a provider's call id, a ticket number); unique per org.
    Column("external_id", String(255), nullable=True),
    # Analysis, as the providers report it.
    Column("ended_reason", String(200), nullable=True),
    Column("sentiment", String(16), nullable=True),
    Column("successful", Boolean, nullable=True),
    PrimaryKeyConstraint("org_id", "id"),
    ForeignKeyConstraint(["org_id", "agent_id"], ["agents.org_id", "agents.id"]),
    # Each list index ends in (created_at, id) so a filtered page is read in order, never sorted.
    Index("ix_conversations_org_created", "org_id", "created_at", "id"),
    Index("ix_conversations_org_channel_created", "org_id", "channel", "created_at", "id"),
    Index("ix_conversations_org_status_created", "org_id", "status", "created_at", "id"),
    Index("ix_conversations_org_agent_created", "org_id", "agent_id", "created_at", "id"),
    Index("ix_conversations_org_direction_created", "org_id", "direction", "created_at", "id"),
    Index("ix_conversations_org_user_created", "org_id", "user_id", "created_at", "id"),
    Index("ix_conversations_org_duration", "org_id", "duration_seconds"),
    Index("ix_conversations_org_external", "org_id", "external_id", unique=True),
    Index("ix_conversations_org_sentiment_created", "org_id", "sentiment", "created_at", "id"),
)

conversation_tags = Table(
    "conversation_tags",
    metadata,
    Column("org_id", Integer, nullable=False),
    Column("conversation_id", BigInteger, nullable=False),
    Column("tag", String(64), nullable=False),
    PrimaryKeyConstraint("org_id", "conversation_id", "tag"),
    ForeignKeyConstraint(
        ["org_id", "conversation_id"], ["conversations.org_id", "conversations.id"], ondelete="CASCADE"
    ),
    Index("ix_conversation_tags_org_tag", "org_id", "tag", "conversation_id"),
)

participants = Table(
    "participants",
    metadata,
    Column("org_id", Integer, nullable=False),
    Column("conversation_id", BigInteger, nullable=False),
    Column("address", String(320), nullable=False),
    Column("role", String(8), nullable=False),
    PrimaryKeyConstraint("org_id", "conversation_id", "address"),
    ForeignKeyConstraint(
        ["org_id", "conversation_id"], ["conversations.org_id", "conversations.id"], ondelete="CASCADE"
    ),
)

transcript_turns = Table(
    "transcript_turns",
    metadata,
    Column("org_id", Integer, nullable=False),
    Column("conversation_id", BigInteger, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("speaker", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("offset_ms", Integer, nullable=False),
    # A partial (live) turn is replaced by later versions with the same seq; a final one never is.
    Column("final", Boolean, nullable=False, default=True, server_default="1"),
    PrimaryKeyConstraint("org_id", "conversation_id", "seq"),
    ForeignKeyConstraint(
        ["org_id", "conversation_id"], ["conversations.org_id", "conversations.id"], ondelete="CASCADE"
    ),
)

recordings = Table(
    "recordings",
    metadata,
    Column("org_id", Integer, nullable=False),
    Column("conversation_id", BigInteger, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("blob_key", String(500), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("duration_seconds", Integer, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("org_id", "conversation_id", "seq"),
    ForeignKeyConstraint(
        ["org_id", "conversation_id"], ["conversations.org_id", "conversations.id"], ondelete="CASCADE"
    ),
)


# Idempotency-Key records: a retried write replays the first answer instead of writing again.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("org_id", Integer, ForeignKey("orgs.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(255), nullable=False),
    Column("fingerprint", String(64), nullable=False),  # sha256 of method, path and body
    Column("status_code", Integer, nullable=True),  # None while the first request runs
    Column("response", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("org_id", "key"),
    Index("ix_idempotency_keys_org_created", "org_id", "created_at"),
)

# The event log (an outbox): every change ingestion makes appends its event in the same
# transaction. ``seq`` is allocated from ``event_counters`` under the org's row lock, so events
# commit in ``seq`` order and a reader of "after N" can never step past one still to commit.
event_counters = Table(
    "event_counters",
    metadata,
    Column("org_id", Integer, ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True),
    Column("last_seq", BigInteger, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("org_id", Integer, ForeignKey("orgs.id", ondelete="CASCADE"), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("conversation_id", BigInteger, nullable=False),  # no foreign key: a deletion is an event too
    Column("kind", String(32), nullable=False),
    Column("body", Text, nullable=False),  # JSON
    Column("created_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("org_id", "seq"),
    Index("ix_events_org_conversation", "org_id", "conversation_id", "seq"),
    Index("ix_events_org_created", "org_id", "created_at"),
)

# Work done off the request path and retried until it succeeds: fetching a recording a provider
# links to, writing a summary.
jobs = Table(
    "jobs",
    metadata,
    Column("org_id", Integer, ForeignKey("orgs.id", ondelete="CASCADE"), nullable=False),
    Column("id", BigInteger, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("conversation_id", BigInteger, nullable=False),
    Column("payload", Text, nullable=False),  # JSON
    Column("attempts", Integer, nullable=False, default=0),
    Column("run_after", UTCDateTime, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("org_id", "id"),
    Index("ix_jobs_org_run_after", "org_id", "run_after"),
)

# Provider webhooks: the URL /hooks/{provider}/{id} names the hook, and so the org. Global like
# tokens (a reference table when distributed): the id is looked up before the org is known.
hooks = Table(
    "hooks",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("org_id", Integer, ForeignKey("orgs.id", ondelete="CASCADE"), nullable=False),
    Column("provider", String(16), nullable=False),
    Column("secret", Text, nullable=False),  # encrypted with the instance key (schemes need it whole)
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Index("ix_hooks_org_id", "org_id"),
)

# Provider deliveries already applied, so a repeated delivery is ignored.
hook_deliveries = Table(
    "hook_deliveries",
    metadata,
    Column("org_id", Integer, ForeignKey("orgs.id", ondelete="CASCADE"), nullable=False),
    Column("provider", String(16), nullable=False),
    Column("delivery_key", String(255), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("org_id", "provider", "delivery_key"),
    Index("ix_hook_deliveries_org_received", "org_id", "received_at"),
)

# Saved inbox views: a name for a set of list filters, private to its owner or shared with the org.
saved_views = Table(
    "saved_views",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("org_id", Integer, ForeignKey("orgs.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("query", Text, nullable=False),  # the list's query string, filters only, canonical order
    Column("shared", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("org_id", "user_id", "name"),
    Index("ix_saved_views_org_shared", "org_id", "shared"),
)

# The audit trail: who read sensitive data, signed in, made tokens or wrote, and when. Append-only:
# no foreign keys, so it outlives the users, tokens and orgs it names.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("org_id", Integer, nullable=True),  # None for a failed login that named no org
    Column("user_id", Integer, nullable=True),
    Column("credential", String(64), nullable=True),  # "ak_1a2b3c…", "pat_…", "session:…"
    Column("action", String(32), nullable=False),
    Column("target", String(200), nullable=True),
    Column("rows", Integer, nullable=True),
    Column("client", String(64), nullable=True),
    Column("detail", Text, nullable=True),  # JSON: what was asked (filters without sensitive values)
    Index("ix_audit_log_org_at", "org_id", "at", "id"),
)
