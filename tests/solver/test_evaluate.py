"""The evaluator's logic, with the scripted runner and a fake sandbox (the real sandbox
and the real model are exercised end to end in tests/test_end_to_end.py)."""

import json
import math
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runners.scripted import ScriptedRunner
from sandbox import ProgramResult, Verdict
from sandbox import Verdict as V
from solver.evaluate import evaluate
from solver.grades import Grade, PublicRun
from solver.metrics import pass_at_k
from solver.report import summarize, write_report
from solver.rsa import Candidate, RSAConfig
from solver.rundir import RunDir
from solver.runs import EvalConfig, load_run, run_config
from solver.selection import select_majority, select_uniform
from tests.solver.fakes import FakeSandbox, value_problems, value_program


def run_eval(tmp_path, config: EvalConfig, problems, runner=None, sandbox=None, name="run"):
    rundir = RunDir(tmp_path / name)
    rundir.open(run_config(config, problems, runner={"kind": "scripted"}, limits={}))
    evaluate(problems, runner or ScriptedRunner(value_program), sandbox or FakeSandbox(), config, rundir)
    return rundir


def test_metrics_match_a_count_by_hand(tmp_path):
    problems = value_problems(6)
    config = EvalConfig(rsa=RSAConfig(n=6, k=3, t=2, seed=5))
    rundir = run_eval(tmp_path, config, problems)
    summary = summarize(load_run(rundir.path), ks=(1, 2, 6))
    expected_output = {p.id: p.public_tests[0].output for p in problems}
    for saved in rundir.rounds():
        correct = {p.id: 0 for p in problems}
        for c in saved.candidates:
            correct[c.problem_id] += c.code == f"print({expected_output[c.problem_id]})"
        row = summary["metrics"]["overall"][saved.index]
        assert row["pass@1"] == pytest.approx(sum(v / 6 for v in correct.values()) / 6)
        assert row["pass@N"] == pytest.approx(sum(v > 0 for v in correct.values()) / 6)
        assert row["pass@6"] == row["pass@N"]
        assert row["pass@2"] == pytest.approx(sum(1 - math.comb(6 - v, 2) / math.comb(6, 2) for v in correct.values()) / 6)
        picks = [select_uniform([c for c in saved.candidates if c.problem_id == p.id], 5, saved.index) for p in problems]
        assert row["random"] == pytest.approx(sum(c.code == f"print({expected_output[c.problem_id]})" for c in picks) / 6)
        assert row["infra_errors"] == 0
    by_difficulty = summary["metrics"]["by_difficulty"]
    assert set(by_difficulty) == {"easy", "medium", "hard"}
    assert all(e["problems"] == 2 for rows in by_difficulty.values() for e in rows)


def test_grading_of_a_round_overlaps_generation_of_the_next(tmp_path):
    gate = threading.Event()

    class GateOpeningRunner(ScriptedRunner):
        """Opens the sandbox's gate when round 1 is asked for: if grading of round 0 had to
        finish before round 1 was generated, the gate would never open."""

        calls = 0

        def generate(self, requests):
            GateOpeningRunner.calls += 1
            if GateOpeningRunner.calls == 2:
                gate.set()
            return super().generate(requests)

    rundir = run_eval(
        tmp_path,
        EvalConfig(rsa=RSAConfig(n=2, k=2, t=1)),
        value_problems(2),
        runner=GateOpeningRunner(value_program),
        sandbox=FakeSandbox(gate),
    )
    assert all(len(r.grades) == 4 for r in rundir.rounds())


class InterruptingRunner(ScriptedRunner):
    def __init__(self, *args, interrupt_at: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = 0
        self.interrupt_at = interrupt_at

    def generate(self, requests):
        self.calls += 1
        if self.calls == self.interrupt_at:
            raise KeyboardInterrupt
        return super().generate(requests)


def records(rundir: RunDir) -> list:
    return [(r.index, r.candidates, sorted(r.grades, key=lambda g: g.key)) for r in rundir.rounds()]


@pytest.mark.parametrize("interrupt_at", [1, 2, 4])
def test_an_interrupted_run_resumes_to_the_same_results(tmp_path, interrupt_at):
    problems = value_problems(5)
    config = EvalConfig(rsa=RSAConfig(n=4, k=2, t=3, seed=9))
    straight = run_eval(tmp_path, config, problems, name="straight")

    broken = RunDir(tmp_path / "broken")
    broken.open(run_config(config, problems, runner={"kind": "scripted"}, limits={}))
    with pytest.raises(KeyboardInterrupt):
        evaluate(problems, InterruptingRunner(value_program, interrupt_at=interrupt_at), FakeSandbox(), config, broken)
    sandbox = FakeSandbox()
    evaluate(problems, ScriptedRunner(value_program), sandbox, config, broken)
    assert records(broken) == records(straight)
    # Nothing generated or graded twice: only the rounds that were missing were made.
    assert sum(len(r.grades) for r in broken.rounds()) == sum(len(r.grades) for r in straight.rounds())


def test_infrastructure_errors_never_raise_a_score_and_are_graded_again(tmp_path):
    class FlakySandbox(FakeSandbox):
        """The sandbox fails on exactly the wrong programs: left out of the denominators,
        they would leave only right ones and report a perfect score."""

        def run(self, jobs):
            return [
                ProgramResult(Verdict.INFRA_ERROR, (), r.total, "engine went away") if r.verdict is Verdict.WRONG_ANSWER else r
                for r in super().run(jobs)
            ]

    problems = value_problems(3)
    config = EvalConfig(rsa=RSAConfig(n=3, k=2, t=0, seed=2))
    rundir = run_eval(tmp_path, config, problems, sandbox=FlakySandbox())
    grades = list(rundir.rounds()[0].grades)
    correct = {p.id: sum(g.correct for g in grades if g.problem_id == p.id) for p in problems}
    infra = sum(g.infra_error for g in grades)
    assert infra > 0 and sum(correct.values()) > 0, "the seed gives both right and wrong programs"
    row = summarize(load_run(rundir.path))["metrics"]["overall"][0]
    assert row["infra_errors"] == infra and row["candidates"] == 9  # counted, as failures
    assert row["pass@1"] == pytest.approx(sum(v / 3 for v in correct.values()) / 3)
    assert row["pass@1"] < 1.0
    assert "run the same command again to grade it again" in write_report([rundir.path], None, ks=(1,))[0]

    evaluate(problems, ScriptedRunner(value_program), FakeSandbox(), config, rundir)  # resume grades them again
    row = summarize(load_run(rundir.path))["metrics"]["overall"][0]
    assert row["infra_errors"] == 0 and row["candidates"] == 9


def test_rejection_stops_sampling_a_problem_once_its_public_tests_pass(tmp_path):
    config = EvalConfig(rsa=RSAConfig(method="rejection", n=2, k=1, t=4, seed=1))
    rundir = run_eval(tmp_path, config, value_problems(4))
    solved_at = {}
    for saved in rundir.rounds():
        for g in saved.grades:
            if g.correct:
                solved_at.setdefault(g.problem_id, saved.index)
    for saved in rundir.rounds():
        for pid, t in solved_at.items():
            if saved.index > t:
                assert not [c for c in saved.candidates if c.problem_id == pid]
    summary = summarize(load_run(rundir.path))
    assert summary["verifier_free"] is False and "rejection" in summary["metrics"]["overall"][-1]


def test_feedback_in_prompt_shows_public_results_and_is_reported_as_such(tmp_path):
    seen = []

    def recording(request):
        seen.append(request.messages[1]["content"])
        return value_program(request)

    config = EvalConfig(rsa=RSAConfig(n=2, k=2, t=1), feedback_in_prompt=True)
    rundir = run_eval(tmp_path, config, value_problems(2), runner=ScriptedRunner(recording))
    aggregation_prompts = [s for s in seen if "Candidate solutions" in s]
    assert aggregation_prompts and all("Public test results for this candidate: passed" in s for s in aggregation_prompts)
    summary = summarize(load_run(rundir.path))
    assert summary["method"] == "rsa+public-feedback-in-prompt" and summary["verifier_free"] is False


def test_majority_picks_from_the_largest_group_by_behaviour():
    def cand(i):
        return Candidate("p", 0, i, (), i, "", f"print({i})", 1, 1, "stop")

    pool = [cand(i) for i in range(5)]
    keys = {0: ["a", "b"], 1: ["a", "c"], 2: ["a", "c"], 3: ["runtime_error", "runtime_error"], 4: ["runtime_error", "runtime_error"]}
    verdicts = {i: V.RUNTIME_ERROR if i >= 3 else V.WRONG_ANSWER for i in range(5)}
    grades = {c.key: Grade("p", 0, c.index, "", verdicts[c.index], 0, 2, PublicRun(tuple(keys[c.index]))) for c in pool}
    for seed in range(10):
        assert select_majority(pool, grades, seed, 0).index in (1, 2)  # crashes do not vote


@given(n=st.integers(1, 40), data=st.data())
def test_pass_at_k_is_the_combinatorial_estimator(n, data):
    c = data.draw(st.integers(0, n))
    k = data.draw(st.integers(1, n))
    assert pass_at_k(n, c, k) == pytest.approx(1 - math.comb(n - c, k) / math.comb(n, k))


def test_report_files(tmp_path):
    rundir = run_eval(tmp_path, EvalConfig(rsa=RSAConfig(n=3, k=2, t=2)), value_problems(3))
    text, where = write_report([rundir.path], None, ks=(1, 2))
    assert "| round | pass@1 | pass@N | pass@2 |" in text
    assert (where / "curve.png").read_bytes()[:4] == b"\x89PNG"
    summary = json.loads((where / "summary.json").read_text())
    assert len(summary["metrics"]["overall"]) == 3


def test_the_grading_semantics_reach_every_sandbox_job_and_the_run_config(tmp_path):
    class Recording(FakeSandbox):
        seen: set = set()

        def run(self, jobs):
            self.seen |= {job.semantics for job in jobs}
            return super().run(jobs)

    config = EvalConfig(rsa=RSAConfig(n=2, k=2, t=1))
    problems = value_problems(2)
    rundir = RunDir(tmp_path / "run")
    rundir.open(run_config(config, problems, runner={"kind": "scripted"}, limits={}, semantics="judge"))
    sandbox = Recording()
    evaluate(problems, ScriptedRunner(value_program), sandbox, config, rundir, semantics="judge")
    assert sandbox.seen == {"judge"}
    assert rundir.config()["semantics"] == "judge"
    assert summarize(load_run(rundir.path))["semantics"] == "judge"
