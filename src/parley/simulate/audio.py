"""The recordings the simulator uploads: a few speech-like WAV clips made in memory.

The simulator is a client, so unlike the seeder it cannot point rows at files in the server's
recordings folder: it uploads real bytes, as a provider would. The samples come from the
seeder's synthesiser with fixed seeds, so every run uploads the same clips.
"""

from __future__ import annotations

import io
import random
import sys
import wave
from dataclasses import dataclass

from parley.seed.audio import CONTENT_TYPE, PoolFile, synthesize_speechlike

__all__ = ["CLIPS", "CONTENT_TYPE", "Clip", "clip_index", "clip_pool", "wav_bytes"]


@dataclass(frozen=True, slots=True)
class Clip:
    sample_rate: int
    seconds: int


# Narrowband like a phone line and wideband like a browser call; the generator picks phone
# recordings among the 8 kHz clips and web ones among the rest.
CLIPS = (Clip(8000, 4), Clip(16000, 5), Clip(8000, 6), Clip(16000, 3), Clip(8000, 3), Clip(16000, 6))
_KEY_PREFIX = "simulate-clip-"


def clip_pool() -> list[PoolFile]:
    """The clips as the generator's recording pool; ``clip_index`` maps a pick back."""
    return [
        PoolFile(f"{_KEY_PREFIX}{i}", 44 + 2 * c.sample_rate * c.seconds, c.seconds, c.sample_rate)
        for i, c in enumerate(CLIPS)
    ]


def clip_index(blob_key: str) -> int:
    return int(blob_key.removeprefix(_KEY_PREFIX))


def wav_bytes(index: int) -> bytes:
    """Clip ``index`` as a mono 16-bit WAV file (a fraction of a second of CPU: cache it)."""
    clip = CLIPS[index]
    samples = synthesize_speechlike(
        random.Random(f"parley-simulate-audio-{index}"), clip.sample_rate, clip.seconds
    )
    if sys.byteorder == "big":  # WAV is little-endian
        samples.byteswap()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(clip.sample_rate)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()
