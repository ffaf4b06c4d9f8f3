"""Every read starts from the visible set: no query module writes the org or the hidden statuses
of conversations by hand, so none can forget them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import parley

SOURCE = Path(parley.__file__).parent
# The conversations table's org column compared to something (a join to it from the agents'
# side is no tenancy check), or the hidden statuses, named outside visible.py.
BY_HAND = re.compile(r"(?<!== )\b(?:c|conversations)\.c\.org_id\b|HIDDEN_STATUSES")
READ_MODULES = sorted(
    path
    for folder in ("conversations", "web", "api")
    for path in (SOURCE / folder).rglob("*.py")
    if path.name != "visible.py" and path.relative_to(SOURCE).as_posix() != "conversations/enums.py"
)


def test_the_read_modules_are_found() -> None:
    names = {path.relative_to(SOURCE).as_posix() for path in READ_MODULES}
    assert {
        "conversations/queries.py",
        "conversations/search.py",
        "conversations/export/statement.py",
    } <= names


@pytest.mark.parametrize("path", READ_MODULES, ids=lambda p: p.relative_to(SOURCE).as_posix())
def test_no_read_module_writes_tenancy_by_hand(path: Path) -> None:
    found = [line.strip() for line in path.read_text().splitlines() if BY_HAND.search(line)]
    assert not found, f"{path.name} names the org or hidden statuses itself; start from Visible: {found}"
