"""The README's configuration table names every setting, and only real ones."""

from __future__ import annotations

import re
from pathlib import Path

from parley.config import Settings

README = Path(__file__).resolve().parents[1] / "README.md"
# Read by `parley user create` itself rather than a setting: it is a secret for one command.
NOT_SETTINGS = {"PARLEY_PASSWORD"}


def configuration_table() -> set[str]:
    """The variables in the first column of the table under "## Configuration"."""
    section = README.read_text().split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(PARLEY_[A-Z0-9_]+)` \|", section, flags=re.MULTILINE))


def setting_variables() -> set[str]:
    prefix = Settings.model_config["env_prefix"]
    return {f"{prefix}{name}".upper() for name in Settings.model_fields}


def test_every_setting_is_in_the_readme_table() -> None:
    missing = setting_variables() - configuration_table()
    assert not missing, f"add these to the README's configuration table: {sorted(missing)}"


def test_the_readme_table_lists_no_setting_that_does_not_exist() -> None:
    unknown = configuration_table() - setting_variables() - NOT_SETTINGS
    assert not unknown, f"the README documents settings Parley does not read: {sorted(unknown)}"
