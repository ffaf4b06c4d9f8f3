"""Repeated, alternating measurements and their medians."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


@dataclass(slots=True)
class Samples:
    """Wall times in seconds of one side of a measurement."""

    seconds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds) if self.seconds else float("nan")

    @property
    def median_ms(self) -> float:
        return self.median * 1000


def timed(action: Callable[[], object]) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def alternate(sides: Mapping[str, Callable[[], object]], repeat: int, warmup: int = 1) -> dict[str, Samples]:
    """Run every side ``repeat`` times, interleaved (A, B, A, B, …), after ``warmup`` untimed
    rounds, so drift in the machine (caches, frequency, other work) touches all sides alike."""
    for _ in range(warmup):
        for action in sides.values():
            action()
    found = {name: Samples() for name in sides}
    for _ in range(max(1, repeat)):
        for name, action in sides.items():
            found[name].seconds.append(timed(action))
    return found


def ratio(numerator: Samples, denominator: Samples) -> float:
    """The ratio of two medians measured in the same run."""
    return numerator.median / denominator.median if denominator.median else float("inf")
