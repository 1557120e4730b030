"""Dataset records against the run they come from (fake sandbox; the command line and
`datasets` loading are tested in tests/test_dataset_cli.py)."""

from runners.scripted import ScriptedRunner
from solver.dataset import DatasetOptions, build, normalized_code
from solver.evaluate import evaluate
from solver.rsa import RSAConfig
from solver.rundir import RunDir
from solver.runs import EvalConfig, run_config
from tests.solver.fakes import FakeSandbox, value_problems, value_program


def test_normalised_code_ignores_comments_blank_lines_and_formatting():
    a = "x = 1  # one\n\n\ndef f( a ):\n    return a+x\n"
    b = "# header\nx=1\ndef f(a):\n    return a + x"
    assert normalized_code(a) == normalized_code(b)
    assert normalized_code(a) != normalized_code("x = 2\ndef f(a):\n    return a + x")


def test_aggregation_prompts_are_the_prompts_the_model_saw(tmp_path):
    sent = {}

    def recording(request):
        sent[request.sampling.seed] = request.messages
        return value_program(request)

    rundir = RunDir(tmp_path / "run")
    config = EvalConfig(rsa=RSAConfig(n=4, k=2, t=2, seed=3, max_tokens=40))
    rundir.open(run_config(config, value_problems(4), runner={"kind": "scripted"}, limits={}))
    # A small window forces trimming, so rebuilding must replay the recorded trim too.
    evaluate(value_problems(4), ScriptedRunner(recording, context_window=262), FakeSandbox(), config, rundir)

    solutions, examples, facts = build([rundir.path], DatasetOptions())
    candidates = {(c.problem_id, c.round, c.index): c for r in rundir.rounds() for c in r.candidates}
    assert len(examples) == 4 * 4 * 2  # every aggregation call of rounds 1 and 2
    assert any(e["prompt_trimmed"] for e in examples)
    for e in examples:
        c = candidates[(e["problem_id"], e["round"], e["index"])]
        assert tuple(e["prompt"]) == sent[c.seed]
        assert e["reward"] == (1.0 if c.code == f"print({int(e['problem_id'][1:]) % 3})" else 0.0)

    # Verified solutions: one per distinct correct program per problem.
    correct = {(c.problem_id, c.code) for c in candidates.values() if c.code == f"print({int(c.problem_id[1:]) % 3})"}
    assert {(s["problem_id"], s["program"]) for s in solutions} == correct
    assert all(s["hidden_tests"] == 2 and s["tests_passed"] == 3 for s in solutions)


def test_problems_without_hidden_tests_are_never_verified(tmp_path):
    rundir = RunDir(tmp_path / "run")
    config = EvalConfig(rsa=RSAConfig(n=3, k=2, t=1))
    rundir.open(run_config(config, value_problems(3, hidden=0), runner={"kind": "scripted"}, limits={}))
    evaluate(value_problems(3, hidden=0), ScriptedRunner(value_program), FakeSandbox(), config, rundir)
    solutions, examples, _ = build([rundir.path], DatasetOptions())
    assert solutions == []
    assert examples and all(e["reward_tests"] == "public" for e in examples)
