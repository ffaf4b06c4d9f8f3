"""Shutdown never waits for ever on a background task (the bus, a feed, the pruner)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from parley.live.cancel import cancel_and_wait


async def _stubborn(release: asyncio.Event) -> None:
    """Swallows its cancellation, as a cleanup stuck on the network would, until released."""
    while not release.is_set():
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            continue


def test_a_task_that_will_not_end_is_left_behind_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> tuple[bool, bool]:
        release = asyncio.Event()
        stubborn = asyncio.create_task(_stubborn(release), name="stubborn")
        polite = asyncio.create_task(asyncio.sleep(3600), name="polite")
        await asyncio.sleep(0)
        await cancel_and_wait([stubborn, polite], within=0.2)
        outcome = (polite.cancelled(), stubborn.done())
        release.set()
        stubborn.cancel()
        await asyncio.gather(stubborn, return_exceptions=True)
        return outcome

    with caplog.at_level(logging.WARNING, logger="parley.live.cancel"):
        polite_cancelled, stubborn_done = asyncio.run(main())
    # It returned with the stubborn task still running: it did not wait for it.
    assert polite_cancelled and not stubborn_done
    [record] = caplog.records
    first, *stack = record.getMessage().splitlines()
    assert first == "background task stubborn did not end within 0.2 s of being cancelled"
    assert any("_stubborn" in line for line in stack)  # where it is stuck


def test_tasks_that_end_when_cancelled_are_waited_for_and_a_failure_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def failing() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            raise RuntimeError("the connection broke while closing")

    async def main() -> list[asyncio.Task[None]]:
        tasks = [asyncio.create_task(failing(), name="closer"), asyncio.create_task(asyncio.sleep(3600))]
        await asyncio.sleep(0)
        await cancel_and_wait(tasks, within=30)
        return tasks

    with caplog.at_level(logging.WARNING, logger="parley.live.cancel"):
        tasks = asyncio.run(main())
    assert all(task.done() for task in tasks)
    assert [r.getMessage() for r in caplog.records] == ["background task closer failed as it ended"]
