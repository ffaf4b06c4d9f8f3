"""The ``parley`` command. Its forms are a contract other tools rely on; keep them stable."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from parley.accounts import service
from parley.auth.passwords import Passwords
from parley.auth.scopes import Role, parse_scopes
from parley.auth.tokens import TokenKind
from parley.cli_hooks import hook_app
from parley.config import Settings
from parley.db.engine import SYSTEM, build_engine, write_connection
from parley.errors import BadRequest, ParleyError

app = typer.Typer(
    help="Parley: one inbox for every conversation your AI agents handle.", no_args_is_help=True
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
org_app = typer.Typer(help="Organisations.", no_args_is_help=True)
user_app = typer.Typer(help="Users and their org memberships.", no_args_is_help=True)
token_app = typer.Typer(help="API keys and personal access tokens.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(org_app, name="org")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(hook_app, name="hook")

err = Console(stderr=True)

DEMO_ORG = "demo"
DEMO_ADMIN = "admin@demo.parley.local"
DEMO_VIEWER = "viewer@demo.parley.local"
DEMO_PASSWORD = "parley-demo"


def fail(message: str) -> NoReturn:
    # Escaped: a message may quote user input or name an extra, and rich would eat "[postgres]".
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def _safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


@contextmanager
def cli_errors(settings: Settings) -> Iterator[None]:
    """Turn the errors a user can cause into one sentence on stderr and exit status 1."""
    try:
        yield
    except ParleyError as exc:
        fail(exc.detail)
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "connection failed"
        fail(f"cannot use the database at {_safe_url(settings.database_url)}: {reason}")
    except ArgumentError:
        fail(f"PARLEY_DATABASE_URL is not a valid database URL: {_safe_url(settings.database_url)}")
    except ModuleNotFoundError as exc:
        if (exc.name or "").startswith("psycopg"):
            fail(
                "a PostgreSQL database needs psycopg, which is not installed: pip install 'parley[postgres]'"
            )
        fail(f"the database URL needs a driver that is not installed ({exc.name})")


def migrate(engine: Engine) -> list[str]:
    """Apply pending migrations and return them, oldest first."""
    # Imported here: alembic was a fifth of the start-up of every command, --help included.
    from parley.db.migrate import pending_revisions, upgrade

    pending = pending_revisions(engine)
    if pending:
        upgrade(engine)
    return pending


def open_database(settings: Settings) -> Engine:
    """An engine on the configured database with every migration applied."""
    engine = build_engine(settings.database_url, limits=settings.database_limits().unbounded_statements())
    migrate(engine)
    return engine


@contextmanager
def database(settings: Settings) -> Iterator[Engine]:
    """``open_database`` for one command: the engine's connections are closed when it ends."""
    engine = build_engine(settings.database_url, limits=settings.database_limits().unbounded_statements())
    try:
        migrate(engine)
        yield engine
    finally:
        engine.dispose()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations."""
    settings = Settings()
    with cli_errors(settings):
        engine = build_engine(settings.database_url, limits=settings.database_limits().unbounded_statements())
        try:
            pending = migrate(engine)
        finally:
            engine.dispose()
        err.print(f"Applied {len(pending)} migration(s); the database is up to date.")


@org_app.command("create")
def org_create(slug: str, name: Annotated[str | None, typer.Option(help="Display name.")] = None) -> None:
    """Create an org."""
    settings = Settings()
    with cli_errors(settings), database(settings) as engine, engine.begin() as conn:
        org = service.create_org(conn, slug, name)
    err.print(f"Created org {org.slug} ({org.name}), id {org.id}.")
    typer.echo(org.slug)


@user_app.command("create")
def user_create(
    email: str,
    org: Annotated[str, typer.Option(help="Slug of the org the user joins.")],
    role: Annotated[Role, typer.Option(help="viewer = read; analyst = read + read_sensitive; admin = all.")],
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
) -> None:
    """Create a user and add them to an org. The password comes from PARLEY_PASSWORD or a prompt."""
    settings = Settings()
    password = os.environ.get("PARLEY_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            fail("set PARLEY_PASSWORD or run in a terminal to be asked for the password")
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with cli_errors(settings), database(settings) as engine, engine.begin() as conn:
        target = service.get_org(conn, org)
        service.create_user(conn, Passwords.from_settings(settings), email, password, target, role, name)
    err.print(f"{email} is now a {role.value} of {org}.")


@token_app.command("create")
def token_create(
    scope: Annotated[list[str], typer.Option(help="conversations:read, :read_sensitive or :manage; repeat.")],
    org: Annotated[str | None, typer.Option(help="Create an org API key (ak_) for this org.")] = None,
    user: Annotated[
        str | None, typer.Option(help="Create a personal access token (pat_) for this user.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="A label to recognise the token by.")] = None,
) -> None:
    """Create a token and print its secret alone on stdout. It is never shown again."""
    settings = Settings()
    if (org is None) == (user is None):
        fail("pass exactly one of --org (an org API key) or --user (a personal access token)")
    try:
        scopes = parse_scopes(scope)
    except ValueError as exc:
        fail(str(exc))
    # BEGIN IMMEDIATE on SQLite: a running server writes meanwhile (its audit trail among other
    # things), and a transaction that read first would fail at once rather than wait its turn.
    with cli_errors(settings), database(settings) as engine, write_connection(engine, SYSTEM) as conn:
        if org is not None:
            target = service.get_org(conn, org)
            secret = service.create_token(conn, TokenKind.API_KEY, scopes, org_id=target.id, name=name)
        else:
            assert user is not None
            user_id = service.find_user_id(conn, user)
            if user_id is None:
                raise BadRequest(f"There is no user {user!r}.")
            secret = service.create_token(conn, TokenKind.PAT, scopes, user_id=user_id, name=name)
    typer.echo(secret)


@token_app.command("revoke")
def token_revoke(prefix: str) -> None:
    """Revoke a token by the first characters of its secret (at least the 12 shown when listed)."""
    settings = Settings()
    with cli_errors(settings), database(settings) as engine, write_connection(engine, SYSTEM) as conn:
        service.revoke_token(conn, prefix[:12])
    err.print(f"Revoked {prefix[:12]}….")


@app.command()
def seed(
    org: Annotated[str, typer.Option(help="Org slug; created when missing.")],
    conversations: Annotated[int, typer.Option(help="How many conversations to add.")],
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")] = 0,
    days: Annotated[int, typer.Option(help="Spread conversations over this many past days.")] = 90,
) -> None:
    """Add realistic synthetic conversations to an org."""
    settings = Settings()
    with cli_errors(settings):
        if conversations < 0:
            raise BadRequest("--conversations must be zero or more.")
        if days < 1:
            raise BadRequest("--days must be at least 1.")
        with database(settings) as engine:
            report = _seed_with_progress(engine, settings, org, conversations, seed, days)
    rate = report.conversations / report.seconds if report.seconds else 0.0
    err.print(
        f"Seeded {report.conversations:,} conversations into {org} in {report.seconds:.1f} s ({rate:,.0f}/s)."
    )


def _seed_with_progress(engine: Engine, settings: Settings, org: str, count: int, seed: int, days: int):  # type: ignore[no-untyped-def]
    from parley.seed.run import seed_org  # imported late: the vocabulary is only needed here

    columns = (TextColumn("seeding"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("seed", total=count)
        return seed_org(
            engine,
            settings,
            org,
            count,
            seed=seed,
            days=days,
            on_progress=lambda done: progress.update(task, completed=done),
        )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[bool, typer.Option(help="On an empty database, seed a demo org and users.")] = False,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes; each builds its own app.")] = 1,
    simulate: Annotated[
        bool, typer.Option(help="With --demo, play new conversations into the demo org as it runs.")
    ] = True,
) -> None:
    """Apply pending migrations and serve the inbox and API."""
    import uvicorn

    from parley.access_log import log_config
    from parley.app import create_app
    from parley.http_limits import ClientLimits, protocol_factory
    from parley.simulate.demo import DemoSimulation, local_url, serve_with_simulation

    settings = Settings()
    with cli_errors(settings):
        # Migrations and the demo's seed run without a statement limit; the app builds its own
        # engine with PARLEY_DB_* limits.
        engine = open_database(settings)
        if demo:
            _ensure_demo(engine, settings)
        application = create_app(settings)
    # What a client may send before the app sees its request (header size and count, URL
    # length, how long the headers may take): parley.http_limits.
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": "info",
        "proxy_headers": True,
        "http": protocol_factory(ClientLimits.from_settings(settings)),
        # Route and status, never the query string's values (parley.access_log).
        "log_config": log_config(),
    }
    err.print(f"Parley is listening on http://{host}:{port}/ with {workers} worker(s)")
    simulation = None
    if demo and simulate:
        # Through the server's own address, like any client, once it answers.
        simulation = DemoSimulation(
            engine, DEMO_ORG, local_url(host, port), lambda line: err.print(line, markup=False)
        )
        if simulation.start():
            err.print(
                "Demo: new conversations arrive about every 10 s and play out live (--no-simulate: off)."
            )
        else:
            simulation = None
    if workers == 1:
        if simulation is not None:
            serve_with_simulation(application, simulation, **options)
            return
        uvicorn.run(application, **options)
        return
    # Several processes: each imports the factory and reads the same PARLEY_* environment. The
    # signing key lives in the database, so cursors and sessions work across workers.
    engine.dispose()
    application.state.engine.dispose()
    try:
        uvicorn.run("parley.app:create_app", factory=True, workers=workers, **options)
    finally:
        if simulation is not None:
            simulation.stop(timeout=2.0, drain=False)  # the workers are gone: nothing left to answer


def _ensure_demo(engine: Engine, settings: Settings) -> None:
    with engine.begin() as conn:
        empty = service.count_rows(conn, "orgs") == 0
    if empty:
        _seed_with_progress(engine, settings, DEMO_ORG, 5000, 7, 90)
        passwords = Passwords.from_settings(settings)
        with engine.begin() as conn:
            org = service.get_org(conn, DEMO_ORG)
            service.create_user(conn, passwords, DEMO_ADMIN, DEMO_PASSWORD, org, Role.ADMIN, "Demo Admin")
            service.create_user(conn, passwords, DEMO_VIEWER, DEMO_PASSWORD, org, Role.VIEWER, "Demo Viewer")
    err.print(
        f"Demo: log in as {DEMO_ADMIN} (sees everything) or {DEMO_VIEWER} (no sensitive fields), "
        f"password {DEMO_PASSWORD!r}."
    )


@app.command("simulate")
def simulate_command(
    org: Annotated[str, typer.Option(help="Slug of the org the conversations belong to.")],
    rate: Annotated[float, typer.Option(help="New conversations a minute, on average.")] = 6.0,
    duration: Annotated[
        float | None, typer.Option(help="Seconds to start new conversations for (default: until Ctrl-C).")
    ] = None,
    url: Annotated[str, typer.Option(help="The Parley server to talk to.")] = "http://127.0.0.1:8000",
    token: Annotated[
        str | None,
        typer.Option(
            envvar="PARLEY_TOKEN",
            help="A token with conversations:manage for --org; without one, an org API key is minted "
            "in PARLEY_DATABASE_URL (the server's database) for the run and revoked after.",
        ),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Random seed: the same seed plays the same conversations.")
    ] = None,
    speed: Annotated[
        float, typer.Option(help="Play conversations this many times faster than real time.")
    ] = 1.0,
) -> None:
    """Play realistic conversations into an org through the HTTP API, live: calls ring, are
    answered, their words arrive as spoken and they end; chats, emails and texts too."""
    from parley.simulate.api import SimulationError
    from parley.simulate.command import ConsoleListener, Options, describe, simulate

    def say(line: str) -> None:
        err.print(line, highlight=False, markup=False, soft_wrap=True)

    settings = Settings()
    options = Options(org=org, rate=rate, duration=duration, url=url, token=token, seed=seed, speed=speed)
    with cli_errors(settings):
        try:
            tally = simulate(settings.database_url, options, ConsoleListener(typer.echo, say), say)
        except SimulationError as exc:
            fail(str(exc))
    say(describe(tally, org))
    if tally.error is not None:
        fail(str(tally.error))
    if tally.failed:
        fail(
            f"{tally.failed} conversation(s) stopped early because the server refused a request (see above)."
        )


def main() -> None:
    app()
