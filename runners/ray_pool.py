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
- An actor lost mid-call (killed, its node gone) has its share redone on the actors left;
  the pool carries on with those, and fails (RunnerError) only when none is left. Every
  request carries its own seed, so a completion does not depend on the actor that made it
  (for runners that honour a request's seed alone; transformers seeds whole batches).
- The actors return completions and write nothing: the driver alone writes the run directory.

Ray is optional: it is imported when a pool is made, and a missing Ray is a UsageError.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from problems import InputFileError, UsageError
from runners.base import ChatRequest, Completion, Message, Runner, RunnerError
from runners.config import RunnerConfig

KEY_CHARS = 256  # of the first user message (after its first line) that name a request's group
STICKY_SLACK = 0.1  # a group stays on its actor while that actor's share stays within 10% of a fair one
CONNECT_SECONDS = 5  # for a cluster address to answer
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
        "as many as the cluster's GPUs hold for --runner vllm, else 1).",
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
        remote = ray.remote(RunnerHost).options(num_cpus=num_cpus, num_gpus=num_gpus, max_restarts=0)
        self._actors: dict[int, Any] = {number: remote.remote(build) for number in range(actors)}
        self._home: dict[Hashable, int] = {}  # a group's actor in the rounds so far
        self.lost = 0  # actors lost so far
        try:
            described = self._get([actor.describe.remote() for actor in self._actors.values()])
        except BaseException:
            self.close()
            raise
        first = described[0]
        if any(d != first for d in described[1:]):
            self.close()
            raise RunnerError(f"the actors' runners differ: {first} and {next(d for d in described if d != first)}")
        self.model: str = first["model"]
        self.context_window: int = first["context_window"]
        self.opens_thinking: bool = first["opens_thinking"]

    @property
    def actors(self) -> int:
        """Actors alive."""
        return len(self._actors)

    def handles(self) -> dict[int, Any]:
        """The live actors by number (for tests and diagnostics)."""
        return dict(self._actors)

    def _get(self, refs):
        try:
            return self._ray.get(refs)
        except Exception as e:  # noqa: BLE001 -- the actor's own error, as in-process
            raise unwrap(self._ray, e) from None

    def count_tokens(self, messages: Sequence[Message]) -> int:
        while True:
            number, actor = self._any_actor()
            try:
                return self._get(actor.count_tokens.remote(list(messages)))
            except lost_errors(self._ray):
                self._lose(number)

    def generate(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        if not requests:
            return []
        keys = [affinity_key(r) for r in requests]
        members: dict[Hashable, list[int]] = {}
        for i, key in enumerate(keys):
            members.setdefault(key, []).append(i)
        results: list[Completion | None] = [None] * len(requests)
        pending: dict[Any, tuple[int, list[Hashable]]] = {}  # ref -> (actor number, its groups)

        def submit(groups: list[Hashable]) -> None:
            if not self._actors:
                raise RunnerError(f"every generation actor was lost ({self.lost} in all); run the same command again to resume")
            weights = {key: sum(request_weight(requests[i]) for i in members[key]) for key in groups}
            placed = assign(weights, sorted(self._actors), self._home)
            self._home.update(placed)
            shares: dict[int, list[Hashable]] = {}
            for key in groups:
                shares.setdefault(placed[key], []).append(key)
            for number, share in shares.items():
                batch = [requests[i] for key in share for i in members[key]]
                pending[self._actors[number].generate.remote(batch)] = (number, share)

        submit(list(members))
        while pending:
            [ref], _ = self._ray.wait(list(pending), num_returns=1)
            number, share = pending.pop(ref)
            try:
                done = self._get(ref)
            except lost_errors(self._ray):
                self._lose(number)
                submit(share)  # the share is redone on the actors left
                continue
            indices = [i for key in share for i in members[key]]
            for i, completion in zip(indices, done, strict=True):
                results[i] = completion
        return results  # type: ignore[return-value]

    def _any_actor(self) -> tuple[int, Any]:
        if not self._actors:
            raise RunnerError(f"every generation actor was lost ({self.lost} in all)")
        number = min(self._actors)
        return number, self._actors[number]

    def _lose(self, number: int) -> None:
        if self._actors.pop(number, None) is not None:
            self.lost += 1
            logging.getLogger("runners").warning("generation actor %d was lost; its share goes to the %d left", number, len(self._actors))

    def close(self) -> None:
        actors, self._actors = list(self._actors.values()), {}
        if not actors:
            return
        try:
            self._ray.wait([actor.close.remote() for actor in actors], num_returns=len(actors), timeout=30)
        except Exception:  # noqa: BLE001 -- closing what can be closed
            pass
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
    each holding `config`'s runner as one replica (its own data parallelism gives way)."""
    ray = connect(ray_config.address)
    cpus, gpus = actor_resources(config, ray)
    actors = ray_config.actors
    if actors is None:
        if config.data_parallel_size > 1:
            actors = config.data_parallel_size
        elif gpus:
            actors = max(1, int(ray.cluster_resources().get("GPU", 0) // gpus))
        else:
            actors = 1
    have = ray.cluster_resources()
    need = {"CPU": actors * cpus, "GPU": actors * gpus}
    for resource, amount in need.items():
        if amount > have.get(resource, 0):
            raise UsageError(f"--ray-actors {actors}: the actors need {amount:g} {resource}s, the cluster has {have.get(resource, 0):g}")
    return RayRunnerPool(config.model_copy(update={"data_parallel_size": 1}), actors, num_cpus=cpus, num_gpus=gpus)


def runner_for(config: RunnerConfig, ray_config: RayConfig | None) -> Runner:
    """The runner a command uses: `config`'s, on this machine or (with --ray) on the cluster."""
    if ray_config is None:
        from runners import make_runner

        return make_runner(config)
    return ray_runner(config, ray_config)
