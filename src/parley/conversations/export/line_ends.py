"""PostgreSQL's COPY ends CSV lines with \\n; csv.writer (and the SQLite path) with \\r\\n."""

from __future__ import annotations


class LineEnds:
    """Turns \\n into \\r\\n outside quoted CSV cells, across chunk boundaries. A line break
    inside a cell is kept as it is, as csv.writer keeps it."""

    def __init__(self) -> None:
        self.quoted = False

    def convert(self, chunk: bytes) -> bytes:
        if b'"' not in chunk:
            return chunk if self.quoted else chunk.replace(b"\n", b"\r\n")
        parts = chunk.split(b'"')
        for n, part in enumerate(parts):
            if n:
                self.quoted = not self.quoted
            if not self.quoted:
                parts[n] = part.replace(b"\n", b"\r\n")
        return b'"'.join(parts)
