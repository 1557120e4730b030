"""Grading on a Ray cluster: the Sandbox protocol over grading actors, each holding its own
warm sandbox (make_sandbox on its node: Docker there, or local subprocesses).

    sandbox = RaySandbox("docker", Limits(test_seconds=6))   # Ray connected first
    results = sandbox.run(jobs)                               # as any sandbox: results in job order
    sandbox.close()

- Placement: one actor per node that offers the custom resource `sandbox` (`ray start
  --resources '{"sandbox": 1}'`: the CPU nodes with Docker), else one per alive node; or
  `actors` actors spread over the nodes. An actor takes no Ray CPU: its containers do the work.
- Jobs go out in batches of the smallest actor's worker count, two batches in flight per actor, so a
  slow program holds back one batch, not a node.
- An actor lost mid-run (killed, its node gone) has its batches redone on the actors left,
  and a replacement starts in its place (on its node if that node is up, else anywhere),
  joining once its sandbox is up. An actor is replaced up to REPLACEMENTS times in a row
  without a batch finishing in between; when no actor is left and no replacement comes up
  within REPLACE_SECONDS, SandboxUnavailable (a resumed run grades what is missing).
- A job's result does not depend on where it ran: the actors return results, the caller
  records them.

Ray is optional: imported when a pool is made, and a missing Ray is a UsageError. Knows
nothing of models or RSA.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

from problems import UsageError
from sandbox import DEFAULT_IMAGE, Job, Limits, ProgramResult, SandboxUnavailable, make_sandbox

SANDBOX_RESOURCE = "sandbox"  # a node offering this custom resource hosts a grading actor
IN_FLIGHT = 2  # batches sent to an actor before its first comes back
REPLACEMENTS = 3  # a lost actor is replaced up to this many times in a row without a batch finishing in between
REPLACE_SECONDS = 300  # the longest wait for a replacement when no actor is left
log = logging.getLogger("sandbox")


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise UsageError("--ray: Ray is not installed: pip install 'rsa-code[ray]'") from None
    return ray


class SandboxHost:
    """What runs inside a grading actor: one sandbox, made on the actor's node."""

    def __init__(self, kind: str, limits: Limits, image: str, workers: int | None):
        self.error: Exception | None = None
        self.sandbox = None
        try:
            self.sandbox = make_sandbox(kind, limits, image=image, workers=workers)
        except Exception as e:  # noqa: BLE001 -- reported by describe(), where the driver waits
            self.error = SandboxUnavailable(str(e)) if isinstance(e, UsageError) else e

    def describe(self) -> int:
        """The sandbox's workers (raises what making it raised)."""
        if self.error is not None:
            raise self.error
        return self.sandbox.workers

    def run(self, jobs: list[Job]) -> list[ProgramResult]:
        return self.sandbox.run(jobs)

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.close()


class RaySandbox:
    """The Sandbox protocol over grading actors. `workers`: each actor's sandbox's (None:
    its node's cores)."""

    def __init__(
        self,
        kind: str = "auto",
        limits: Limits = Limits(),
        image: str = DEFAULT_IMAGE,
        workers: int | None = None,
        actors: int | None = None,
    ):
        self._ray = ray = _import_ray()
        self.limits = limits
        self._args = (kind, limits, image, workers)
        actor_class = ray.remote(SandboxHost)
        if actors is None:
            from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

            nodes = [n for n in ray.nodes() if n.get("Alive")]
            marked = [n for n in nodes if n.get("Resources", {}).get(SANDBOX_RESOURCE)]
            strategies: list[Any] = [NodeAffinitySchedulingStrategy(n["NodeID"], soft=False) for n in (marked or nodes)]
        else:
            strategies = ["SPREAD"] * actors
        self._options = lambda strategy: actor_class.options(
            num_cpus=0, max_restarts=0, max_concurrency=IN_FLIGHT + 1, scheduling_strategy=strategy
        )
        self._strategies = dict(enumerate(strategies))
        self._actors: dict[int, Any] = {n: self._options(st).remote(*self._args) for n, st in self._strategies.items()}
        self._starting: dict[int, tuple[Any, Any]] = {}  # number -> (replacement, its describe() ref)
        self._failures = dict.fromkeys(self._actors, 0)  # losses in a row, per actor number
        self._closed = False
        self.lost = 0
        self.replaced = 0
        self._workers: dict[int, int] = {}  # each live actor's sandbox's workers
        self.workers = 0
        lost = (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError)
        try:
            refs = {number: (actor, actor.describe.remote()) for number, actor in self._actors.items()}
            for number, (actor, ref) in refs.items():
                try:
                    self._workers[number] = self._get(ref)
                except lost:  # lost while starting: replaced, as later
                    self._lose(number, actor)
                    continue
                self.workers += self._workers[number]
            self._admit(wait=not self._actors)
        except BaseException:
            self.close()
            raise

    @property
    def actors(self) -> int:
        """Grading actors alive."""
        return len(self._actors)

    def handles(self, starting: bool = False) -> dict[int, Any]:
        """The live actors by number, with `starting` the replacements still starting too
        (for tests and diagnostics)."""
        return {**self._actors, **{n: r for n, (r, _) in self._starting.items()}} if starting else dict(self._actors)

    def _get(self, refs):
        try:
            return self._ray.get(refs)
        except self._ray.exceptions.RayTaskError as e:
            cause = getattr(e, "cause", None)
            if isinstance(cause, (UsageError, ValueError)):
                raise cause from None
            raise

    def run(self, jobs: Sequence[Job]) -> list[ProgramResult]:
        """Grade `jobs` on the actors; results in job order. Safe to call from any thread."""
        if not jobs:
            return []
        if self._closed:
            raise RuntimeError("the sandbox is closed")
        batches: deque[list[int]] = deque()
        size = max(1, min((self._workers[n] for n in self._actors), default=1))
        for start in range(0, len(jobs), size):
            batches.append(list(range(start, min(start + size, len(jobs)))))
        results: list[ProgramResult | None] = [None] * len(jobs)
        pending: dict[Any, tuple[int, Any, list[int]]] = {}  # ref -> (actor number, actor, job indices)
        busy = dict.fromkeys(self._actors, 0)
        lost = (self._ray.exceptions.RayActorError, self._ray.exceptions.ActorUnavailableError)

        def feed() -> None:
            for number in self._admit(wait=not self._actors):
                busy.setdefault(number, 0)
            for number in list(busy):
                while batches and number in self._actors and busy[number] < IN_FLIGHT:
                    batch = batches.popleft()
                    actor = self._actors[number]
                    pending[actor.run.remote([jobs[i] for i in batch])] = (number, actor, batch)
                    busy[number] += 1

        feed()
        while pending:
            [ref], _ = self._ray.wait(list(pending), num_returns=1)
            number, actor, batch = pending.pop(ref)
            try:
                done = self._get(ref)
            except lost:
                if self._lose(number, actor):
                    busy.pop(number, None)
                batches.appendleft(batch)  # redone on the actors left, or on a replacement
                feed()
                continue
            if self._actors.get(number) is actor:
                busy[number] -= 1
            self._failures[number] = 0
            for i, result in zip(batch, done, strict=True):
                results[i] = result
            feed()
        return results  # type: ignore[return-value]

    def _lose(self, number: int, actor: Any) -> bool:
        """Actor `number` (`actor`) is gone: drop it, and start its replacement unless it
        failed too often in a row. False when it was dropped already."""
        if self._actors.get(number) is not actor:
            return False
        del self._actors[number]
        self.lost += 1
        self.workers -= self._workers.pop(number, 0)
        self._failures[number] += 1
        if self._failures[number] > REPLACEMENTS:
            log.warning("grading actor %d was lost %d times in a row: not replaced", number, self._failures[number])
            return True
        strategy = self._strategies[number]
        if not isinstance(strategy, str):  # its node while that node is up, else any
            from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

            strategy = NodeAffinitySchedulingStrategy(strategy.node_id, soft=True)
        replacement = self._options(strategy).remote(*self._args)
        self._starting[number] = (replacement, replacement.describe.remote())
        self.replaced += 1
        left = f"its jobs go to the {len(self._actors)} left" if self._actors else "no other actor is left to take its jobs"
        log.warning("grading actor %d was lost; %s; a replacement is starting", number, left)
        return True

    def _admit(self, wait: bool) -> list[int]:
        """Replacements whose sandbox is up join (their numbers); with `wait`, block (up to
        REPLACE_SECONDS) until one has joined, or raise SandboxUnavailable: none is left."""
        joined = []
        deadline = time.monotonic() + REPLACE_SECONDS
        lost = (self._ray.exceptions.RayActorError, self._ray.exceptions.ActorUnavailableError)
        while self._starting:
            refs = {ref: number for number, (_, ref) in self._starting.items()}
            timeout = max(0.0, deadline - time.monotonic()) if wait and not self._actors else 0
            ready, _ = self._ray.wait(list(refs), num_returns=1, timeout=timeout)
            if not ready:
                break
            number = refs[ready[0]]
            replacement, ref = self._starting.pop(number)
            self._actors[number] = replacement
            try:
                workers = self._get(ref)
            except lost:
                self._lose(number, replacement)
                continue
            self._workers[number] = workers
            self.workers += workers
            joined.append(number)
        if wait and not self._actors:
            waited = f" (a replacement did not start within {REPLACE_SECONDS} s)" if self._starting else ""
            raise SandboxUnavailable(
                f"every grading actor was lost{waited}: {self.lost} losses in all, each actor replaced up to {REPLACEMENTS} "
                "times in a row; run the same command again to grade what is missing"
            )
        return joined

    def close(self) -> None:
        self._closed = True
        actors = list(self._actors.values()) + [replacement for replacement, _ in self._starting.values()]
        self._actors, self._starting = {}, {}
        if not actors:
            return
        try:
            self._ray.wait([a.close.remote() for a in actors], num_returns=len(actors), timeout=60)
        except Exception:  # noqa: BLE001 -- closing what can be closed
            pass
        for actor in actors:
            try:
                self._ray.kill(actor)
            except Exception:  # noqa: BLE001
                pass

    def __enter__(self) -> RaySandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
