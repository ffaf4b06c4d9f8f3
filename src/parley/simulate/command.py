"""``parley simulate``: check what can be checked before anything is written, get a token, then
run the simulation until its duration ends or Ctrl-C (once: wind down; twice: stop at once)."""

from __future__ import annotations

import asyncio
import random
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx2 as httpx
from sqlalchemy import Engine

from parley.simulate import local
from parley.simulate.api import Api, Refused, SimulationError, Unreachable, open_client
from parley.simulate.runner import Listener, Simulation, Tally
from parley.simulate.scripts import Script
from parley.simulate.source import agents_in, scripts

DEFAULT_URL = "http://127.0.0.1:8000"
DEFAULT_RATE = 6.0  # a minute: a new conversation every ten seconds on average, a calm demo


@dataclass(frozen=True, slots=True)
class Options:
    org: str
    rate: float = DEFAULT_RATE
    duration: float | None = None  # seconds; None: until interrupted
    url: str = DEFAULT_URL
    token: str | None = None  # None: mint an org API key in the configured database
    seed: int | None = None  # None: a fresh one, reported so the run can be repeated
    speed: float = 1.0


def check_options(options: Options) -> str:
    """The server's base URL, after refusing options that cannot work."""
    if not options.rate > 0:
        raise SimulationError(f"--rate must be more than 0 conversations a minute, not {options.rate:g}.")
    if options.duration is not None and not options.duration > 0:
        raise SimulationError(f"--duration must be more than 0 seconds, not {options.duration:g}.")
    if not options.speed > 0:
        raise SimulationError(f"--speed must be more than 0, not {options.speed:g}.")
    if not options.org.strip():
        raise SimulationError("--org must name an org.")
    if options.token is not None and not options.token.strip():
        raise SimulationError("--token is empty.")
    try:
        url = httpx.URL(options.url)
    except httpx.InvalidURL:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise SimulationError(
            f"--url must be an http:// or https:// address such as {DEFAULT_URL}, not {options.url!r}."
        )
    return str(url).rstrip("/")


def simulate(database_url: str, options: Options, listener: Listener, log: Callable[[str], None]) -> Tally:
    """Run a simulation as the command does; SimulationError (and the database's errors) for
    the faults a person can fix, each raised before anything was written."""
    url = check_options(options)
    seed = options.seed if options.seed is not None else random.SystemRandom().randrange(10**6)
    engine = None if options.token is not None else local.open_existing(database_url)
    try:
        org = None if engine is None else local.org_id(engine, options.org)
        return asyncio.run(_main(url, options, seed, engine, org, listener, log))
    finally:
        if engine is not None:
            engine.dispose()


async def _main(
    url: str,
    options: Options,
    seed: int,
    engine: Engine | None,
    org: int | None,
    listener: Listener,
    log: Callable[[str], None],
) -> Tally:
    async with open_client(url, options.token, options.org) as client:
        api = Api(client)
        problem = await health_problem(client)
        if problem is not None:
            raise Unreachable(problem)
        secret = options.token
        if engine is not None:
            assert org is not None
            secret = local.mint(engine, org)
            client.headers["Authorization"] = f"Bearer {secret}"
        assert secret is not None
        try:
            try:
                page = await api.page()
                await api.check_can_write()
            except Refused as exc:
                hint = " Is PARLEY_DATABASE_URL the server's database?" if engine is not None else ""
                raise Refused(f"{url} refused the token for org {options.org!r}: {exc}{hint}") from None
            # The database knows every agent; over HTTP only those the newest conversations name.
            agents = agents_in(page) if engine is None else local.agents(engine, org or 0)
            if not agents and engine is None:
                log(
                    f"No agent is named by {options.org}'s newest conversations; the simulated ones name none."
                )
            elif not agents:
                log(
                    f"{options.org} has no agents, so the simulated conversations name none "
                    f"(parley seed --org {options.org} --conversations 0 adds some)."
                )
            run = f"{random.SystemRandom().getrandbits(32):08x}"
            simulation = Simulation(
                api,
                scripts(options.org, agents, seed, run),
                listener,
                rate=options.rate,
                duration=options.duration,
                speed=options.speed,
                seed=seed,
                run=run,
            )
            until = f"for {options.duration:g} s" if options.duration else "until Ctrl-C"
            log(
                f"Simulating {options.rate:g} conversations a minute in {options.org} at {url} {until} "
                f"(seed {seed}, speed x{options.speed:g})."
            )
            with _interrupts(simulation, log):
                tally = await simulation.run()
            if isinstance(tally.error, Refused):  # revoked mid-run, say
                tally.error = Refused(f"{url} refused the token for org {options.org!r}: {tally.error}")
            return tally
        finally:
            if engine is not None:
                local.revoke(engine, secret)


async def health_problem(client: httpx.AsyncClient) -> str | None:
    """Why the address is not a working Parley server, or None when it is one."""
    base = str(client.base_url).rstrip("/")
    try:
        response = await client.get("/healthz")
    except httpx.ConnectError:
        return (
            f"Cannot reach Parley at {base}: nothing accepted the connection; is parley serve running there?"
        )
    except httpx.TransportError as exc:
        return f"Cannot reach Parley at {base}: {exc or type(exc).__name__}."
    if response.status_code != 200:
        return f"{base} does not answer like a Parley server (GET /healthz gave {response.status_code})."
    return None


@contextmanager
def _interrupts(simulation: Simulation, log: Callable[[str], None]) -> Iterator[None]:
    """Ctrl-C (or SIGTERM) winds down; a second Ctrl-C stops at once."""
    loop = asyncio.get_running_loop()
    presses = 0

    def interrupted() -> None:
        nonlocal presses
        presses += 1
        if presses == 1:
            log(
                "Winding down: playing the conversations in progress to their end (Ctrl-C again to stop now)."
            )
            simulation.wind_down()
        else:
            simulation.abandon()

    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, interrupted)
            installed.append(sig)
        except (NotImplementedError, RuntimeError):  # not the main thread, or not on this platform
            pass
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def describe(tally: Tally, org: str) -> str:
    """One paragraph for the end of a run."""
    channels = ", ".join(f"{n} {channel}" for channel, n in tally.channels.most_common())
    outcomes = ", ".join(f"{n} {status}" for status, n in tally.outcomes.most_common())
    text = f"Simulated {len(tally.created)} conversation(s) in {org} in {tally.seconds:.1f} s"
    text += f" ({channels})" if channels else ""
    text += f"; ended: {outcomes}." if outcomes else "."
    if tally.fast_forwarded:
        text += f" {tally.fast_forwarded} were still going at the end and were played to their end at once."
    if tally.failed:
        text += f" {tally.failed} stopped early because the server refused a request."
    return text


class ConsoleListener:
    """Each new conversation's id on ``out`` (stdout, for scripts), progress lines on ``log``."""

    def __init__(self, out: Callable[[str], None], log: Callable[[str], None]) -> None:
        self._out = out
        self._log = log

    def created(self, script: Script, conversation_id: str) -> None:
        self._out(conversation_id)
        self._log(f"+ {conversation_id}  {script.channel} {script.direction}")

    def ended(self, script: Script, conversation_id: str) -> None:
        self._log(f"✓ {conversation_id}  {script.channel} {script.outcome}")

    def failed(self, script: Script, conversation_id: str | None, reason: str) -> None:
        self._log(f"✗ {conversation_id or '(not created)'}  {script.channel}: {reason}")
