"""Runs programs against tests and returns a verdict per test. Knows nothing of models or RSA.

    sandbox = make_sandbox("docker", Limits(test_seconds=6))
    results = sandbox.run([job_for(problem, code, semantics="lcb") for code in programs])
    sandbox.close()

Expected outputs never enter the sandbox: it returns what each test's program printed or
returned, and the host judges (sandbox/compare.py). See sandbox/inside/supervisor.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from problems import Problem, TestCase
from sandbox.types import (
    DEFAULT_IMAGE,
    MIN_MEMORY_MB,
    SEMANTICS,
    Job,
    Limits,
    Mode,
    ProgramResult,
    Sandbox,
    SandboxUnavailable,
    Semantics,
    TestResult,
    Verdict,
)

SandboxKind = Literal["docker", "local", "auto"]


def make_sandbox(
    kind: SandboxKind | str = "auto",
    limits: Limits = Limits(),
    image: str = DEFAULT_IMAGE,
    workers: int | None = None,
) -> Sandbox:
    """A ready sandbox. docker: warm containers (default: one per core of the engine).
    local: subprocesses on this machine, no isolation (warns). auto: docker, with an error
    saying how to get it (or to choose local) when the engine or the image is missing."""
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if kind == "local":
        from sandbox.local_backend import LocalSandbox

        return LocalSandbox(limits, workers)
    if kind not in ("docker", "auto"):
        raise SandboxUnavailable(f"unknown sandbox {kind!r}: expected docker, local or auto")
    from sandbox.docker_backend import DockerSandbox

    return DockerSandbox(limits, image, workers)


def job_for(
    problem: Problem, code: str, tests: Sequence[TestCase] | None = None, mode: Mode = "first_failure", semantics: Semantics = "lcb"
) -> Job:
    """A job grading `code` on `problem`: all its tests (public first) unless `tests` says."""
    return Job(
        code,
        problem.kind,
        tuple(problem.all_tests if tests is None else tests),
        problem.func_name,
        mode,
        semantics,
        problem.setup_code,
        problem.test_classes,
    )


__all__ = [
    "DEFAULT_IMAGE",
    "MIN_MEMORY_MB",
    "SEMANTICS",
    "Job",
    "Limits",
    "Mode",
    "ProgramResult",
    "Sandbox",
    "SandboxUnavailable",
    "Semantics",
    "TestResult",
    "Verdict",
    "job_for",
    "make_sandbox",
]
