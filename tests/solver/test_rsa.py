"""The RSA loop: subsets, batching, records, reproducibility, resume."""

import os
import re
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from problems import Problem
from runners.scripted import ScriptedRunner
from sandbox import Verdict
from solver.grades import Grade
from solver.rsa import RSAConfig, Solver
from solver.rundir import RunConfigMismatch, RunDir
from solver.selection import select_uniform
from solver.session import Session


def make_problems(count: int) -> list[Problem]:
    return [Problem(id=f"p{i}", statement=f"Problem number {i}: print {i}.", kind="stdin") for i in range(count)]


def program_for(request) -> str:
    """A response naming its seed, with a program: distinct per request, stable per seed."""
    return f"Reasoning for seed {request.sampling.seed}.\n```python\nprint({request.sampling.seed % 97})\n```"


class CountingRunner(ScriptedRunner):
    """Records every generate call, to check one call per round."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls: list[list] = []

    def generate(self, requests):
        self.calls.append(list(requests))
        return super().generate(requests)


def run(config: RSAConfig, problems: list[Problem]):
    runner = CountingRunner(program_for)
    return Solver(runner, config).run(problems), runner


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 9),
    data=st.data(),
    t=st.integers(0, 3),
    problems=st.integers(1, 4),
    seed=st.integers(0, 2**31),
)
def test_subsets_are_k_distinct_members_of_the_current_population(n, data, t, problems, seed):
    k = data.draw(st.integers(1, n))
    config = RSAConfig(n=n, k=k, t=t, seed=seed, max_tokens=64)
    runs, runner = run(config, make_problems(problems))

    assert len(runner.calls) == t + 1  # one runner call per round, all problems together
    assert all(len(call) == problems * n for call in runner.calls)
    for r in runs:
        assert len(r.rounds) == t + 1
        for round_index, population in enumerate(r.rounds):
            assert [c.index for c in population] == list(range(n))  # N children per problem
            for c in population:
                assert c.round == round_index and c.problem_id == r.problem.id
                if round_index == 0:
                    assert c.parents == ()
                else:
                    assert len(c.parents) == k and len(set(c.parents)) == k
                    assert all(0 <= p < n for p in c.parents)
    # The aggregation prompt shows exactly the parents drawn: the previous round's texts.
    for r in runs:
        for round_index in range(1, t + 1):
            for c in r.rounds[round_index]:
                request = next(q for q in runner.calls[round_index] if q.sampling.seed == c.seed)
                shown = re.findall(r"Reasoning for seed (\d+)", request.messages[1]["content"])
                assert [int(s) for s in shown] == [r.rounds[round_index - 1][p].seed for p in c.parents]

    again, _ = run(config, make_problems(problems))  # same seed, same run
    assert [[c for rnd in r.rounds for c in rnd] for r in runs] == [[c for rnd in r.rounds for c in rnd] for r in again]


def test_another_seed_draws_other_subsets():
    a, _ = run(RSAConfig(n=8, k=3, t=2, seed=1), make_problems(2))
    b, _ = run(RSAConfig(n=8, k=3, t=2, seed=2), make_problems(2))
    assert [c.parents for c in a[0].rounds[2]] != [c.parents for c in b[0].rounds[2]]


def test_a_problem_draws_the_same_subsets_whatever_else_is_in_the_run():
    """What makes shards merge into exactly the unsharded run."""
    config = RSAConfig(n=6, k=3, t=2, seed=7)
    alone, _ = run(config, [make_problems(5)[3]])
    together, _ = run(config, make_problems(5))
    assert alone[0].rounds == together[3].rounds


def test_candidates_record_everything():
    runs, _ = run(RSAConfig(n=3, k=2, t=1, seed=0, max_tokens=64), make_problems(1))
    c = runs[0].rounds[1][0]
    assert c.text.startswith("Reasoning for seed") and c.code == f"print({c.seed % 97})"
    assert c.prompt_tokens > 0 and c.completion_tokens > 0 and c.finish_reason == "stop"
    assert len(c.parents) == 2


def test_refine_rewrites_each_chain_and_sample_never_aggregates():
    refine, runner = run(RSAConfig(method="refine", n=4, k=1, t=2), make_problems(1))
    assert [c.parents for c in refine[0].rounds[2]] == [(0,), (1,), (2,), (3,)]
    sample, runner = run(RSAConfig(method="sample", n=4, k=1, t=2), make_problems(1))
    assert all(c.parents == () for rnd in sample[0].rounds for c in rnd)
    assert all("Candidate solutions" not in q.messages[1]["content"] for call in runner.calls for q in call)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"n": 2, "k": 3}, "cannot exceed n"),
        ({"n": 0}, "greater than or equal to 1"),
        ({"method": "refine", "k": 2}, "k = 1"),
        ({"t": -1}, "greater than or equal to 0"),
    ],
)
def test_bad_configs_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        RSAConfig(**options)


def test_prompts_that_cannot_fit_are_not_sent():
    runner = CountingRunner(program_for, context_window=300)
    problems = [Problem(id="long", statement="word " * 2000, kind="stdin"), *make_problems(1)]
    runs = Solver(runner, RSAConfig(n=2, k=2, t=1, max_tokens=100)).run(problems)
    assert all(c.finish_reason == "prompt_too_long" and c.text == "" for rnd in runs[0].rounds for c in rnd)
    assert all(len(call) == 2 for call in runner.calls)  # only the short problem's prompts went out


def test_uniform_selection_is_seeded():
    runs, _ = run(RSAConfig(n=8, k=2, t=1, seed=3), make_problems(1))
    picks = {select_uniform(runs[0].population, 3, 1).index for _ in range(5)}
    assert len(picks) == 1
    spread = {select_uniform(runs[0].population, s, 1).index for s in range(40)}
    assert len(spread) > 3


def test_a_resumed_session_continues_exactly_like_an_uninterrupted_one(tmp_path):
    config = RSAConfig(n=5, k=3, t=3, seed=11)
    problems = make_problems(3)
    straight, _ = run(config, problems)

    rundir = RunDir(tmp_path / "run")
    rundir.open({"rsa": config.model_dump()})
    first = Session(Solver(ScriptedRunner(program_for), config), problems, rundir)
    first.next_round()
    first.next_round()  # stopped here, as if killed after round 1 was saved

    resumed = Session(Solver(ScriptedRunner(program_for), config), problems, rundir)
    assert resumed.rounds_done == 2
    while not resumed.finished:
        resumed.next_round()
    assert [r.rounds for r in resumed.runs] == [r.rounds for r in straight]
    assert [c for r in RunDir(tmp_path / "run").rounds() for c in r.candidates] == [
        c for rnd in range(4) for r in straight for c in r.rounds[rnd]
    ]


def test_a_run_directory_refuses_another_config(tmp_path):
    rundir = RunDir(tmp_path)
    assert rundir.open({"rsa": {"n": 4}, "workers": 2}, resume_neutral=("workers",)) is False
    assert rundir.open({"rsa": {"n": 4}, "workers": 8}, resume_neutral=("workers",)) is True
    with pytest.raises(RunConfigMismatch, match="rsa"):
        rundir.open({"rsa": {"n": 5}, "workers": 2}, resume_neutral=("workers",))


def test_a_torn_grade_line_is_cut_off(tmp_path):
    config = RSAConfig(n=2, k=1, t=0)
    rundir = RunDir(tmp_path)
    rundir.open({"rsa": config.model_dump()})
    session = Session(Solver(ScriptedRunner(program_for), config), make_problems(1), rundir)
    session.next_round()
    passed = Grade("p0", 0, 0, "", Verdict.PASSED, 1, 1)
    rundir.append_grades(0, [passed])
    with open(rundir.round_path(0), "a") as f:
        f.write('{"type": "grade", "problem_id": "p0", "ind')  # killed mid-write
    saved = rundir.rounds(repair=True)[0]
    assert saved.grades == [passed]
    rundir.append_grades(0, [Grade("p0", 0, 1, "", Verdict.PASSED, 1, 1)])
    assert [g.index for g in rundir.rounds()[0].grades] == [0, 1]


def test_a_run_directory_is_held_until_released(tmp_path):
    rundir = RunDir(tmp_path / "run")
    rundir.open({"rsa": {"n": 4}})
    other = [
        sys.executable,
        "-c",
        "import sys; from solver.rundir import RunDir; RunDir(sys.argv[1]).open({'rsa': {'n': 4}})",
        str(rundir.path),
    ]
    refused = subprocess.run(other, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and f"pid {os.getpid()}" in refused.stderr and "RunDirInUse" in refused.stderr
    rundir.release()
    assert subprocess.run(other, capture_output=True, text=True, timeout=60).returncode == 0
