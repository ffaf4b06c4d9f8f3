"""The README's shell blocks run as written.

Each ```bash (or ```sh) block is run, in README order, by one bash in a temporary directory whose
``.venv`` is this checkout's own (already installed: installing a fresh venv per run takes
minutes, so the install lines are the ones not run), against a real server on the demo org's
data. The port is the one rewrite: ``127.0.0.1:8000`` becomes the test server's free port.

Not run, by an explicit rule (``why_not_run``), and each kind named: blocks that start a server or
stream until stopped, install or run the whole suite, talk to a host other than the local server,
loop forever, or hold a placeholder (``…``) the reader fills in. Every block, run or not, must
call the CLI as ``.venv/bin/parley``: a bare ``parley`` after an install into ``.venv`` is
"command not found" until the venv is activated.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from parley.config import Settings
from parley.db.engine import build_engine
from parley.db.migrate import upgrade
from tests.conftest import CHEAP_PASSWORDS
from tests.factories import insert_all, make_org, varied_conversations
from tests.web.live import live_server

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BLOCK = re.compile(r"^```(?:bash|sh)\n(.*?)^```", re.MULTILINE | re.DOTALL)
LOCAL = "127.0.0.1:8000"


@dataclass(frozen=True)
class Block:
    line: int
    text: str


def readme_blocks() -> list[Block]:
    text = README.read_text()
    return [Block(text[: m.start()].count("\n") + 1, m.group(1)) for m in BLOCK.finditer(text)]


def why_not_run(block: Block) -> str | None:
    """The rule for blocks the test leaves out; None for one it runs."""
    text = block.text
    rules = [
        (r"parley serve", "starts a server"),
        (r"curl -N", "streams until stopped"),
        (r"pip install", "installs (the test uses the installed venv)"),
        (r"pytest", "runs the whole suite"),
        (r"while ", "loops until stopped"),
        (r"…", "has a placeholder to fill in"),
        (r"https?://(?!127\.0\.0\.1:8000)[\w.-]+", "talks to another host"),
        (r"postgresql://", "talks to another database"),
    ]
    return next((reason for pattern, reason in rules if re.search(pattern, text)), None)


def test_every_block_calls_the_cli_inside_the_venv() -> None:
    bare = [
        f"README.md:{block.line}: {line.strip()}"
        for block in readme_blocks()
        for line in block.text.splitlines()
        if re.search(r"(^|[\s$(;&|])parley\s", line.split("#", 1)[0])
    ]
    assert not bare, "use .venv/bin/parley (a bare parley is not on PATH after the install):\n" + "\n".join(
        bare
    )


def test_the_rule_leaves_out_only_what_it_names() -> None:
    blocks = readme_blocks()
    run = [block for block in blocks if why_not_run(block) is None]
    # The API walk-through, the writes and the error example run; the rest say why not.
    assert len(run) >= 3, [block.line for block in run]
    assert why_not_run(Block(0, ".venv/bin/parley serve --demo")) == "starts a server"
    assert why_not_run(Block(0, f"curl -s http://{LOCAL}/healthz")) is None


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[str]:
    """A server on the file the CLI opens by default (``parley.db`` in the working directory),
    with a demo org holding a few conversations."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'parley.db'}",
        recordings_dir=tmp_path / "rec",
        workers_enabled=False,
        **CHEAP_PASSWORDS,
    )
    engine = build_engine(settings.database_url)
    upgrade(engine)
    demo = make_org(engine, "demo", agent_base=4127)
    insert_all(engine, demo, varied_conversations(demo, 12))
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    with live_server(settings, engine) as base_url:
        yield base_url
    engine.dispose()


def test_the_runnable_blocks_run_as_written(demo_server: str, tmp_path: Path) -> None:
    port = demo_server.rsplit(":", 1)[1]
    script = "\n".join(
        block.text.replace(LOCAL, f"127.0.0.1:{port}") + "\necho"
        for block in readme_blocks()
        if why_not_run(block) is None
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    env["PATH"] = "/usr/bin:/bin"  # no venv on PATH: the blocks must name it
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert '"next_cursor"' in out and '"channel":"telephone"' in out  # the API example's list
    assert '"status":"completed"' in out and '"changed":1' in out  # the writes, through to the end
    assert '"parameter":"limit"' in out  # the error example
