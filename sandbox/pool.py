"""What both backends share: worker threads, one per slot (a warm container, or a local
subprocess at a time), taking jobs from one queue; retries of infrastructure failures; and
removal of everything at exit, on SIGTERM and SIGHUP (Ctrl-C exits through atexit)."""

from __future__ import annotations

import atexit
import logging
import os
import queue
import signal
import threading
import weakref
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Protocol

from sandbox.protocol import InfraError, infra_result, validate
from sandbox.types import Job, Limits, ProgramResult

ATTEMPTS = 3  # a job whose sandbox fails this many times is an infra_error
log = logging.getLogger("sandbox")


class Slot(Protocol):
    def grade(self, job: Job) -> ProgramResult:
        """Raises InfraError when the sandbox, not the program, failed."""
        ...

    def discard(self) -> None:
        """Drop what the slot holds (a container that failed); the next grade starts afresh."""
        ...


class PooledSandbox:
    """Runs jobs on `slots`, one job per slot at a time, in daemon threads (so an exiting
    interpreter never waits for them: atexit removes what they hold)."""

    def __init__(self, limits: Limits, slots: Sequence[Slot]):
        self.limits = limits
        self.workers = len(slots)
        self._slots = list(slots)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._closed = False
        self._lock = threading.Lock()
        for number, slot in enumerate(self._slots):
            threading.Thread(target=self._work, args=(slot,), name=f"sandbox-{number}", daemon=True).start()
        _close_at_exit(self)

    def run(self, jobs: Sequence[Job]) -> list[ProgramResult]:
        """Grade `jobs` concurrently; results in job order. Safe to call from any thread."""
        if self._closed:
            raise RuntimeError("the sandbox is closed")
        for number, job in enumerate(jobs):
            try:
                validate(job)
            except ValueError as e:
                raise ValueError(f"job {number}: {e}") from None
        futures = []
        for job in jobs:
            future: Future = Future()
            self._queue.put((job, future))
            futures.append(future)
        return [f.result() for f in futures]

    def _work(self, slot: Slot) -> None:
        while (item := self._queue.get()) is not None:
            job, future = item
            try:
                future.set_result(self._grade(slot, job))
            except BaseException as e:  # noqa: BLE001 -- handed to the caller of run()
                future.set_exception(e)

    def _grade(self, slot: Slot, job: Job) -> ProgramResult:
        causes = []
        for attempt in range(1, ATTEMPTS + 1):
            if self._closed:
                raise RuntimeError("the sandbox was closed while grading")
            try:
                return slot.grade(job)
            except InfraError as e:
                causes.append(str(e))
                log.warning("sandbox failure (attempt %d of %d): %s", attempt, ATTEMPTS, e)
                slot.discard()
        return infra_result(job, " | ".join(causes))

    def close(self) -> None:
        """Remove everything the sandbox holds; jobs still queued fail."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[1].set_exception(RuntimeError("the sandbox was closed"))
        for _ in self._slots:
            self._queue.put(None)
        for slot in self._slots:
            slot.discard()
        self._closed_hook()
        _OPEN.discard(self)

    def _closed_hook(self) -> None:
        """For subclasses: what to remove once every slot is gone."""

    def __enter__(self) -> PooledSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_OPEN: weakref.WeakSet[PooledSandbox] = weakref.WeakSet()
_hooks_installed = False


def _close_at_exit(sandbox: PooledSandbox) -> None:
    global _hooks_installed
    _OPEN.add(sandbox)
    if _hooks_installed:
        return
    _hooks_installed = True
    atexit.register(close_all)
    if threading.current_thread() is threading.main_thread():  # signal handlers live there only
        for signum in (signal.SIGTERM, signal.SIGHUP):
            previous = signal.getsignal(signum)
            if previous not in (signal.SIG_IGN, None):
                signal.signal(signum, _on_signal(previous))


def close_all() -> None:
    for sandbox in list(_OPEN):
        try:
            sandbox.close()
        except Exception as e:  # noqa: BLE001 -- at exit, remove what can be removed
            log.warning("could not close a sandbox: %s", e)


def _on_signal(previous):
    def handler(signum: int, frame: object) -> None:
        close_all()
        if callable(previous):
            previous(signum, frame)
            return
        signal.signal(signum, signal.SIG_DFL)  # die of the signal, as without us
        os.kill(os.getpid(), signum)

    return handler
