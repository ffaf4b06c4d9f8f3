"""A small pool of synthetic WAV recordings that every seeded conversation points at.

A million seeded calls must not write a million files, so the seeder writes a dozen short clips
once and lets recordings share them by ``blob_key``. Each clip is mono 16-bit PCM that sounds
vaguely like two people talking: bursts of harmonic "syllables" with gliding pitch, grouped into
phrases, separated by pauses, alternating between a lower and a higher voice. Only the standard
library is used, and the samples come from a seeded generator, so the bytes never change.
"""

from __future__ import annotations

import math
import random
import sys
import wave
from array import array
from dataclasses import dataclass
from pathlib import Path

POOL_FOLDER = "seed"
POOL_SIZE = 12
CONTENT_TYPE = "audio/wav"
# Even clips are narrowband like a phone line, odd ones wideband like a browser call.
_RATES = (8000, 16000)
_DURATIONS = (4, 6, 3, 7, 5, 8, 2, 5, 6, 4, 7, 3)  # seconds; whole numbers so the stored value is exact
_TABLE_SIZE = 2048
_AMPLITUDE = 0.45 * 32767


@dataclass(frozen=True, slots=True)
class PoolFile:
    """One clip of the pool: where it lives under the recordings folder and what it holds."""

    blob_key: str
    bytes: int
    duration_seconds: int
    sample_rate: int


def ensure_audio_pool(recordings_dir: Path) -> list[PoolFile]:
    """Write the pool's clips under ``recordings_dir/seed/`` unless they are already there.

    Idempotent: a clip whose header matches what it should be is left alone, so a second seed (or
    a concurrent one) costs a few header reads. A missing or damaged clip is written to a
    temporary name and renamed into place, so a reader never sees half a file.
    """
    folder = recordings_dir / POOL_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    pool = []
    for index in range(POOL_SIZE):
        rate = _RATES[index % len(_RATES)]
        seconds = _DURATIONS[index]
        path = folder / f"pool-{index:02d}.wav"
        if not _is_intact(path, rate, rate * seconds):
            _write_clip(path, index, rate, seconds)
        pool.append(PoolFile(f"{POOL_FOLDER}/{path.name}", path.stat().st_size, seconds, rate))
    return pool


def _is_intact(path: Path, rate: int, frames: int) -> bool:
    try:
        with wave.open(str(path), "rb") as clip:
            header_ok = (
                clip.getnchannels(),
                clip.getsampwidth(),
                clip.getframerate(),
                clip.getnframes(),
            ) == (
                1,
                2,
                rate,
                frames,
            )
    except (OSError, EOFError, wave.Error):
        return False
    # A truncated file can still have a correct header; the size tells.
    return header_ok and path.stat().st_size >= frames * 2


def _write_clip(path: Path, index: int, rate: int, seconds: int) -> None:
    samples = synthesize_speechlike(random.Random(f"parley-audio-{index}"), rate, seconds)
    if sys.byteorder == "big":  # WAV is little-endian
        samples.byteswap()
    partial = path.with_name(f".{path.name}.{random.SystemRandom().getrandbits(32):08x}.tmp")
    with wave.open(str(partial), "wb") as clip:
        clip.setnchannels(1)
        clip.setsampwidth(2)
        clip.setframerate(rate)
        clip.writeframes(samples.tobytes())
    partial.replace(path)


def _voice_table() -> list[float]:
    # One period of a buzzy, voice-like wave: a fundamental and falling harmonics. Looking it up is
    # much cheaper in pure Python than summing sines per sample.
    harmonics = ((1, 1.0), (2, 0.55), (3, 0.35), (4, 0.2), (5, 0.12), (7, 0.06))
    norm = sum(weight for _, weight in harmonics)
    return [
        sum(weight * math.sin(2 * math.pi * k * i / _TABLE_SIZE) for k, weight in harmonics) / norm
        for i in range(_TABLE_SIZE)
    ]


def synthesize_speechlike(rng: random.Random, rate: int, seconds: int) -> array[int]:
    """Exactly ``rate * seconds`` 16-bit samples of syllable-like tones, phrases and pauses."""
    total = rate * seconds
    table = _voice_table()
    out = array("h", bytes(2 * total))  # silence, overwritten where someone "speaks"
    position = int(rate * rng.uniform(0.15, 0.4))
    voices = (rng.uniform(105.0, 135.0), rng.uniform(185.0, 230.0))  # two speakers' pitch
    speaker = 0
    while position < total:
        base = voices[speaker]
        for _ in range(rng.randint(3, 9)):  # syllables in this phrase
            length = int(rate * rng.uniform(0.09, 0.26))
            if position + length >= total:
                break
            start_f = base * rng.uniform(0.9, 1.2)
            end_f = base * rng.uniform(0.8, 1.1)  # pitch tends to fall, like a statement
            loudness = rng.uniform(0.55, 1.0) * _AMPLITUDE
            phase = 0.0
            for n in range(length):
                t = n / length
                frequency = start_f + (end_f - start_f) * t
                phase = (phase + frequency * _TABLE_SIZE / rate) % _TABLE_SIZE
                envelope = math.sin(math.pi * t) ** 2  # soft attack and release, no clicks
                out[position + n] = int(loudness * envelope * table[int(phase)])
            position += length + int(rate * rng.uniform(0.03, 0.12))
        position += int(rate * rng.uniform(0.25, 0.7))  # pause between phrases
        if rng.random() < 0.6:
            speaker = 1 - speaker  # the other side answers
    return out
