"""row-level security per org, an append-only audit trail, and the parley_app role (PostgreSQL)

Revision ID: 0005
Revises: 0004

Every table that holds an org's rows gets one policy, ENABLEd and FORCEd (so the tables' owner
is held to it too; only superusers and roles with BYPASSRLS are not): a row is visible, and may
be written, when its ``org_id`` is the one the transaction names in ``parley.org_id``
(``db.engine`` sets it where every connection starts), or when that setting is ``system`` (the
instance's own work across orgs: jobs, retention, webhook look-ups, the CLI). Unset or empty, it
shows nothing. Tables of the instance itself (orgs, users, memberships, tokens, sessions) have no
policy: they are read before any org is known, to find out who the caller is.

The search table ``conversation_text`` has none either, on purpose: under a policy PostgreSQL
may not use an index for an operator that is not leakproof, and full-text ``@@`` and trigram
``ILIKE`` are not. EXPLAIN as parley_app showed the identifier search turn from a bitmap scan of
its GIN index into a sequential scan of the table. Every search joins it to ``conversations``,
which the policy holds, so a search still returns only the org's conversations.

``audit_log`` refuses UPDATE and DELETE with a trigger, for every role but a superuser who drops
it. The role ``parley_app`` (NOLOGIN: an operator grants it LOGIN or to a login role) is made when
the migrating role may create roles, and given what the server needs on the tables of this schema:
read and write on every table but ``audit_log``, where it may only read and append.

Nothing happens on SQLite: one file, one process's access; there is no second role to hold back.
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ORG_TABLES = (
    "agents",
    "agent_versions",
    "conversations",
    "conversation_tags",
    "participants",
    "transcript_turns",
    "recordings",
    "idempotency_keys",
    "event_counters",
    "events",
    "jobs",
    "hooks",
    "hook_deliveries",
    "saved_views",
    "audit_log",
)
ROLE = "parley_app"
# CASE, so 'system' and '' are never cast to an integer; org_id = NULL (unset) is never true.
VISIBLE = (
    "CASE current_setting('parley.org_id', true) WHEN 'system' THEN true "
    "ELSE org_id = nullif(current_setting('parley.org_id', true), '')::integer END"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in ORG_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY parley_org ON {table} USING ({VISIBLE}) WITH CHECK ({VISIBLE})")
    op.execute(
        """
        CREATE FUNCTION parley_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION parley_audit_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION parley_audit_append_only()"
    )
    # The role is the cluster's, the grants this schema's: a role that cannot create roles
    # (or a role made by hand beforehand) still gets its grants when the role exists.
    op.execute(
        f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{ROLE}') THEN
                BEGIN
                    CREATE ROLE {ROLE} NOLOGIN;
                EXCEPTION
                    WHEN insufficient_privilege THEN
                        RAISE NOTICE 'cannot create the role {ROLE}; create it and run the grants in README';
                    -- Another migration (of another schema) created it a moment ago: roles are
                    -- cluster-wide, and the check above does not see an uncommitted one.
                    WHEN duplicate_object OR unique_violation THEN NULL;
                END;
            END IF;
            IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{ROLE}') THEN
                EXECUTE format('GRANT USAGE ON SCHEMA %I TO {ROLE}', current_schema());
                EXECUTE format(
                    'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO {ROLE}',
                    current_schema()
                );
                EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO {ROLE}', current_schema());
                -- Tables later migrations add (by this same role) are granted as they are made.
                EXECUTE format(
                    'ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {ROLE}',
                    current_schema()
                );
                EXECUTE format(
                    'ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT ON SEQUENCES TO {ROLE}',
                    current_schema()
                );
                REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM {ROLE};
            END IF;
        END $$
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER audit_log_no_truncate ON audit_log")
    op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
    op.execute("DROP FUNCTION parley_audit_append_only()")
    for table in ORG_TABLES:
        op.execute(f"DROP POLICY parley_org ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
