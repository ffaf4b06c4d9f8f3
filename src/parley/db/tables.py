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
    PrimaryKeyConstraint("org_id", "id"),
    UniqueConstraint("id"),
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
