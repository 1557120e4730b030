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
- An actor lost mid-run (killed, its node gone) has its batches redone on the actors left;
  when none is left, SandboxUnavailable (a resumed run grades what is missing).
- A job's result does not depend on where it ran: the actors return results, the caller
  records them.

Ray is optional: imported when a pool is made, and a missing Ray is a UsageError. Knows
nothing of models or RSA.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Sequence
from typing import Any

from problems import UsageError
from sandbox import DEFAULT_IMAGE, Job, Limits, ProgramResult, SandboxUnavailable, make_sandbox

SANDBOX_RESOURCE = "sandbox"  # a node offering this custom resource hosts a grading actor
IN_FLIGHT = 2  # batches sent to an actor before its first comes back
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
        actor_class = ray.remote(SandboxHost)

        def remote(strategy):
            return actor_class.options(num_cpus=0, max_restarts=0, max_concurrency=IN_FLIGHT + 1, scheduling_strategy=strategy)

        if actors is None:
            from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

            nodes = [n for n in ray.nodes() if n.get("Alive")]
            marked = [n for n in nodes if n.get("Resources", {}).get(SANDBOX_RESOURCE)]
            handles = [
                remote(NodeAffinitySchedulingStrategy(n["NodeID"], soft=False)).remote(kind, limits, image, workers)
                for n in (marked or nodes)
            ]
        else:
            handles = [remote("SPREAD").remote(kind, limits, image, workers) for _ in range(actors)]
        self._actors: dict[int, Any] = dict(enumerate(handles))
        self._closed = False
        self.lost = 0
        try:
            sizes = self._get([h.describe.remote() for h in handles])
        except BaseException:
            self.close()
            raise
        self._workers = dict(zip(self._actors, sizes))
        self.workers = sum(sizes)

    @property
    def actors(self) -> int:
        """Grading actors alive."""
        return len(self._actors)

    def handles(self) -> dict[int, Any]:
        """The live actors by number (for tests and diagnostics)."""
        return dict(self._actors)

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
        size = max(1, min(self._workers.values(), default=1))
        for start in range(0, len(jobs), size):
            batches.append(list(range(start, min(start + size, len(jobs)))))
        results: list[ProgramResult | None] = [None] * len(jobs)
        pending: dict[Any, tuple[int, list[int]]] = {}  # ref -> (actor number, job indices)
        busy = dict.fromkeys(self._actors, 0)
        lost = (self._ray.exceptions.RayActorError, self._ray.exceptions.ActorUnavailableError)

        def feed() -> None:
            for number in list(busy):
                while batches and busy.get(number, IN_FLIGHT) < IN_FLIGHT:
                    batch = batches.popleft()
                    ref = self._actors[number].run.remote([jobs[i] for i in batch])
                    pending[ref] = (number, batch)
                    busy[number] += 1

        feed()
        while pending:
            [ref], _ = self._ray.wait(list(pending), num_returns=1)
            number, batch = pending.pop(ref)
            try:
                done = self._get(ref)
            except lost:
                self._lose(number)
                busy.pop(number, None)
                batches.appendleft(batch)  # redone on the actors left
                if not busy:
                    raise SandboxUnavailable(
                        f"every grading actor was lost ({self.lost} in all); run the same command again to grade what is missing"
                    ) from None
                feed()
                continue
            busy[number] -= 1
            for i, result in zip(batch, done, strict=True):
                results[i] = result
            feed()
        return results  # type: ignore[return-value]

    def _lose(self, number: int) -> None:
        if self._actors.pop(number, None) is not None:
            self.lost += 1
            self.workers -= self._workers.pop(number, 0)
            log.warning("grading actor %d was lost; its jobs go to the %d left", number, len(self._actors))

    def close(self) -> None:
        self._closed = True
        actors, self._actors = list(self._actors.values()), {}
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
