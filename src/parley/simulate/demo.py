"""The simulator inside ``parley serve --demo``: a background thread with its own event loop that
waits for the server to answer, then plays conversations into the demo org through its own
listening address, like any client, until the server stops.

With one worker the server winds the simulation down before it stops listening, so the
conversations in progress reach their end; ``--workers N`` stops it after the workers are gone,
leaving those few as they were.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

import uvicorn
from sqlalchemy import Engine

from parley.access_log import log_config
from parley.errors import NotFound
from parley.simulate import local
from parley.simulate.api import Api, SimulationError, open_client
from parley.simulate.command import DEFAULT_RATE, health_problem
from parley.simulate.runner import Simulation
from parley.simulate.scripts import Script
from parley.simulate.source import scripts


def local_url(host: str, port: int) -> str:
    """Where this machine reaches a server listening on ``host``: a wildcard means loopback."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class _Quiet:
    """A server log has no room for every conversation; only what went wrong is reported."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self._log = log

    def created(self, script: Script, conversation_id: str) -> None:
        pass

    def ended(self, script: Script, conversation_id: str) -> None:
        pass

    def failed(self, script: Script, conversation_id: str | None, reason: str) -> None:
        self._log(f"simulate: conversation {conversation_id or '(not created)'} stopped: {reason}")


class DemoSimulation:
    def __init__(
        self,
        engine: Engine,
        org: str,
        url: str,
        log: Callable[[str], None],
        *,
        rate: float = DEFAULT_RATE,
        seed: int | None = None,
        ready_within: float = 120.0,
    ) -> None:
        self._engine = engine
        self._org = org
        self._url = url
        self._log = log
        self._rate = rate
        # A fresh seed each start by default, so a restarted demo does not replay the same calls.
        self._seed = seed if seed is not None else random.SystemRandom().randrange(10**6)
        self._ready_within = ready_within
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._simulation: Simulation | None = None
        self._thread: threading.Thread | None = None
        self._secret: str | None = None
        self._org_id = 0

    def start(self) -> bool:
        """Mint the run's key and start the thread; False (and a log line) when there is no such org."""
        try:
            org_id = local.org_id(self._engine, self._org)
        except NotFound:
            self._log(f"Demo: no org {self._org!r} in this database, so nothing is simulated.")
            return False
        self._org_id = org_id
        self._secret = local.mint(self._engine, org_id, f"{local.KEY_NAME} (serve --demo)")
        # A daemon: a wedged simulator must never keep the server's process alive.
        self._thread = threading.Thread(target=self._run, name="parley-simulate", daemon=True)
        self._thread.start()
        return True

    def stop(self, timeout: float = 10.0, *, drain: bool = True) -> None:
        """Wind down (conversations in progress play to their end while the server still
        answers) for at most ``timeout`` seconds, then stop at once; ``drain=False``: at once."""
        self._stop.set()
        with self._lock:
            simulation = self._simulation
        if simulation is not None:
            if drain:
                if self._thread is not None and self._thread.is_alive():
                    self._log(
                        "Demo: ending the simulated conversations in progress first (Ctrl-C again: now)."
                    )
                simulation.wind_down()
            else:
                simulation.abandon()
        if self._thread is None:
            return
        self._thread.join(timeout)
        if self._thread.is_alive() and simulation is not None:
            simulation.abandon()
            self._thread.join(2.0)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except SimulationError as exc:
            self._log(f"Demo simulation stopped: {exc}")
        except Exception as exc:  # the server must go on serving whatever happens here
            self._log(f"Demo simulation stopped by an error: {exc!r}")
        finally:
            assert self._secret is not None
            try:
                local.revoke(self._engine, self._secret)
            except Exception as exc:
                self._log(f"Demo: could not revoke the simulator's key: {exc!r}")

    async def _main(self) -> None:
        assert self._secret is not None
        async with open_client(self._url, self._secret, self._org) as client:
            if not await self._server_ready(client):
                return
            api = Api(client)
            agents = local.agents(self._engine, self._org_id)
            # Unique per start: external ids and Idempotency-Keys of an earlier start must not clash.
            run = f"{random.SystemRandom().getrandbits(32):08x}"
            simulation = Simulation(
                api,
                scripts(self._org, agents, self._seed, run),
                _Quiet(self._log),
                rate=self._rate,
                seed=self._seed,
                run=run,
            )
            with self._lock:
                self._simulation = simulation
            if self._stop.is_set():  # stopped while starting up
                return
            tally = await simulation.run()
            if tally.error is not None:
                self._log(f"Demo simulation stopped: {tally.error}")

    async def _server_ready(self, client: Any) -> bool:
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self._ready_within
        while not self._stop.is_set():
            if await health_problem(client) is None:
                return True
            if loop.time() > give_up:
                self._log(f"Demo: the server at {self._url} did not come up, so nothing is simulated.")
                return False
            await asyncio.sleep(0.2)
        return False


class DrainingServer(uvicorn.Server):
    """A uvicorn server that, on the first Ctrl-C or SIGTERM, first runs ``before_exit`` (in a
    thread, so the event loop keeps answering its requests) and only then shuts down."""

    def __init__(self, config: uvicorn.Config, before_exit: Callable[[], None]) -> None:
        super().__init__(config)
        self._before_exit = before_exit
        self._draining = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._draining or self.should_exit:
            super().handle_exit(sig, frame)  # a second signal: shut down now
            return
        self._draining = True
        threading.Thread(target=self._drain_then_exit, args=(sig, frame), daemon=True).start()

    def _drain_then_exit(self, sig: int, frame: FrameType | None) -> None:
        try:
            self._before_exit()
        finally:
            super().handle_exit(sig, frame)


def serve_with_simulation(application: Any, host: str, port: int, simulation: DemoSimulation) -> None:
    """``uvicorn.run`` for one worker, winding the simulation down before the server stops."""
    config = uvicorn.Config(
        application, host=host, port=port, log_level="info", proxy_headers=True, log_config=log_config()
    )
    server = DrainingServer(config, simulation.stop)
    try:
        server.run()
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled; it has done its job
        pass
    finally:
        simulation.stop(timeout=2.0, drain=False)  # already wound down unless the server failed
