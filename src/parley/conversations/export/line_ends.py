"""PostgreSQL's COPY ends CSV lines with \\n; csv.writer (and the SQLite path) with \\r\\n."""

from __future__ import annotations


class LineEnds:
    """Turns \\n into \\r\\n outside quoted CSV cells, across chunk boundaries. A line break
    inside a cell is kept as it is, as csv.writer keeps it."""

    def __init__(self) -> None:
        self.quoted = False
        self.lines = 0  # line ends converted so far: one per CSV record

    def convert(self, chunk: bytes) -> bytes:
        if b'"' not in chunk:
            if self.quoted:
                return chunk
            self.lines += chunk.count(b"\n")
            return chunk.replace(b"\n", b"\r\n")
        parts = chunk.split(b'"')
        for n, part in enumerate(parts):
            if n:
                self.quoted = not self.quoted
            if not self.quoted:
                self.lines += part.count(b"\n")
                parts[n] = part.replace(b"\n", b"\r\n")
        return b'"'.join(parts)
