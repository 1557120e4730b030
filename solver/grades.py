"""A candidate's grade: one typed record, read and written in one place, and what it says.

A grade line in a round file (see solver/rundir.py) is `Grade.to_record()`:

    {"problem_id", "round", "index", "code_sha",
     "verdict": a sandbox Verdict's value, or "no_code" when the candidate held no program,
     "passed", "total": tests passed of all tests (public, then hidden; grading stops at the first failure),
     "failed_test": {"index", "verdict", "detail"} (the first failing test), or "detail" (program-level),
     "public": {"keys": [...], "verdicts": [...], "tests": [...] (with --feedback)}}

`public` is the public tests run in full: per test, the output's digest (or the verdict when
it produced none), which groups programs by behaviour; expected outputs play no part in it.

What a grade says is decided here only: `correct` (every test passed), `passes_public`
(every public test passed), `infra_error` (the sandbox failed, not the program). An infra
error is never correct: a score counts it as a failure (lcb_runner's convention) and says
how many there were, and a resumed run grades it again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sandbox import ProgramResult, Verdict
from solver.rsa import Candidate, CandidateKey

NO_CODE = "no_code"  # the verdict written for a candidate with no program to run
DETAIL_CHARS = 500  # details kept per grade (tracebacks, diffs)
TEST_DETAIL_CHARS = 300  # per test, with --feedback
# Verdicts that say the program produced nothing to compare: such programs do not vote in majority.
NO_OUTPUT = frozenset(
    v.value
    for v in (
        Verdict.RUNTIME_ERROR,
        Verdict.SYNTAX_ERROR,
        Verdict.TIME_LIMIT,
        Verdict.MEMORY_LIMIT,
        Verdict.OUTPUT_LIMIT,
        Verdict.INFRA_ERROR,
    )
)


@dataclass(frozen=True, slots=True)
class PublicRun:
    """The public tests run in full: per test, a behaviour key and a verdict."""

    keys: tuple[str, ...] = ()
    verdicts: tuple[Verdict, ...] = ()
    tests: tuple[dict, ...] | None = None  # per-test verdict, seconds, memory, detail (with --feedback)

    @property
    def all_passed(self) -> bool:
        return bool(self.verdicts) and all(v is Verdict.PASSED for v in self.verdicts)

    def summary(self) -> str:
        """One line, for an aggregation prompt (--feedback-in-prompt)."""
        passed = sum(v is Verdict.PASSED for v in self.verdicts)
        failed = [f"test {i + 1}: {v.value.replace('_', ' ')}" for i, v in enumerate(self.verdicts) if v is not Verdict.PASSED]
        return f"passed {passed} of {len(self.verdicts)}" + (f" ({'; '.join(failed)})" if failed else "")

    def to_record(self) -> dict:
        record: dict = {"keys": list(self.keys), "verdicts": [v.value for v in self.verdicts]}
        if self.tests is not None:
            record["tests"] = list(self.tests)
        return record

    @classmethod
    def from_record(cls, record: Mapping) -> PublicRun:
        tests = record.get("tests")
        return cls(tuple(record["keys"]), tuple(Verdict(v) for v in record["verdicts"]), None if tests is None else tuple(tests))

    @classmethod
    def of(cls, result: ProgramResult, with_details: bool) -> PublicRun:
        keys = tuple(t.output_digest if t.output_digest is not None else t.verdict.value for t in result.tests)
        if result.verdict is Verdict.SYNTAX_ERROR:
            keys = (Verdict.SYNTAX_ERROR.value,) * max(1, len(keys))
        tests = None
        if with_details:
            tests = tuple(
                {
                    "verdict": t.verdict.value,
                    "seconds": round(t.seconds, 4),
                    "memory_kb": t.memory_kb,
                    "detail": t.detail[:TEST_DETAIL_CHARS],
                }
                for t in result.tests
            )
        return cls(keys, tuple(t.verdict for t in result.tests), tests)


@dataclass(frozen=True, slots=True)
class Grade:
    problem_id: str
    round: int
    index: int
    code_sha: str
    verdict: Verdict | None  # None: the candidate held no program
    passed: int
    total: int
    public: PublicRun = field(default_factory=PublicRun)
    failed_test: dict | None = None
    detail: str | None = None

    @property
    def key(self) -> CandidateKey:
        return CandidateKey(self.problem_id, self.index, self.round)

    @property
    def infra_error(self) -> bool:
        return self.verdict is Verdict.INFRA_ERROR

    @property
    def correct(self) -> bool:
        """Every test passed. An infra error is not correct (and is graded again on resume)."""
        return self.verdict is Verdict.PASSED

    @property
    def passes_public(self) -> bool:
        """Every public test passed, in a grade the sandbox completed."""
        return not self.infra_error and self.public.all_passed

    @property
    def verdict_name(self) -> str:
        return NO_CODE if self.verdict is None else self.verdict.value

    def behaviour(self) -> tuple[str, ...] | None:
        """What the program did on the public inputs, for majority voting; None for programs
        that produced nothing on any of them (no code, crashes, limits): they do not vote."""
        keys = self.public.keys
        if self.verdict is None or (keys and all(k in NO_OUTPUT for k in keys)):
            return None
        return keys

    def to_record(self) -> dict:
        record: dict = {
            "problem_id": self.problem_id,
            "round": self.round,
            "index": self.index,
            "code_sha": self.code_sha,
            "verdict": self.verdict_name,
            "passed": self.passed,
            "total": self.total,
        }
        if self.failed_test is not None:
            record["failed_test"] = self.failed_test
        if self.detail is not None:
            record["detail"] = self.detail
        record["public"] = self.public.to_record()
        return record

    @classmethod
    def from_record(cls, record: Mapping) -> Grade:
        verdict = record["verdict"]
        return cls(
            problem_id=record["problem_id"],
            round=record["round"],
            index=record["index"],
            code_sha=record["code_sha"],
            verdict=None if verdict == NO_CODE else Verdict(verdict),
            passed=record["passed"],
            total=record["total"],
            public=PublicRun.from_record(record["public"]),
            failed_test=record.get("failed_test"),
            detail=record.get("detail"),
        )

    @classmethod
    def no_code(cls, candidate: Candidate, code_sha: str, tests: int) -> Grade:
        return cls(candidate.problem_id, candidate.round, candidate.index, code_sha, None, 0, tests)

    @classmethod
    def of(cls, candidate: Candidate, code_sha: str, full: ProgramResult, public: ProgramResult | None, with_details: bool) -> Grade:
        """The grade of a candidate from its two sandbox results: all tests stopping at the
        first failure (correctness), and the public tests in full (behaviour, feedback)."""
        failed = next((t for t in full.tests if t.verdict is not Verdict.PASSED), None)
        verdict = full.verdict
        if public is not None and public.verdict is Verdict.INFRA_ERROR:
            verdict = Verdict.INFRA_ERROR  # behaviour unknown: graded again on resume
        return cls(
            problem_id=candidate.problem_id,
            round=candidate.round,
            index=candidate.index,
            code_sha=code_sha,
            verdict=verdict,
            passed=full.passed,
            total=full.total,
            public=PublicRun.of(public, with_details) if public is not None else PublicRun(),
            failed_test=None
            if failed is None
            else {"index": failed.index, "verdict": failed.verdict.value, "detail": failed.detail[:DETAIL_CHARS]},
            detail=full.detail[:DETAIL_CHARS] if failed is None and full.detail else None,
        )

    def moved_to(self, candidate: Candidate) -> Grade:
        """This grade for another candidate holding the same program."""
        return Grade(
            candidate.problem_id,
            candidate.round,
            candidate.index,
            self.code_sha,
            self.verdict,
            self.passed,
            self.total,
            self.public,
            self.failed_test,
            self.detail,
        )


Grades = Mapping[CandidateKey, Grade]


def latest(grades: Iterable[Grade]) -> dict[CandidateKey, Grade]:
    """Each candidate's last grade line wins (a re-grade after an infra error)."""
    return {g.key: g for g in grades}


def grade_of(grades: Grades, candidate: Candidate | None) -> Grade | None:
    return None if candidate is None else grades.get(candidate.key)


def is_correct(grades: Grades, candidate: Candidate | None) -> bool | None:
    """True or False once graded (an infra error is False); None when not graded (yet)."""
    grade = grade_of(grades, candidate)
    return None if grade is None else grade.correct


def settled_correct(grades: Grades, candidate: Candidate) -> bool | None:
    """True or False where the sandbox completed the grade; None when unknown (not graded,
    or an infra error): a training label must not guess."""
    grade = grades.get(candidate.key)
    return None if grade is None or grade.infra_error else grade.correct


def public_feedback(grades: Grades) -> Callable[[Candidate], str]:
    """For --feedback-in-prompt: a candidate's public-test results in one line, as the
    aggregator is shown them (and a dataset's prompt replays them)."""

    def summary(c: Candidate) -> str:
        g = grades.get(c.key)
        return "not run (no program)" if g is None or g.verdict is None else g.public.summary()

    return summary


def ungraded(candidates: Sequence[Candidate], grades: Grades) -> list[Candidate]:
    """Candidates without a settled grade: never graded, or an infra error (graded again)."""
    return [c for c in candidates if (g := grades.get(c.key)) is None or g.infra_error]
