"""Fakes for unit tests of the evaluator only; the real sandbox is tested in tests/sandbox."""

from __future__ import annotations

import hashlib
import re
import threading

from problems import Problem, TestCase
from sandbox import Job, Limits, ProgramResult, TestResult, Verdict


class FakeSandbox:
    """'Runs' programs of the form print(<value>): the output is the value, whatever the
    input. Enough to exercise grading logic without Docker."""

    def __init__(self, gate: threading.Event | None = None):
        self.limits = Limits()
        self.jobs_run = 0
        self.gate = gate  # when set, run() waits for it: lets a test see what overlaps

    def run(self, jobs):
        if self.gate is not None:
            assert self.gate.wait(10), "the gate never opened"
        self.jobs_run += len(jobs)
        return [self._one(job) for job in jobs]

    def _one(self, job: Job) -> ProgramResult:
        match = re.fullmatch(r"print\((\w+)\)", job.code.strip())
        if match is None:
            return ProgramResult(Verdict.SYNTAX_ERROR, (), len(job.tests), "not print(<value>)")
        output = match.group(1)
        digest = hashlib.sha256(output.encode()).hexdigest()[:16]
        results = []
        for i, test in enumerate(job.tests):
            verdict = Verdict.PASSED if output == test.output.strip() else Verdict.WRONG_ANSWER
            results.append(TestResult(i, verdict, 0.001, None, "", digest))
            if verdict is not Verdict.PASSED and job.mode == "first_failure":
                break
        overall = next((r.verdict for r in results if r.verdict is not Verdict.PASSED), Verdict.PASSED)
        return ProgramResult(overall, tuple(results), len(job.tests))

    def close(self):
        pass


def value_problems(count: int, hidden: int = 2) -> list[Problem]:
    """Problem i expects the output str(i % 3)."""
    return [
        Problem(
            id=f"q{i}",
            statement=f"Print {i % 3}.",
            kind="stdin",
            public_tests=(TestCase(input="", output=str(i % 3)),),
            hidden_tests=tuple(TestCase(input=str(h), output=str(i % 3)) for h in range(hidden)),
            difficulty=("easy", "medium", "hard")[i % 3],
            platform="atcoder",
        )
        for i in range(count)
    ]


def value_program(request) -> str:
    """A response whose program prints seed % 3: right about one time in three."""
    return f"Thinking about seed {request.sampling.seed}.\n```python\nprint({request.sampling.seed % 3})\n```"
