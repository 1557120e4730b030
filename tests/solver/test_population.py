"""Population statistics, lineage and compute per problem on a hand-made run: every figure
below is worked out by hand from the run built here."""

import pytest

from sandbox import Verdict
from solver.grades import Grade, PublicRun
from solver.metrics import cost_table, round_costs
from solver.population import normalised_program, population_table, quantiles, round_points
from solver.rsa import Candidate, RSAConfig
from solver.rundir import Round
from solver.runs import EvalConfig, RunData, problem_meta, run_config
from tests.solver.fakes import value_problems

OK, WRONG = Verdict.PASSED, Verdict.WRONG_ANSWER


def cand(pid, t, i, code, parents=(), prompt=100, completion=10):
    return Candidate(pid, t, i, tuple(parents), 0, f"```python\n{code}\n```", code, prompt, completion, "stop")


def grade(c, verdict, key):
    public = PublicRun((key,), (OK if verdict is OK else WRONG,)) if verdict is not None else PublicRun()
    return Grade(c.problem_id, c.round, c.index, "sha", verdict, 1 if verdict is OK else 0, 3, public)


def header(t, **verify):
    return {"stats": {"round": t, "completions": 6, "prompt_tokens": 0, "completion_tokens": 0, "seconds": 1.0, **verify}, "model": "m"}


def hand_made_run(method="rsa", verify=True) -> RunData:
    problems = value_problems(2)  # q0, q1
    config = run_config(EvalConfig(rsa=RSAConfig(method=method, n=3, k=2, t=1)), problems, runner={"kind": "fake"}, limits={})
    # Round 0. q0: two correct copies of one program (a comment apart), one wrong program.
    # q1: one program twice (a docstring apart), both wrong, and a response without a program.
    r0 = [
        cand("q0", 0, 0, "x = 1\nprint(x)", completion=10),
        cand("q0", 0, 1, "x = 1  # one\nprint(x)", completion=20),
        cand("q0", 0, 2, "print(2)", completion=30),
        cand("q1", 0, 0, 'def f():\n    """Doc."""\n    return 1\nprint(f())', completion=40),
        cand("q1", 0, 1, "def f():\n    return 1\nprint(f())", completion=50),
        cand("q1", 0, 2, "", completion=60),
    ]
    g0 = [grade(r0[0], OK, "a"), grade(r0[1], OK, "a"), grade(r0[2], WRONG, "b")]
    g0 += [grade(r0[3], WRONG, "c"), grade(r0[4], WRONG, "c"), grade(r0[5], None, "")]
    # Round 1: parents index round 0's population of the same problem.
    r1 = [
        cand("q0", 1, 0, "print(1)", (0, 1), prompt=250, completion=5),  # correct parents, correct: kept
        cand("q0", 1, 1, "print(3)", (0, 2), prompt=250, completion=5),  # a correct parent, wrong: lost
        cand("q0", 1, 2, "print( 1 )", (2, 1), prompt=250, completion=5),  # a correct parent, correct: kept
        cand("q1", 1, 0, "print(7)", (0, 1), prompt=250, completion=5),  # no correct parent, correct: bootstrapped
        cand("q1", 1, 1, "print(8)", (1, 2), prompt=250, completion=5),  # no correct parent, wrong
        cand("q1", 1, 2, "print(9)", (0, 2), prompt=250, completion=5),  # not graded yet: unknown
    ]
    g1 = [grade(r1[0], OK, "a"), grade(r1[1], WRONG, "b"), grade(r1[2], OK, "a"), grade(r1[3], OK, "d"), grade(r1[4], WRONG, "e")]
    if method != "rsa":
        r1 = [cand(c.problem_id, 1, c.index, c.code, (), 250, 5) for c in r1]
    extra = {"verify_requests": 6, "verify_prompt_tokens": 900, "verify_completion_tokens": 60} if verify else {}
    rounds = [Round(0, header(0), r0, g0), Round(1, header(1, **extra), r1, g1)]
    return RunData("hand", config, problem_meta(problems), rounds)


def test_normalised_programs_ignore_comments_docstrings_and_layout_but_not_names():
    assert normalised_program("x = 1  # one\nprint(x)") == normalised_program("x = 1\n\nprint( x )")
    assert normalised_program('def f():\n    """Doc."""\n    return 1') == normalised_program("def f():\n  return 1")
    assert normalised_program("print('a')") == normalised_program('print("a")')
    assert normalised_program("y = 1\nprint(y)") != normalised_program("x = 1\nprint(x)")
    # A program that does not parse: whitespace runs collapsed.
    assert normalised_program("def f(:\n    pass") == normalised_program("def  f(:\n pass")
    assert normalised_program("def f(:\n    pass") != normalised_program("def f(: pass;")


def test_population_statistics_by_round():
    table = population_table(hand_made_run())
    first, second = table
    # Round 0: q0 has 2 distinct programs of 3, q1 1 of 2 programs (3 candidates, one with no program).
    assert first["distinct_programs"] == pytest.approx(1.5)
    assert first["distinct_share"] == pytest.approx((2 / 3 + 1 / 3) / 2)
    assert first["no_code"] == 1
    # Clusters: q0 {a, a}, {b}: 2, largest 2/3; q1 {c, c}: 1 (the no-code candidate is left out), largest 1.
    assert first["clusters"] == pytest.approx(1.5)
    assert first["largest_cluster_share"] == pytest.approx((2 / 3 + 1) / 2)
    # pass@1 = (2/3 + 0) / 2, pass@N = (1 + 0) / 2.
    assert first["pass@1"] == pytest.approx(1 / 3) and first["pass@N"] == pytest.approx(0.5)
    assert first["gain_left"] == pytest.approx(1 / 6)
    # Completion tokens 10..60: p10 = 15, p50 = 35, p90 = 55 (linear interpolation).
    assert first["completion_tokens"] == {"p10": 15.0, "p50": 35.0, "p90": 55.0, "mean": 35.0, "max": 60.0}
    assert first["lineage"]["children"] == 0 and first["lineage"]["bootstrapped_share"] is None

    # Round 1: q0 "print(1)" twice (layout apart) and "print(3)": 2; q1 three programs: 3.
    assert second["distinct_programs"] == pytest.approx(2.5)
    # Clusters: q0 {a, a}, {b}: 2, largest 2/3; q1 {d}, {e} (one not graded): 2, largest 1/2.
    assert second["clusters"] == pytest.approx(2.0)
    assert second["largest_cluster_share"] == pytest.approx((2 / 3 + 1 / 2) / 2)
    # pass@1 = (2/3 + 1/2) / 2 over the graded candidates; pass@N = 1.
    assert second["pass@1"] == pytest.approx(7 / 12) and second["gain_left"] == pytest.approx(5 / 12)
    assert second["completion_tokens"]["p10"] == 5.0 and second["completion_tokens"]["p90"] == 5.0
    assert second["lineage"] == {
        "children": 5,
        "correct_children": 3,
        "bootstrapped": 1,
        "bootstrapped_share": pytest.approx(1 / 3),
        "with_correct_parent": 3,
        "kept": 2,
        "kept_share": pytest.approx(2 / 3),
        "unknown": 1,
    }


def test_candidates_without_parents_have_no_lineage():
    table = population_table(hand_made_run(method="sample"))
    assert table[1]["lineage"]["children"] == 0 and table[1]["lineage"]["unknown"] == 0
    assert table[1]["lineage"]["correct_children"] == 0


def test_compute_per_problem_counts_the_judge_requests():
    rows = cost_table(round_costs(hand_made_run()))
    # Round 0: 6 completions, 6 x 100 prompt tokens, 10+..+60 = 210 completion tokens, over 2 problems.
    assert rows[0]["per_problem"] == {"completions": 3, "requests": 3, "prompt_tokens": 300, "completion_tokens": 105, "total_tokens": 405}
    # Round 1: 6 x 250 + 900 judge prompt tokens, 6 x 5 + 60 judge completion tokens, 6 + 6 requests.
    assert rows[1]["per_problem"] == {"completions": 3, "requests": 6, "prompt_tokens": 1200, "completion_tokens": 45, "total_tokens": 1245}
    assert rows[1]["cumulative_per_problem"] == {
        "completions": 6,
        "requests": 9,
        "prompt_tokens": 1500,
        "completion_tokens": 150,
        "total_tokens": 1650,
    }
    assert rows[1]["totals"]["verify_prompt_tokens"] == 900 and rows[1]["totals"]["generation_prompt_tokens"] == 1500
    # A run recorded before self-verification existed has no verify_* stats: they count 0.
    old = cost_table(round_costs(hand_made_run(verify=False)))
    assert old[1]["cumulative_per_problem"]["total_tokens"] == 1650 - (900 + 60) / 2


def test_a_prompt_too_long_to_send_is_no_request():
    run = hand_made_run()
    saved = run.rounds[1]
    dropped = Candidate("q1", 1, 2, (0, 2), 0, "", "", 0, 0, "prompt_too_long")
    run.rounds[1] = Round(1, saved.header, [*saved.candidates[:5], dropped], saved.grades)
    cost = round_costs(run)[1]
    assert cost.completions == 5 and cost.prompt_tokens == 5 * 250
    assert population_table(run)[1]["completion_tokens"]["max"] == 5.0


def test_round_points_are_cumulative():
    points = round_points(hand_made_run())
    assert [p.round for p in points] == [0, 1]
    assert points[0].total_tokens_per_problem == 405 and points[1].total_tokens_per_problem == 1650
    assert points[1].requests_per_problem == 9 and points[1].completions_per_problem == 6
    assert points[1].pass_at_1 == pytest.approx(7 / 12) and points[1].gain_left == pytest.approx(5 / 12)


def test_quantiles_of_nothing_are_none():
    assert quantiles([]) == {"p10": None, "p50": None, "p90": None, "mean": None, "max": None}
