"""Settings, read from ``PARLEY_*`` environment variables.

Nothing here runs at import: ``Settings()`` is built by the CLI or by a test and handed to
``create_app``, so each test can point the app at its own database.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_database_url() -> str:
    return f"sqlite:///{Path.cwd() / 'parley.db'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PARLEY_", extra="ignore")

    database_url: str = Field(
        default_factory=_default_database_url,
        description="SQLAlchemy URL of the database; a SQLite file parley.db in the working directory by default.",
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
    live_recheck_seconds: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="How often a live stream checks its credentials again; a revoked token or a "
        "removed membership ends the stream within this time.",
    )
