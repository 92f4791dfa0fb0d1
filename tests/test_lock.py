"""Only one poller per database; the lock is released on exit and by the death of its holder."""

from __future__ import annotations

import asyncio
import os
import sys
import textwrap
from pathlib import Path

import pytest

from db.lock import LockHeld, PollerLock
from db.session import create_engine

ROOT = str(Path(__file__).resolve().parents[1])


async def test_second_lock_is_refused_then_taken_after_release(database_url: str) -> None:
    first_engine, second_engine = create_engine(database_url), create_engine(database_url)
    first, second = PollerLock(first_engine), PollerLock(second_engine)
    try:
        await first.acquire()
        with pytest.raises(LockHeld):
            await second.acquire()
        await first.release()
        await second.acquire()
        await second.release()
    finally:
        await first_engine.dispose()
        await second_engine.dispose()


async def test_lock_of_a_killed_process_is_free(database_url: str) -> None:
    script = textwrap.dedent(
        f"""
        import asyncio, sys, time
        from db.lock import PollerLock
        from db.session import create_engine
        async def main():
            lock = PollerLock(create_engine({database_url!r}))
            await lock.acquire()
            print("locked", flush=True)
            await asyncio.sleep(60)
        asyncio.run(main())
        """
    )
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": ROOT},
    )
    try:
        assert child.stdout is not None
        assert (await asyncio.wait_for(child.stdout.readline(), 30)).strip() == b"locked"
        engine = create_engine(database_url)
        lock = PollerLock(engine)
        with pytest.raises(LockHeld):
            await lock.acquire()
        child.kill()  # kill -9: no chance to release
        await asyncio.wait_for(child.wait(), 10)
        for _attempt in range(50):  # PostgreSQL notices the closed socket within moments
            try:
                await lock.acquire()
                break
            except LockHeld:
                await asyncio.sleep(0.1)
        else:
            pytest.fail("the lock of a killed holder was never released")
        await lock.release()
        await engine.dispose()
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
