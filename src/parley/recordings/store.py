"""Local-folder blob storage for recordings.

Keys are relative paths under the root; a key that would escape it is refused, so a stored key
can never be turned into a read of an arbitrary file.
"""

from __future__ import annotations

from pathlib import Path

from parley.errors import NotFound


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def path_for(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            raise NotFound("The recording's audio is missing from storage.")
        return path
