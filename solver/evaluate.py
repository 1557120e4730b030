"""`rsa-code eval`: generate round by round, grade every candidate, never feed grades back
(unless a method that uses a verifier is asked for, and then the report says so).

Grading of round t runs in a background thread while round t+1 is generated, so the model
does not wait for the sandbox. Each candidate gets two sandbox jobs: all tests (public,
then hidden) stopping at the first failure, which decides correctness; and the public
tests run in full, whose outputs (never their expected values) group programs by
behaviour for majority selection and, with --feedback, are recorded per test.
"""

from __future__ import annotations

import hashlib
import json
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from problems import Problem, ProblemFilter, UsageError, load_problems
from prompts import Templates
from runners.base import Runner
from runners.config import RunnerConfig
from runners.ray_pool import RayConfig, runner_for
from sandbox import Job, Sandbox, Semantics, job_for
from solver.grades import Grade, Grades, public_feedback, ungraded
from solver.grading import SandboxConfig
from solver.rsa import Candidate, CandidateKey, ProblemRun, RoundStats, Solver
from solver.rundir import Round, RunDir, affects_results, write_atomic
from solver.runs import PROBLEMS, RESUME_NEUTRAL, EvalConfig, grades_by_candidate, problem_meta, run_config
from solver.session import Session

GRADE_CHUNK = 256  # candidates graded (and their lines appended) per sandbox call


def code_digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()[:16]


class Grader:
    """Grades rounds in a background thread, one round after another, appending grade lines
    to the round's file as chunks finish. Identical programs of a problem are run once."""

    def __init__(
        self,
        sandbox: Sandbox,
        problems: Sequence[Problem],
        rundir: RunDir,
        feedback: bool,
        saved: Sequence[Round] = (),
        on_graded: Callable[[GradedRound], None] = lambda g: None,
        semantics: Semantics = "lcb",
    ):
        self.sandbox = sandbox
        self.on_graded = on_graded
        self.problems = {p.id: p for p in problems}
        self.rundir = rundir
        self.feedback = feedback
        self.semantics = semantics
        self._queue: queue.Queue = queue.Queue()
        self._done: dict[int, threading.Event] = {}
        self._error: BaseException | None = None
        self.grades: dict[CandidateKey, Grade] = grades_by_candidate(saved)  # read by the main thread only after wait()
        # (problem, code digest) -> a settled grade: identical programs run once
        self._known = {(g.problem_id, g.code_sha): g for g in self.grades.values() if not g.infra_error}
        self._thread = threading.Thread(target=self._work, name="grader", daemon=True)
        self._thread.start()

    def submit(self, round_index: int, candidates: Sequence[Candidate]) -> None:
        self._done[round_index] = threading.Event()
        self._queue.put((round_index, list(candidates)))

    def wait(self, round_index: int | None = None) -> None:
        """Block until `round_index` (or everything submitted) is graded."""
        events = [self._done[round_index]] if round_index is not None else list(self._done.values())
        for event in events:
            while not event.wait(0.2):
                self._raise_if_failed()
        self._raise_if_failed()

    def _raise_if_failed(self) -> None:
        if isinstance(self._error, UsageError):  # e.g. SandboxUnavailable (every grading actor lost): its one line
            raise self._error
        if self._error is not None:
            raise RuntimeError(f"grading failed: {self._error}") from self._error

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            round_index, candidates = item
            started = time.perf_counter()
            grades: list[Grade] = []
            try:
                for start in range(0, len(candidates), GRADE_CHUNK):
                    chunk = self._grade(candidates[start : start + GRADE_CHUNK])
                    self.rundir.append_grades(round_index, chunk)
                    grades.extend(chunk)
                    self.grades.update((g.key, g) for g in chunk)
                self.on_graded(GradedRound(round_index, grades, time.perf_counter() - started))
            except BaseException as e:  # surfaced to the main thread by wait()
                self._error = e
            self._done[round_index].set()

    def _job(self, problem: Problem, code: str, tests, mode: str) -> Job:
        return job_for(problem, code, tests, mode, semantics=self.semantics)

    def _grade(self, candidates: Sequence[Candidate]) -> list[Grade]:
        jobs: list[Job] = []
        slots: dict[tuple[str, str], tuple[Candidate, int]] = {}
        for c in candidates:
            key = (c.problem_id, code_digest(c.code))
            if not c.code or key in slots or key in self._known:
                continue
            problem = self.problems[c.problem_id]
            slots[key] = (c, len(jobs))
            jobs.append(self._job(problem, c.code, None, "first_failure"))
            if problem.public_tests:
                jobs.append(self._job(problem, c.code, problem.public_tests, "all"))
        results = self.sandbox.run(jobs) if jobs else []
        fresh: dict[tuple[str, str], Grade] = {}
        for key, (c, slot) in slots.items():
            public = results[slot + 1] if self.problems[key[0]].public_tests else None
            fresh[key] = grade = Grade.of(c, key[1], results[slot], public, self.feedback)
            if not grade.infra_error:
                self._known[key] = grade
        grades = []
        for c in candidates:
            key = (c.problem_id, code_digest(c.code))
            if not c.code:
                grades.append(Grade.no_code(c, key[1], len(self.problems[c.problem_id].all_tests)))
            else:
                grades.append((fresh[key] if key in fresh else self._known[key]).moved_to(c))
        return grades


@dataclass(frozen=True, slots=True)
class GradedRound:
    round: int
    grades: list[Grade]
    seconds: float

    @property
    def passed(self) -> int:
        return sum(g.correct for g in self.grades)

    @property
    def infra_errors(self) -> int:
        return sum(g.infra_error for g in self.grades)


def missing_grades(rounds: Sequence[Round]) -> dict[int, list[Candidate]]:
    """Candidates of saved rounds without a settled grade (never graded, or an infra error)."""
    grades = grades_by_candidate(rounds)
    return {saved.index: todo for saved in rounds if (todo := ungraded(saved.candidates, grades))}


def evaluate(
    problems: Sequence[Problem],
    runner: Runner,
    sandbox: Sandbox,
    config: EvalConfig,
    rundir: RunDir,
    on_generated: Callable[[RoundStats], None] = lambda s: None,
    on_graded: Callable[[GradedRound], None] = lambda g: None,
    semantics: Semantics = "lcb",
    templates: Templates | None = None,
) -> None:
    """Generate and grade every round of `config` into `rundir` (opened with run_config),
    resuming what is there. `semantics`: the sandbox's grading semantics (lcb or judge);
    `templates`: the prompt templates (None: the defaults)."""
    if not (rundir.path / PROBLEMS).exists():
        write_atomic(rundir.path / PROBLEMS, json.dumps(problem_meta(problems), indent=1) + "\n")
    saved = rundir.rounds(repair=True)  # read once: the session, the grader and what is left to grade
    session = Session(Solver(runner, config.rsa, templates), problems, rundir, saved)
    grader = Grader(sandbox, problems, rundir, config.feedback, saved, on_graded, semantics)
    try:
        for round_index, todo in sorted(missing_grades(saved).items()):
            grader.submit(round_index, todo)
        while not session.finished:
            feedback = active = None
            if config.uses_verifier and session.rounds_done:
                grader.wait()
                if config.feedback_in_prompt:
                    feedback = public_feedback(grader.grades)
                if config.rsa.method == "rejection":
                    active = _unsolved_on_public_tests(grader.grades)
            stats = session.next_round(feedback=feedback, active=active)
            on_generated(stats)
            grader.submit(stats.round, [c for run in session.runs for c in run.population])
        grader.wait()
    finally:
        grader.close()


def _unsolved_on_public_tests(grades: Grades) -> Callable[[ProblemRun], bool]:
    """Rejection sampling: a problem stays active until some candidate passes its public tests."""
    solved = {g.problem_id for g in grades.values() if g.passes_public}
    return lambda run: run.problem.id not in solved


@dataclass(frozen=True)
class EvalJob:
    """An evaluation as a user asks for it: the problems' files, where the run goes, the
    method, the model and the sandbox. `run_evaluation` does the rest."""

    data: tuple[str, ...]
    out: Path
    config: EvalConfig
    runner: RunnerConfig
    sandbox: SandboxConfig
    filters: ProblemFilter = ProblemFilter()
    shard: tuple[int, int] | None = None  # (i, n): every n-th problem from the i-th
    templates: Templates | None = None  # the prompt templates (None: the defaults)
    ray: RayConfig | None = None  # generate and grade on this Ray cluster (None: on this machine)


def prepare(job: EvalJob) -> tuple[list[Problem], RunDir, bool]:
    """Load and check the problems, open (or resume) the run directory: (problems, rundir, resumed)."""
    problems = job_problems(job)
    rundir, resumed = open_run(job, problems)
    return problems, rundir, resumed


def job_problems(job: EvalJob) -> list[Problem]:
    """The problems `job` evaluates, loaded and checked (its shard of them)."""
    problems = load_problems(list(job.data), job.filters)
    untested = [p.id for p in problems if not p.all_tests]
    if untested:
        raise UsageError(f"{len(untested)} problems have no tests to grade with (e.g. {untested[0]})")
    if job.shard:
        problems = problems[job.shard[0] :: job.shard[1]]
    if not problems:
        raise UsageError("no problems to evaluate: the filters left none")
    return problems


def run_record(job: EvalJob, problems: Sequence[Problem]) -> dict:
    """What `job`'s config.json holds (solver/runs.py run_config)."""
    return run_config(
        job.config,
        problems,
        runner=affects_results(job.runner),
        limits=job.sandbox.results_record()["limits"],
        shard=None if job.shard is None else f"{job.shard[0]}/{job.shard[1]}",
        runtime={"data": list(job.data), **job.sandbox.runtime_record(), "runner": job.runner.model_dump()},
        semantics=job.sandbox.semantics,
        templates=job.templates,
    )


def open_run(job: EvalJob, problems: Sequence[Problem]) -> tuple[RunDir, bool]:
    """Open (or resume) `job`'s run directory for `problems`: (rundir, resumed)."""
    rundir = RunDir(job.out)
    resumed = rundir.open(run_record(job, problems), resume_neutral=RESUME_NEUTRAL)
    return rundir, resumed


def run_evaluation(
    job: EvalJob,
    on_generated: Callable[[RoundStats], None] = lambda s: None,
    on_graded: Callable[[GradedRound], None] = lambda g: None,
    prepared: tuple[list[Problem], RunDir, bool] | None = None,
    sandbox: Sandbox | None = None,
) -> RunDir:
    """Evaluate `job` to the end (resuming what its run directory holds); the run directory.
    `prepared`: what prepare(job) returned, when the caller called it; `sandbox`: an open
    sandbox of the caller's (which the caller closes), else one made from job.sandbox."""
    problems, rundir, _ = prepared or prepare(job)
    own = sandbox is None
    try:
        box = job.sandbox.open(job.ray) if sandbox is None else sandbox
        try:
            backend = runner_for(job.runner, job.ray)
            try:
                evaluate(problems, backend, box, job.config, rundir, on_generated, on_graded, job.sandbox.semantics, job.templates)
            finally:
                backend.close()
        finally:
            if own:
                box.close()
    finally:
        rundir.release()
    return rundir
