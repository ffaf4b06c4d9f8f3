"""Chromium with only the fonts CI installs (Debian's fonts-dejavu-core), whatever else this
machine has: a fontconfig file naming that one folder, passed to the browser's environment."""

from __future__ import annotations

import os
from pathlib import Path

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")

_CONFIG = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <dir>{fonts}</dir>
  <cachedir>{cache}</cachedir>
  <!-- The system's aliases and rules (sans-serif is DejaVu Sans...), but none of its folders. -->
  <include ignore_missing="yes">/etc/fonts/conf.d</include>
</fontconfig>
"""


def dejavu_only_env(folder: Path) -> dict[str, str]:
    """The environment for a browser that sees the DejaVu fonts alone (its cache in ``folder``)."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "fonts.conf"
    config.write_text(_CONFIG.format(fonts=DEJAVU, cache=folder / "cache"))
    return {**os.environ, "FONTCONFIG_FILE": str(config)}
