"""Settings, read from ``PARLEY_*`` environment variables.

Nothing here runs at import: ``Settings()`` is built by the CLI or by a test and handed to
``create_app``, so each test can point the app at its own database.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from parley.db.engine import DatabaseLimits

BUS_SCHEMES = ("redis", "rediss", "nats", "tls")


def _default_database_url() -> str:
    return f"sqlite:///{Path.cwd() / 'parley.db'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PARLEY_", extra="ignore")

    database_url: str = Field(
        default_factory=_default_database_url,
        description="SQLAlchemy URL of the database; a SQLite file parley.db in the working directory by default.",
    )
    db_connect_timeout_seconds: float = Field(
        default=5,
        gt=0,
        le=300,
        description="How long opening a database connection may take; past it the request is answered "
        "503 with Retry-After.",
    )
    db_statement_timeout_seconds: float = Field(
        default=30,
        ge=0,
        le=3600,
        description="How long one statement of a request may run (0: no limit). PostgreSQL cancels it "
        "(statement_timeout), and Parley stops waiting on a server that sends nothing for 5 s longer "
        "(twice the limit, if under 5 s); "
        "both answer 503. CSV exports are exempt from the cancel, not from the wait. SQLite has no "
        "cancel: there it is how long a statement waits for another writer's lock (the busy timeout).",
    )
    db_pool_timeout_seconds: float = Field(
        default=10,
        gt=0,
        le=300,
        description="How long a request waits for a free connection of the pool before it is answered 503.",
    )
    secret_key: str | None = Field(
        default=None,
        description="Key that signs cursors and login sessions. When unset, one is generated on first run "
        "and stored in the database, so every process sharing the database shares it.",
    )
    recordings_dir: Path = Field(
        default=Path("recordings"),
        description="Folder where call recordings are stored (relative to the working directory).",
    )
    public_url: str = Field(
        default="",
        description="Absolute base URL used in links the API returns (e.g. https://inbox.example.com). "
        "Empty: links are relative to the request's own host.",
    )
    session_max_age_seconds: int = Field(
        default=14 * 24 * 3600, description="How long a web login stays valid."
    )
    agent_console_url: str = Field(
        default="/agents",
        description="Base URL of the agent builder; the inbox links each agent (and version) under it.",
    )
    threads: int | None = Field(
        default=None,
        ge=1,
        le=256,
        description="Threads per process running database work; unset: 2 on SQLite (its queries use "
        "the CPU), 4 on PostgreSQL (they wait on the network). More only contend for Python's "
        "interpreter lock: at 40, one process served half as many requests under load.",
    )
    exports_per_org: int = Field(
        default=2,
        ge=1,
        le=1000,
        description="CSV exports one org may run at once in one process; more are answered 429.",
    )
    exports_per_process: int = Field(
        default=4,
        ge=1,
        le=256,
        description="CSV exports one process runs at once, each on a connection of a pool of this size "
        "kept apart from the requests' pool; more are answered 429.",
    )
    export_send_timeout_seconds: float = Field(
        default=30,
        gt=0,
        le=3600,
        description="How long an export waits for its client to take the next chunk before it stops and "
        "frees its connection.",
    )
    password_threads: int = Field(
        default=2,
        ge=1,
        le=64,
        description="Threads per process hashing passwords at login, apart from the threads running "
        "database work, so queries never queue behind argon2.",
    )
    max_recording_bytes: int = Field(
        default=200 * 1024 * 1024,
        ge=1,
        description="Largest recording in bytes: an upload (PUT .../recording) or a webhook's inline audio "
        "beyond it is refused with 413, and a recording a provider links to is not fetched past it.",
    )
    audit: bool = Field(
        default=True,
        description="Record the audit trail (reads of sensitive data, logins, tokens, writes; GET /core/audit). "
        "Off only to measure what it costs.",
    )
    workers_enabled: bool = Field(
        default=True,
        description="Run background jobs (fetching recordings providers link to, closing quiet text threads, "
        "writing summaries) in a thread of each server process. Off: jobs wait in the database until a "
        "process with it on runs them.",
    )
    summary_url: str = Field(
        default="",
        description="Base URL of an OpenAI-compatible API (e.g. https://api.openai.com/v1) whose "
        "chat/completions write the summaries of conversations that finish without one. Empty: "
        "Parley picks the transcript's most informative sentences itself, with no network or model.",
    )
    summary_model: str = Field(
        default="gpt-4o-mini", description="The model PARLEY_SUMMARY_URL's chat/completions are asked for."
    )
    summary_api_key: str | None = Field(
        default=None, description="Bearer token sent to PARLEY_SUMMARY_URL, if it needs one."
    )
    # The password defaults are argon2-cffi's (a test holds them to it), written out so that reading
    # the settings does not load argon2.
    password_time_cost: int = Field(
        default=3,
        ge=1,
        le=20,
        description="Argon2id passes over memory for each password hash; more is slower for an attacker "
        "and for every login alike. The default is argon2-cffi's.",
    )
    password_memory_kib: int = Field(
        default=64 * 1024,
        # Argon2 needs 8 KiB for each of its 4 lanes; the upper bound catches a size given in bytes.
        ge=32,
        le=1024 * 1024,
        description="Memory in KiB each password hash uses (argon2-cffi's default: 64 MiB).",
    )
    live_retention: timedelta = Field(
        default=timedelta(hours=24),
        description="How long live events are kept, so a stream can resume after a disconnect "
        "(seconds, or ISO 8601 such as PT24H); older ones are pruned in the background.",
    )
    header_timeout_seconds: float = Field(
        default=10,
        gt=0,
        le=600,
        description="How long a client may take to send a request's line and headers (parley serve); "
        "a slower one is disconnected.",
    )
    max_url_bytes: int = Field(
        default=16 * 1024,
        ge=256,
        le=1024 * 1024,
        description="Longest request target (path and query string) parley serve reads; a longer one "
        "is answered 414.",
    )
    max_header_bytes: int = Field(
        default=32 * 1024,
        ge=1024,
        le=1024 * 1024,
        description="Most bytes of header names and values in one request (parley serve); more is "
        "answered 431.",
    )
    max_headers: int = Field(
        default=100,
        ge=8,
        le=10_000,
        description="Most header lines in one request (parley serve); more is answered 431.",
    )
    live_recheck_seconds: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="How often a live stream checks its credentials again; a revoked token or a "
        "removed membership ends the stream within this time.",
    )

    def database_limits(self) -> DatabaseLimits:
        """The waits on the database of a serving process (``db.engine.build_engine``)."""
        return DatabaseLimits.serving(
            connect=self.db_connect_timeout_seconds,
            statement=self.db_statement_timeout_seconds or None,
            pool=self.db_pool_timeout_seconds,
        )

    live_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        le=3600,
        description="How often each process reads the event log for its live viewers even when no "
        "wake-up came: the longest a change from another process waits when the bus is down.",
    )
    live_heartbeat_seconds: float = Field(
        default=15.0,
        gt=0,
        le=3600,
        description="How often a live stream sends a comment line while idle, so proxies keep it open.",
    )
    live_send_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="A live viewer that takes no data for this long is cut off, so a client that "
        "stops reading holds no buffer growing on the server.",
    )
    bus_url: str = Field(
        default="",
        description="Where processes sharing the database wake each other's live viewers: "
        "redis://host:6379/0 (Redis pub/sub) or nats://host:4222 (NATS). Empty: PostgreSQL's "
        "LISTEN/NOTIFY on PostgreSQL; on SQLite each process wakes only its own viewers.",
    )
    bus_channel: str = Field(
        default="parley_events",
        pattern=r"^[A-Za-z0-9_]{1,63}$",
        description="The channel (NOTIFY, Redis) or subject (NATS) of the wake-ups; deployments "
        "sharing one bus server keep apart by it.",
    )

    @field_validator("bus_url")
    @classmethod
    def _known_bus(cls, value: str) -> str:
        value = value.strip()
        if value and urlsplit(value).scheme not in BUS_SCHEMES:
            raise ValueError(
                "PARLEY_BUS_URL must start with redis://, rediss://, nats:// or tls:// (or be empty "
                "for PostgreSQL's NOTIFY)"
            )
        return value
