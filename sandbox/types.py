"""What goes into a sandbox and what comes out. Knows nothing of models or RSA."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Literal, Protocol

from problems import Kind, TestCase, UsageError

DEFAULT_IMAGE = "rsa-code-sandbox:latest"  # what `rsa-code sandbox build` makes
MIN_MEMORY_MB = 32  # below this Python itself does not start


class Verdict(str, Enum):
    PASSED = "passed"
    WRONG_ANSWER = "wrong_answer"
    TIME_LIMIT = "time_limit"
    MEMORY_LIMIT = "memory_limit"
    RUNTIME_ERROR = "runtime_error"
    OUTPUT_LIMIT = "output_limit"
    SYNTAX_ERROR = "syntax_error"
    # The sandbox failed, not the program: retried, reported apart, never a wrong answer.
    INFRA_ERROR = "infra_error"


Mode = Literal["first_failure", "all"]  # grading stops at the first failing test; feedback runs all
# lcb: the verdict lcb_runner would give (scores compare with published numbers); judge: the
# program run as a judge runs it (a script per test on real streams), so no correct program
# is lost to LiveCodeBench's wrapping. See sandbox/inside/supervisor.py.
Semantics = Literal["lcb", "judge"]
SEMANTICS: tuple[Semantics, ...] = ("lcb", "judge")


@dataclass(frozen=True, slots=True)
class Limits:
    test_seconds: float = 6.0  # wall time per test (LiveCodeBench's timeout); CPU time as much
    # Docker: the cgroup's, counting all the program holds (memory files, tmpfs); local: address space
    memory_mb: int = 2048
    pids: int = 512  # processes and threads (LiveCodeBench has no bound; programs start dozens of threads)
    output_bytes: int = 16 * 1024 * 1024  # per stream per test
    scratch_mb: int = 64  # tmpfs for scratch files
    program_seconds: float | None = None  # None: (test_seconds + 1) * tests + 5, as LiveCodeBench

    def __post_init__(self) -> None:
        for name in ("test_seconds", "memory_mb", "pids", "output_bytes", "scratch_mb", "program_seconds"):
            value = getattr(self, name)
            if value is not None and not (value > 0 and math.isfinite(value)):
                raise ValueError(f"Limits.{name} must be a positive finite number, got {value!r}")
        if self.memory_mb < MIN_MEMORY_MB:
            raise ValueError(f"Limits.memory_mb must be at least {MIN_MEMORY_MB} (the interpreter needs it), got {self.memory_mb!r}")

    def seconds_for(self, tests: int) -> float:
        """Wall time for a whole program of `tests` tests."""
        return self.program_seconds if self.program_seconds is not None else (self.test_seconds + 1) * tests + 5


@dataclass(frozen=True, slots=True)
class Job:
    code: str
    kind: Kind
    tests: tuple[TestCase, ...]
    func_name: str | None = None
    mode: Mode = "first_failure"
    semantics: Semantics = "lcb"
    setup_code: str = ""  # assertion: run by the checker before the tests (never in the program's process)
    test_classes: tuple[str, ...] = ()  # assertion: the program's classes the tests construct


@dataclass(frozen=True, slots=True)
class TestResult:
    __test__ = False  # not a pytest class

    index: int
    verdict: Verdict
    seconds: float
    memory_kb: int | None = None
    detail: str = ""  # truncated diff of expected vs got, or the traceback's last lines
    output_digest: str | None = None  # hash of the normalised output, for grouping by behaviour


@dataclass(frozen=True, slots=True)
class ProgramResult:
    verdict: Verdict  # the first non-passed test's verdict, or PASSED
    tests: tuple[TestResult, ...] = field(default=())
    total: int = 0  # tests given, including those not run after a failure
    detail: str = ""  # program-level detail (syntax error message, infra error cause)

    @property
    def passed(self) -> int:
        return sum(t.verdict is Verdict.PASSED for t in self.tests)

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.PASSED


class SandboxUnavailable(UsageError):
    """The sandbox asked for cannot run here (no engine, no image, ...): the message says
    what to do. A UsageError, so the command line reports it in one line."""


class Sandbox(Protocol):
    limits: Limits
    workers: int  # programs graded at once

    def run(self, jobs: Sequence[Job]) -> list[ProgramResult]:
        """Run each job, concurrently up to the sandbox's bound; results in job order."""
        ...

    def close(self) -> None: ...
