"""Metrics that compare: every figure over a stated set of problems, infra errors never a
pass, rejection over the same problems as every other method (fake sandbox)."""

import dataclasses
import subprocess
import sys

import pytest

from runners.scripted import ScriptedRunner
from sandbox import ProgramResult, Verdict
from solver.evaluate import evaluate
from solver.metrics import pass_at_k
from solver.report import REFINE_NOTE, markdown, summarize
from solver.rsa import RSAConfig
from solver.rundir import RunDir
from solver.runs import EvalConfig, RunData, load_run, run_config
from solver.selection import current_population, histories
from tests.solver.fakes import FakeSandbox, value_problems, value_program


def run_eval(tmp_path, config, problems, sandbox=None):
    rundir = RunDir(tmp_path / "run")
    rundir.open(run_config(config, problems, runner={"kind": "scripted"}, limits={}))
    evaluate(problems, ScriptedRunner(value_program), sandbox or FakeSandbox(), config, rundir)
    return rundir


def expected_output(pid: str) -> str:
    return f"print({int(pid[1:]) % 3})"


def test_pass_at_k_is_over_the_problems_with_enough_graded_candidates(tmp_path):
    problems = value_problems(6)
    rundir = run_eval(tmp_path, EvalConfig(rsa=RSAConfig(n=4, k=2, t=0, seed=4)), problems)
    run = load_run(rundir.path)
    # Two candidates of q0 lose their grades (a grading not finished yet): q0 has 2 < k=3 graded.
    saved = run.rounds[0]
    dropped = {g.key for g in saved.grades if g.problem_id == "q0" and g.index < 2}
    rounds = [dataclasses.replace(saved, grades=[g for g in saved.grades if g.key not in dropped])]
    partial = RunData(run.name, run.config, run.meta, rounds)
    row = summarize(partial, ks=(1, 3))["metrics"]["overall"][0]
    assert row["pass@k_problems"]["3"] == 5 and row["ungraded"] == 2
    by_problem = {p.id: sum(c.code == expected_output(p.id) for c in saved.candidates if c.problem_id == p.id) for p in problems}
    assert row["pass@3"] == pytest.approx(sum(pass_at_k(4, by_problem[p], 3) for p in by_problem if p != "q0") / 5)
    text = markdown(summarize(partial, ks=(1, 3)))
    assert "pass@3 over 5 of 6 problems" in text and "2 candidates not graded yet" in text


def test_the_public_pass_rate_counts_an_infra_error_in_neither_part_of_the_fraction(tmp_path):
    class FullJobFails(FakeSandbox):
        """The full grading of every right program hits an infra error; its public run does not."""

        def run(self, jobs):
            results = super().run(jobs)
            return [
                ProgramResult(Verdict.INFRA_ERROR, (), r.total, "engine went away")
                if job.mode == "first_failure" and r.verdict is Verdict.PASSED
                else r
                for job, r in zip(jobs, results, strict=True)
            ]

    rundir = run_eval(tmp_path, EvalConfig(rsa=RSAConfig(n=3, k=2, t=0, seed=2)), value_problems(3), FullJobFails())
    grades = rundir.rounds()[0].grades
    assert any(g.infra_error and g.public.all_passed for g in grades), "some right program's public run passed"
    row = summarize(load_run(rundir.path))["metrics"]["overall"][0]
    assert row["public"] == 0.0  # the only public passes belong to grades the sandbox did not complete
    assert row["pass@1"] == 0.0 and row["infra_errors"] == sum(g.infra_error for g in grades)


def test_rejection_is_scored_over_every_problem_in_every_round(tmp_path):
    problems = value_problems(4)
    config = EvalConfig(rsa=RSAConfig(method="rejection", n=2, k=1, t=3, seed=1))
    rundir = run_eval(tmp_path, config, problems)
    run = load_run(rundir.path)
    assert any(not [c for c in r.candidates if c.problem_id == p.id] for r in run.rounds[1:] for p in problems), (
        "some problem was solved and no longer sampled"
    )
    summary = summarize(run)
    by_problem = histories([r.candidates for r in run.rounds], [p.id for p in problems])
    for t, row in enumerate(summary["metrics"]["overall"]):
        assert row["problems"] == 4  # solved problems stay, with their last population
        populations = {pid: current_population(history[: t + 1]) for pid, history in by_problem.items()}
        share = [sum(c.code == expected_output(pid) for c in pop) / len(pop) for pid, pop in populations.items()]
        assert row["pass@1"] == pytest.approx(sum(share) / 4)
        assert row["pass@N"] == pytest.approx(sum(s > 0 for s in share) / 4)
        assert row["rejection"] is not None and row["random"] is not None


def test_refine_is_said_not_to_be_the_papers_k_1(tmp_path):
    rundir = run_eval(tmp_path, EvalConfig(rsa=RSAConfig(method="refine", n=2, k=1, t=1)), value_problems(2))
    assert REFINE_NOTE in markdown(summarize(load_run(rundir.path)))
    help_text = subprocess.run(
        [sys.executable, "-m", "solver.cli", "eval", "--help"], capture_output=True, text=True, env={"COLUMNS": "400", "PATH": ""}
    ).stdout
    assert "not the paper's K=1, which is --method rsa -k 1" in " ".join(help_text.split())
