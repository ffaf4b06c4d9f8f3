"""Dependencies run one way: the lower layers never import the ones built on them.

Read from the source with ``ast`` rather than by importing, so an import inside a function counts
as much as one at the top of a module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "parley"

# package -> the parley packages and modules it may import from
ALLOWED = {
    "db": {"parley.db"},
    "auth": {"parley.auth", "parley.db", "parley.errors", "parley.config"},
}


def parley_imports(source: str, package: str) -> set[str]:
    """Every ``parley…`` name a module of ``package`` imports, relative imports resolved."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            # "from parley import accounts" imports the package parley.accounts
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return {name for name in found if name == "parley" or name.startswith("parley.")}


def allowed(name: str, prefixes: set[str]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_layer_imports_only_what_is_below_it(package: str) -> None:
    files = sorted((SRC / package).rglob("*.py"))
    assert files, f"no sources found for parley.{package}"
    wrong = {
        f"{path.relative_to(SRC)}: {name}"
        for path in files
        for name in parley_imports(
            path.read_text(), ".".join(("parley", *path.relative_to(SRC).parent.parts))
        )
        if not allowed(name, ALLOWED[package])
    }
    assert not wrong, f"parley.{package} may import only {sorted(ALLOWED[package])}: {sorted(wrong)}"


def test_the_import_reader_sees_every_form() -> None:
    # The check above is only as good as this reader: a form it missed would pass silently.
    source = (
        "import parley.web\n"
        "from parley.accounts.service import now\n"
        "from parley import api\n"
        "from ..conversations import enums\n"
        "def late():\n    from .tokens import hash_secret\n"
    )
    found = parley_imports(source, "parley.auth")
    assert found == {
        "parley.web",
        "parley.accounts.service.now",
        "parley.api",
        "parley.conversations.enums",
        "parley.auth.tokens.hash_secret",
    }
    assert [name for name in sorted(found) if not allowed(name, ALLOWED["auth"])] == [
        "parley.accounts.service.now",
        "parley.api",
        "parley.conversations.enums",
        "parley.web",
    ]
