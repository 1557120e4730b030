"""Generation on a Ray cluster: a pool of actors, each holding one runner, behind the runner
protocol, so the solver cannot tell it from a single runner.

    connect("local")                                   # or a running cluster's address
    pool = RayRunnerPool(config, actors=2)             # a RunnerConfig, or a factory of runners
    completions = pool.generate(requests)              # one per request, in request order

- A problem's requests stay together on one actor, for its prefix cache. The pool does not
  know problems: it groups requests by an affinity key, the system message and the start of
  the first user message from its second line up to the next Markdown heading, at most
  KEY_CHARS characters (the default templates open with a heading, then the statement, then
  headings of their own), so the requests of one problem share a key, in every round. A
  group keeps the actor it had before while that keeps the shares balanced.
- Shares are balanced by token weight: a request weighs its prompt (bytes / 4, a cheap bound
  on its tokens) plus its max_tokens; groups go, heaviest first, to the least loaded actor.
- An actor lost mid-call (killed, out of memory, its node gone) has its share redone on the
  actors left, and a replacement is started in its place (on any node with room), which
  joins once its runner is up and takes the lost one's groups back. An actor is replaced
  up to REPLACEMENTS times in a row without a call finishing in between (a runner that
  crashes every time is not restarted forever); when no actor is left and no replacement
  comes up within REPLACE_SECONDS, generate fails with RunnerError saying so. Every
  request carries its own seed, so a completion does not depend on the actor that made it
  (for runners that honour a request's seed alone; transformers seeds whole batches).
- The actors return completions and write nothing: the driver alone writes the run directory.

Ray is optional: it is imported when a pool is made, and a missing Ray is a UsageError.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from problems import InputFileError, UsageError
from runners.base import ChatRequest, Completion, Message, Runner, RunnerError
from runners.config import RunnerConfig

KEY_CHARS = 256  # of the first user message (after its first line) that name a request's group
STICKY_SLACK = 0.1  # a group stays on its actor while that actor's share stays within 10% of a fair one
CONNECT_SECONDS = 5  # for a cluster address to answer
REPLACEMENTS = 3  # a lost actor is replaced up to this many times in a row without a call finishing in between
REPLACE_SECONDS = 900  # the longest wait for a replacement when no actor is left (a large engine loads for minutes)
INSTALL_HINT = "Ray is not installed: pip install 'rsa-code[ray]'"
RunnerFactory = Callable[[], Runner]


class RayConfig(BaseModel):
    """Where the cluster is and how many actors to use (`--ray`, `--ray-actors`, `--ray-graders`).
    Not part of a run's config: a run may resume with other values, or without Ray."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    address: str = Field(
        description="local: start a Ray instance on this machine; auto: the cluster this machine belongs to "
        "(`ray start`); or a cluster's address (host:6379, ray://host:10001).",
        min_length=1,
    )
    actors: int | None = Field(
        None,
        ge=1,
        description="Generation actors, each holding one runner (default: --data-parallel-size when above 1, else "
        "as many as the cluster's GPUs hold for --runner vllm, else 1; given with --data-parallel-size, the two must agree).",
    )
    graders: int | None = Field(
        None,
        ge=1,
        description="Grading actors, each with its own warm sandbox (default: one per node offering the 'sandbox' "
        "resource, else one per node).",
    )


def import_ray() -> Any:
    """The ray module, or a UsageError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise UsageError(f"--ray: {INSTALL_HINT}") from None
    return ray


def connect(address: str) -> Any:
    """Join (or, for `local`, start) the cluster once per process; the ray module."""
    ray = import_ray()
    if not ray.is_initialized():
        check_address(address)
        try:
            ray.init(
                address=address,
                include_dashboard=False,
                log_to_driver=False,  # actors' logs stay in the session's log folder, off the progress lines
                logging_level=logging.WARNING,
            )
        except (ConnectionError, ValueError, RuntimeError) as e:
            raise UsageError(f"--ray {address}: cannot join the cluster: {str(e).splitlines()[0]}") from None
    return ray


def check_address(address: str) -> None:
    """A cluster address must answer: Ray itself waits minutes on one that does not."""
    if address in ("local", "auto"):
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise UsageError(f"--ray {address}: expected local, auto, HOST:PORT or ray://HOST:PORT")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_SECONDS).close()
    except OSError as e:
        raise UsageError(f"--ray {address}: nothing answers there ({e.strerror or e}); is the head node up (`ray start --head`)?") from None


def affinity_key(request: ChatRequest) -> Hashable:
    """Requests with the same key go to the same actor (see the module's docstring)."""
    system = next((m["content"] for m in request.messages if m["role"] == "system"), "")
    user = next((m["content"] for m in request.messages if m["role"] == "user"), "")
    _, _, rest = user.partition("\n")
    head = (rest or user)[:KEY_CHARS]
    cut = head.find("\n#")  # the next heading ends the statement (the prompts differ after it)
    return system, head if cut < 0 else head[:cut]


def request_weight(request: ChatRequest) -> int:
    """Tokens a request costs, bounded cheaply: its prompt's bytes / 4 and the most it may write."""
    return sum(len(m["content"].encode("utf-8")) for m in request.messages) // 4 + request.sampling.max_tokens


def assign(weights: dict[Hashable, int], actors: Sequence[int], home: dict[Hashable, int] | None = None) -> dict[Hashable, int]:
    """Each group (key -> weight) to one of `actors`, balancing the summed weight: heaviest
    first to the least loaded, except that a group stays on its `home` actor while that
    actor's load stays within STICKY_SLACK of a fair share. Deterministic."""
    home = home or {}
    fair = sum(weights.values()) / max(1, len(actors))
    load = dict.fromkeys(actors, 0)
    placed: dict[Hashable, int] = {}
    order = sorted(weights, key=lambda k: -weights[k])  # stable: ties keep first-seen order
    for key in order:
        actor = home.get(key)
        if actor not in load or load[actor] + weights[key] > fair * (1 + STICKY_SLACK):
            actor = min(load, key=lambda a: (load[a], a))
        placed[key] = actor
        load[actor] += weights[key]
    return placed


class RunnerHost:
    """What runs inside an actor: one runner, built there (a RunnerConfig or a factory).
    Errors the user must see (a bad model, a bad file) come back as plain one-line errors."""

    def __init__(self, build: RunnerConfig | RunnerFactory):
        self.error: Exception | None = None
        self.runner: Runner | None = None
        try:
            if isinstance(build, RunnerConfig):
                from runners import make_runner

                self.runner = make_runner(build)
            else:
                self.runner = build()
        except Exception as e:  # noqa: BLE001 -- reported by describe(), where the driver waits
            self.error = _portable(e)

    def describe(self) -> dict:
        if self.error is not None:
            raise self.error
        runner = self.runner
        return {
            "model": runner.model,
            "context_window": runner.context_window,
            "opens_thinking": bool(getattr(runner, "opens_thinking", False)),
        }

    def count_tokens(self, messages: list[Message]) -> int:
        return self._call(self.runner.count_tokens, messages)

    def generate(self, requests: list[ChatRequest]) -> list[Completion]:
        return self._call(self.runner.generate, requests)

    def close(self) -> None:
        if self.runner is not None:
            self.runner.close()

    @staticmethod
    def _call(method, argument):
        try:
            return method(argument)
        except Exception as e:  # noqa: BLE001 -- re-raised in a form that crosses the process boundary whole
            raise _portable(e) from None


def _portable(error: Exception) -> Exception:
    """An error the driver can rebuild: the user's errors as one-line messages of their kind."""
    if isinstance(error, (InputFileError, UsageError)):
        return UsageError(str(error))
    if isinstance(error, RunnerError):
        return RunnerError(str(error))
    return error


def unwrap(ray: Any, error: Exception) -> Exception:
    """The error an actor's method raised, as the caller would have seen it in-process."""
    if isinstance(error, ray.exceptions.RayTaskError):
        cause = getattr(error, "cause", None)
        if isinstance(cause, (UsageError, RunnerError, ValueError)):
            return cause
    return error


def lost_errors(ray: Any) -> tuple[type[Exception], ...]:
    """What ray.get raises when an actor (or its node) is gone."""
    return (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError)


class RayRunnerPool:
    """The runner protocol over `actors` Ray actors, each holding its own runner. Ray must be
    connected (connect()); `num_cpus`/`num_gpus` are each actor's share of a node."""

    def __init__(self, build: RunnerConfig | RunnerFactory, actors: int = 1, *, num_cpus: float = 1, num_gpus: float = 0):
        if actors < 1:
            raise ValueError(f"actors must be at least 1, got {actors}")
        self._ray = ray = import_ray()
        self._build = build
        self._remote = ray.remote(RunnerHost).options(num_cpus=num_cpus, num_gpus=num_gpus, max_restarts=0)
        self._actors: dict[int, Any] = {number: self._remote.remote(build) for number in range(actors)}
        self._starting: dict[int, tuple[Any, Any]] = {}  # number -> (replacement, its describe() ref)
        self._failures: dict[int, int] = dict.fromkeys(self._actors, 0)  # losses in a row, per actor number
        self._home: dict[Hashable, int] = {}  # a group's actor in the rounds so far
        self.lost = 0  # actors lost so far
        self.replaced = 0  # replacements started so far
        self._described: dict | None = None  # what every actor's runner must say it is
        try:
            refs = {number: (actor, actor.describe.remote()) for number, actor in self._actors.items()}
            for number, (actor, ref) in refs.items():
                try:
                    described = self._get(ref)
                except lost_errors(ray):  # lost while starting: replaced, as later
                    self._lose(number, actor)
                    continue
                self._check(described)
            self._admit(wait=not self._actors)
        except BaseException:
            self.close()
            raise
        first = self._described
        self.model: str = first["model"]
        self.context_window: int = first["context_window"]
        self.opens_thinking: bool = first["opens_thinking"]

    @property
    def actors(self) -> int:
        """Actors alive and ready (replacements still starting are not counted)."""
        return len(self._actors)

    def handles(self) -> dict[int, Any]:
        """The live actors by number (for tests and diagnostics)."""
        return dict(self._actors)

    def _get(self, refs, timeout: float | None = None):
        try:
            return self._ray.get(refs, timeout=timeout)
        except Exception as e:  # noqa: BLE001 -- the actor's own error, as in-process
            raise unwrap(self._ray, e) from None

    def count_tokens(self, messages: Sequence[Message]) -> int:
        while True:
            number, actor = self._any_actor()
            try:
                result = self._get(actor.count_tokens.remote(list(messages)))
            except lost_errors(self._ray):
                self._lose(number, actor)
                continue
            self._failures[number] = 0
            return result

    def generate(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        if not requests:
            return []
        keys = [affinity_key(r) for r in requests]
        members: dict[Hashable, list[int]] = {}
        for i, key in enumerate(keys):
            members.setdefault(key, []).append(i)
        results: list[Completion | None] = [None] * len(requests)
        pending: dict[Any, tuple[int, Any, list[Hashable]]] = {}  # ref -> (actor number, actor, its groups)

        def submit(groups: list[Hashable]) -> None:
            self._admit(wait=not self._actors)
            weights = {key: sum(request_weight(requests[i]) for i in members[key]) for key in groups}
            placed = assign(weights, sorted(self._actors), self._home)
            self._home.update(placed)
            shares: dict[int, list[Hashable]] = {}
            for key in groups:
                shares.setdefault(placed[key], []).append(key)
            for number, share in shares.items():
                batch = [requests[i] for key in share for i in members[key]]
                actor = self._actors[number]
                pending[actor.generate.remote(batch)] = (number, actor, share)

        submit(list(members))
        while pending:
            [ref], _ = self._ray.wait(list(pending), num_returns=1)
            number, actor, share = pending.pop(ref)
            try:
                done = self._get(ref)
            except lost_errors(self._ray):
                self._lose(number, actor)
                submit(share)  # the share is redone on the actors left (or, with none left, on a replacement)
                continue
            self._failures[number] = 0
            indices = [i for key in share for i in members[key]]
            for i, completion in zip(indices, done, strict=True):
                results[i] = completion
        return results  # type: ignore[return-value]

    def _any_actor(self) -> tuple[int, Any]:
        self._admit(wait=not self._actors)
        number = min(self._actors)
        return number, self._actors[number]

    def _lose(self, number: int, actor: Any) -> None:
        """Actor `number` (`actor`) is gone: drop it, and start its replacement unless it
        failed too often in a row (nothing, when it was dropped already)."""
        if self._actors.get(number) is not actor:
            return
        del self._actors[number]
        self.lost += 1
        self._failures[number] += 1
        log = logging.getLogger("runners")
        if self._failures[number] > REPLACEMENTS:
            log.warning(
                "generation actor %d was lost %d times in a row: not replaced; %d left", number, self._failures[number], len(self._actors)
            )
            return
        replacement = self._remote.remote(self._build)
        self._starting[number] = (replacement, replacement.describe.remote())
        self.replaced += 1
        left = f"its share goes to the {len(self._actors)} left" if self._actors else "no other actor is left to take its share"
        log.warning("generation actor %d was lost; %s; a replacement is starting", number, left)

    def _admit(self, wait: bool) -> None:
        """Replacements whose runner is up join the pool; with `wait`, block (up to
        REPLACE_SECONDS) until one has joined, or fail: no actor is left."""
        deadline = time.monotonic() + REPLACE_SECONDS
        while self._starting:
            refs = {ref: number for number, (_, ref) in self._starting.items()}
            timeout = max(0.0, deadline - time.monotonic()) if wait and not self._actors else 0
            ready, _ = self._ray.wait(list(refs), num_returns=1, timeout=timeout)
            if not ready:
                break
            number = refs[ready[0]]
            replacement, ref = self._starting.pop(number)
            self._actors[number] = replacement  # joins; if its start failed, _lose() replaces it again
            try:
                described = self._get(ref)
            except lost_errors(self._ray):
                self._lose(number, replacement)
                continue
            except BaseException:
                self._actors.pop(number)
                self._kill([replacement])
                raise
            self._check(described)
        if wait and not self._actors:
            waited = f" (a replacement did not start within {REPLACE_SECONDS} s)" if self._starting else ""
            raise RunnerError(
                f"every generation actor was lost{waited}: {self.lost} losses in all, each actor replaced up to "
                f"{REPLACEMENTS} times in a row; run the same command again to resume the run"
            )

    def _check(self, described: dict) -> None:
        if self._described is None:
            self._described = described
        elif described != self._described:
            raise RunnerError(f"the actors' runners differ: {self._described} and {described}")

    def close(self) -> None:
        actors = list(self._actors.values()) + [replacement for replacement, _ in self._starting.values()]
        self._actors, self._starting = {}, {}
        if not actors:
            return
        try:
            self._ray.wait([actor.close.remote() for actor in actors], num_returns=len(actors), timeout=30)
        except Exception:  # noqa: BLE001 -- closing what can be closed
            pass
        self._kill(actors)

    def _kill(self, actors: Sequence[Any]) -> None:
        for actor in actors:
            try:
                self._ray.kill(actor)
            except Exception:  # noqa: BLE001
                pass


def actor_resources(config: RunnerConfig, ray: Any) -> tuple[float, float]:
    """(CPUs, GPUs) for one actor holding `config`'s runner: a vllm engine on a cluster with
    GPUs takes its tensor-parallel GPUs; everything else a core."""
    gpus = ray.cluster_resources().get("GPU", 0)
    if config.kind == "vllm" and gpus:
        return 1, config.tensor_parallel_size
    return 1, 0


def ray_runner(config: RunnerConfig, ray_config: RayConfig) -> RayRunnerPool:
    """The pool `--ray` asks for: `ray_config.actors` actors (see RayConfig for the default),
    each holding `config`'s runner, one engine (`--data-parallel-size N` is N actors)."""
    dp = config.data_parallel_size
    if dp > 1 and ray_config.actors not in (None, dp):
        raise UsageError(f"--ray-actors {ray_config.actors} and --data-parallel-size {dp} disagree: both set the generation actors")
    ray = connect(ray_config.address)
    cpus, gpus = actor_resources(config, ray)
    actors = ray_config.actors
    if actors is None:
        if dp > 1:
            actors = dp
        elif gpus:
            actors = max(1, int(ray.cluster_resources().get("GPU", 0) // gpus))
        else:
            actors = 1
    have = ray.cluster_resources()
    need = {"CPU": actors * cpus, "GPU": actors * gpus}
    flag = "--data-parallel-size" if dp > 1 else "--ray-actors"
    for resource, amount in need.items():
        if amount > have.get(resource, 0):
            raise UsageError(f"{flag} {actors}: the actors need {amount:g} {resource}s, the cluster has {have.get(resource, 0):g}")
    return RayRunnerPool(config.model_copy(update={"data_parallel_size": 1}), actors, num_cpus=cpus, num_gpus=gpus)


def implied_ray(config: RunnerConfig, ray_config: RayConfig | None) -> RayConfig | None:
    """The Ray a command's generation uses: `--ray`'s, or for `--data-parallel-size N` (N > 1)
    without `--ray` a local Ray instance (its N engines are N actors there)."""
    if ray_config is None and config.data_parallel_size > 1:
        try:
            import_ray()
        except UsageError:
            raise UsageError(
                f"--data-parallel-size {config.data_parallel_size}: the engines run as Ray actors, and {INSTALL_HINT}"
            ) from None
        return RayConfig(address="local")
    return ray_config


def runner_for(config: RunnerConfig, ray_config: RayConfig | None = None) -> Runner:
    """The runner a command uses: `config`'s, on this machine or on Ray (with --ray, or
    --data-parallel-size above 1, which starts a local Ray instance without --ray)."""
    ray_config = implied_ray(config, ray_config)
    if ray_config is None:
        from runners import make_runner

        return make_runner(config)
    return ray_runner(config, ray_config)
