"""`--method self-verify`: rejection sampling with self-verification. The scripted runner
plays both the writer and the judge (a fake judge, named so: it answers by the program's
text); the fake sandbox grades. The real model runs it in test_self_verify_with_the_embedded_model."""

import json
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from problems import Problem, TestCase
from prompts import load_templates
from runners.scripted import ScriptedRunner, scripted_tokens
from solver.evaluate import evaluate
from solver.rsa import Candidate, CandidateKey, Judgement, RoundStats, RSAConfig, Solver, parse_verdict
from solver.rundir import RunDir
from solver.runs import EvalConfig, load_run, run_config
from solver.selection import judged_correct, method_policy, pick, select_verified
from tests.solver.fakes import FakeSandbox, value_problems, value_program

JUDGE_MARK = "### Proposed solution"  # the verify template's heading: a request holding it is a judgement


def is_judge(request) -> bool:
    return JUDGE_MARK in request.messages[-1]["content"]


def fake_judge_script(request) -> str:
    """Writes value_program's programs; as the judge, says `correct` for print(0), no
    verdict at all for print(1), `incorrect` otherwise (a fake judge, by the program's text)."""
    if not is_judge(request):
        return value_program(request)
    prompt = request.messages[-1]["content"]
    if "print(0)" in prompt:
        return "<think>VERDICT: incorrect, maybe?</think>I traced it on the sample.\n**VERDICT:** correct"
    if "print(1)" in prompt:
        return "It looks fine to me."
    return "The output is wrong.\nVERDICT: incorrect"


class CountingRunner(ScriptedRunner):
    """A scripted runner that records each generate call's requests."""

    def __init__(self, *args, fail_on_judging: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls: list[list] = []
        self.fail_on_judging = fail_on_judging

    def generate(self, requests):
        if self.fail_on_judging and requests and is_judge(requests[0]):
            raise KeyboardInterrupt  # killed between the generation and the judging of a round
        self.calls.append(list(requests))
        return super().generate(requests)


def config(n=3, t=2, seed=4, method="self-verify") -> EvalConfig:
    return EvalConfig(rsa=RSAConfig(method=method, n=n, k=1, t=t, seed=seed))


def run_eval(tmp_path, cfg, problems, runner=None, name="run"):
    rundir = RunDir(tmp_path / name)
    rundir.open(run_config(cfg, problems, runner={"kind": "scripted"}, limits={}))
    evaluate(problems, runner or CountingRunner(fake_judge_script), FakeSandbox(), cfg, rundir)
    return rundir


def records(rundir: RunDir) -> list:
    return [(r.index, r.header["stats"], r.candidates, r.judgements, sorted(r.grades, key=lambda g: g.key)) for r in rundir.rounds()]


def without_seconds(stats: dict) -> dict:
    return {k: v for k, v in stats.items() if k != "seconds"}


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("Looks right.\nVERDICT: correct", "correct"),
        ("VERDICT: Incorrect.", "incorrect"),
        ("**Verdict:** `correct`", "correct"),
        ("VERDICT: correct\n\nOn second thought, no.\nVERDICT: incorrect", "incorrect"),  # the last one wins
        ("<think>VERDICT: correct</think>It fails on n = 0.\nVERDICT: incorrect", "incorrect"),
        ("<think>Surely VERDICT: correct</think>I am not sure.", None),  # thinking is not the answer
        ("<think>VERDICT: correct, so far", None),  # cut off inside its thinking
        ("Yes, the provided Python code is indeed correct.", "correct"),  # no VERDICT line: the first word
        ("**No.** It fails on n = 0.", "incorrect"),
        ("Yes at first sight.\nVERDICT: incorrect", "incorrect"),  # a VERDICT line wins over the first word
        ("I think yes.", None),  # a yes later in the text is no verdict
        ("Verdict: No\nTask: pass", "incorrect"),
        ("<think>Yes</think>Hard to say.", None),
        ("It is correct.", None),
        ("", None),
    ],
)
def test_the_verdict_is_parsed_from_the_answer_only(text, verdict):
    assert parse_verdict(text) == verdict


def test_a_thinking_models_verdict_needs_its_closing_tag():
    assert parse_verdict("VERDICT: correct", opened=True) is None  # all thinking: the template opened it
    assert parse_verdict("hmm</think>VERDICT: correct", opened=True) == "correct"


def test_the_judge_sees_the_statement_and_the_program_and_no_tests():
    problem = Problem(
        id="p",
        statement="Print the sum of two numbers.",
        kind="stdin",
        public_tests=(TestCase(input="31337 4242", output="35579"),),
        hidden_tests=(TestCase(input="271828 1", output="271829"),),
    )
    program = "a, b = map(int, input().split())\nprint(a + b)"
    runner = CountingRunner(lambda r: "VERDICT: correct" if is_judge(r) else f"```python\n{program}\n```")
    solver = Solver(runner, RSAConfig(method="self-verify", n=2, t=0))
    runs = solver.start([problem])
    solver.step(runs)
    judgements = solver.verify(runs, runs[0].population)
    generation, judging = runner.calls
    assert len(judging) == 2 and not any(is_judge(r) for r in generation)
    for request in judging:
        text = "\n".join(m["content"] for m in request.messages)
        assert problem.statement in text and program in text
        assert not any(value in text for value in ("31337", "4242", "35579", "271828", "271829"))
    assert [j.verdict for j in judgements] == ["correct", "correct"]
    assert runs[0].judgements == {j.key: j for j in judgements}


def test_one_batched_judge_call_per_round_after_the_generation_call_and_its_cost_in_the_stats(tmp_path):
    problems = value_problems(4)
    runner = CountingRunner(fake_judge_script)
    rundir = run_eval(tmp_path, config(n=3, t=2), problems, runner)
    assert len(runner.calls) == 2 * 3  # per round: the generation call, then one judge call
    for t, saved in enumerate(rundir.rounds()):
        generation, judging = runner.calls[2 * t], runner.calls[2 * t + 1]
        assert not any(is_judge(r) for r in generation) and all(is_judge(r) for r in judging)
        assert len(judging) == len(saved.candidates) == 4 * 3  # every problem's candidates, in one call
        stats = saved.header["stats"]
        assert stats["verify_requests"] == 12
        assert stats["verify_prompt_tokens"] == sum(runner.count_tokens(r.messages) for r in judging)
        assert stats["verify_completion_tokens"] == sum(scripted_tokens(fake_judge_script(r)) for r in judging)
        verdicts = Counter(j.verdict for j in saved.judgements)
        assert stats["verify_correct"] == verdicts["correct"] and stats["verify_unparsed"] == verdicts[None]
        assert {(j.problem_id, j.index) for j in saved.judgements} == {(c.problem_id, c.index) for c in saved.candidates}
        for j in saved.judgements:
            code = next(c.code for c in saved.candidates if c.key == j.key)
            assert j.verdict == {"print(0)": "correct", "print(1)": None}.get(code, "incorrect")
            assert j.finish_reason == "stop" and j.prompt_tokens > 0 and j.completion_tokens > 0 and j.text
    # other methods record no judging, and zeros
    sample = run_eval(tmp_path, config(n=3, t=2, method="sample"), problems, name="sample")
    for saved in sample.rounds():
        assert saved.judgements == [] and saved.header["stats"]["verify_requests"] == 0


def test_the_pick_is_uniform_among_the_candidates_judged_correct_over_every_sample_so_far(tmp_path):
    problems = value_problems(6)
    rundir = run_eval(tmp_path, config(n=3, t=2), problems)
    run = load_run(rundir.path)
    assert method_policy("self-verify") == "verified"
    for t in range(3):
        history = {p.id: [[c for c in run.rounds[r].candidates if c.problem_id == p.id] for r in range(t + 1)] for p in problems}
        for rounds in history.values():
            everything = [c for population in rounds for c in population]
            chosen = pick("verified", "self-verify", rounds, run.grades, 4, t, run.judgements)
            accepted = [c for c in everything if judged_correct(run.judgements, c)]
            assert chosen in (accepted or everything)
            if accepted:
                assert chosen.code == "print(0)"


def candidates(n: int) -> list[Candidate]:
    return [Candidate("p", 0, i, (), i, f"text {i}", f"print({i})", 1, 1, "stop") for i in range(n)]


def judged(pool, verdicts) -> dict:
    return {
        c.key: Judgement(c.problem_id, c.round, c.index, 0, "", v, 1, 1, "stop") for c, v in zip(pool, verdicts, strict=True) if v != "-"
    }


def test_among_several_judged_correct_each_can_be_picked_and_no_other():
    pool = candidates(6)
    judgements = judged(pool, ["correct", "incorrect", "correct", None, "correct", "-"])
    picked = Counter(select_verified(pool, judgements, seed, 0).index for seed in range(300))
    assert set(picked) == {0, 2, 4}
    assert min(picked.values()) > 60  # uniform: about 100 each


def test_with_none_judged_correct_the_pick_is_uniform_over_all():
    pool = candidates(4)
    judgements = judged(pool, ["incorrect", None, "incorrect", "-"])  # unparseable and unjudged count as not correct
    picked = Counter(select_verified(pool, judgements, seed, 0).index for seed in range(400))
    assert set(picked) == {0, 1, 2, 3} and min(picked.values()) > 60
    assert select_verified([], judgements, 0, 0) is None


def test_same_seed_same_judgements_and_picks_and_the_candidates_are_samples(tmp_path):
    problems = value_problems(5)
    first = load_run(run_eval(tmp_path, config(seed=7), problems, name="a").path)
    second = load_run(run_eval(tmp_path, config(seed=7), problems, name="b").path)
    sample = load_run(run_eval(tmp_path, config(seed=7, method="sample"), problems, name="s").path)
    assert [r.candidates for r in first.rounds] == [r.candidates for r in second.rounds] == [r.candidates for r in sample.rounds]
    assert [r.judgements for r in first.rounds] == [r.judgements for r in second.rounds]
    history = [[c for c in r.candidates if c.problem_id == "q0"] for r in first.rounds]
    assert pick("verified", "self-verify", history, {}, 7, 2, first.judgements) == pick(
        "verified", "self-verify", history, {}, 7, 2, second.judgements
    )


def test_a_run_killed_between_generation_and_judging_resumes_exactly(tmp_path):
    problems = value_problems(4)
    cfg = config(n=3, t=2, seed=3)
    straight = run_eval(tmp_path, cfg, problems, name="straight")

    broken = RunDir(tmp_path / "broken")
    broken.open(run_config(cfg, problems, runner={"kind": "scripted"}, limits={}))
    with pytest.raises(KeyboardInterrupt):
        evaluate(problems, CountingRunner(fake_judge_script, fail_on_judging=True), FakeSandbox(), cfg, broken)
    saved = broken.rounds()
    assert len(saved) == 1 and len(saved[0].candidates) == 12 and saved[0].judgements == []  # the generation was kept

    runner = CountingRunner(fake_judge_script)
    evaluate(problems, runner, FakeSandbox(), cfg, broken)
    assert all(is_judge(r) for r in runner.calls[0])  # round 0 was judged, not generated again
    assert len(runner.calls) == 1 + 2 * 2
    a, b = records(broken), records(straight)
    assert [(r[0], without_seconds(r[1]), *r[2:]) for r in a] == [(r[0], without_seconds(r[1]), *r[2:]) for r in b]


def test_the_judge_template_is_overridable_and_in_the_run_config(tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "verify.txt").write_text("Judge this.\n{statement}\n---\n{program}\nSay VERDICT: correct or VERDICT: incorrect.\n")
    templates = load_templates(folder)
    problems = value_problems(1)
    runner = CountingRunner(lambda r: "VERDICT: correct" if r.messages[-1]["content"].startswith("Judge this.") else value_program(r))
    solver = Solver(runner, RSAConfig(method="self-verify", n=2, t=0), templates)
    runs = solver.start(problems)
    solver.step(runs)
    assert [j.verdict for j in solver.verify(runs, runs[0].population)] == ["correct", "correct"]
    recorded = run_config(config(), problems, runner={}, limits={}, templates=templates)["templates"]
    default = run_config(config(), problems, runner={}, limits={})["templates"]
    assert recorded["overridden"] == ["verify"] and recorded["digest"] != default["digest"]
    assert "verify" in default["texts"]

    (folder / "verify.txt").write_text("Judge {statement} with {tests}\n")
    with pytest.raises(Exception, match=r"verify.txt.*unknown placeholder \{tests\}"):
        load_templates(folder)
    (folder / "verify.txt").write_text("Judge {statement}\n")
    with pytest.raises(Exception, match=r"missing placeholder \{program\}"):
        load_templates(folder)


def test_candidates_without_a_program_or_too_long_to_judge_are_not_sent():
    problem = value_problems(1)[0]
    runner = CountingRunner(lambda r: "VERDICT: correct" if is_judge(r) else "no idea", context_window=400)
    solver = Solver(runner, RSAConfig(method="self-verify", n=2, t=0, max_tokens=100))
    runs = solver.start([problem])
    solver.step(runs)
    long_program = Candidate(problem.id, 0, 2, (), 5, "", "x = 1\n" * 400, 0, 0, "stop")
    judgements = solver.verify(runs, [*runs[0].population, long_program])
    assert [(j.verdict, j.finish_reason) for j in judgements] == [("incorrect", "no_code")] * 2 + [(None, "prompt_too_long")]
    assert len(runner.calls) == 1  # the generation call only: nothing was worth a judge's call
    stats = RoundStats(0, 2, 0, 0, 0.0, 0, 0, 0).verified(judgements)
    assert (stats.verify_requests, stats.verify_prompt_tokens, stats.verify_correct, stats.verify_unparsed) == (0, 0, 0, 0)


RSA_CODE = [sys.executable, "-m", "solver.cli"]


def test_solve_with_self_verify_prints_a_program_judged_correct_and_the_judgements(tmp_path):
    texts = [f"```python\na, b = map(int, input().split())\nprint(a + b + {i})\n```" for i in range(4)]
    script = tmp_path / "script.json"
    script.write_text(json.dumps(texts))
    args = [*RSA_CODE, "solve", "a-plus-b", "-n", "4", "-t", "1", "--runner", "scripted", "--model", str(script)]
    done = subprocess.run([*args, "--method", "self-verify", "--json"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["config"]["method"] == "self-verify" and len(result["judgements"]) == 8
    assert all(j["verdict"] is None for j in result["judgements"])  # the script's texts hold no verdict
    assert "8 judged" not in done.stderr and "4 judged (0 correct, 4 without a verdict)" in done.stderr
    refused = subprocess.run([*args, "--method", "majority"], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and refused.stderr.startswith("error: --method")


def test_self_verify_key_is_a_candidate_key():
    j = Judgement("p", 1, 2, 0, "", None, 0, 0, "no_code")
    assert j.key == CandidateKey("p", 2, 1) and Judgement.from_record(j.to_record()) == j


@pytest.mark.model
@pytest.mark.slow
def test_self_verify_with_the_embedded_model(tmp_path):
    """The real model writes and judges (records checked, not correctness): a judgement per
    candidate with its text, tokens and finish reason, their cost in the round's stats."""
    args = [*RSA_CODE, "solve", "a-plus-b", "--method", "self-verify", "-n", "2", "-t", "0", "--max-tokens", "48"]
    done = subprocess.run([*args, "--json", "--out", str(tmp_path / "run")], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["model"].startswith("SmolLM2-135M-Instruct") and result["config"]["method"] == "self-verify"
    (candidates,) = result["rounds"]
    judgements = {j["index"]: j for j in result["judgements"]}
    assert sorted(judgements) == [0, 1]
    for c in candidates:
        j = judgements[c["index"]]
        assert j["round"] == 0 and j["problem_id"] == c["problem_id"] and j["verdict"] in ("correct", "incorrect", None)
        if c["code"]:
            assert j["text"].strip() and j["finish_reason"] in ("stop", "length") and 0 < j["completion_tokens"] <= 48
            assert j["prompt_tokens"] > 50 and j["verdict"] == parse_verdict(j["text"])
        else:
            assert j["finish_reason"] == "no_code" and j["verdict"] == "incorrect"
    (stats,) = result["stats"]
    sent = [j for j in judgements.values() if j["finish_reason"] in ("stop", "length")]
    assert stats["verify_requests"] == len(sent)
    assert stats["verify_prompt_tokens"] == sum(j["prompt_tokens"] for j in sent)
    assert stats["verify_completion_tokens"] == sum(j["completion_tokens"] for j in sent)
    (saved,) = RunDir(tmp_path / "run").rounds()
    assert [j.to_record() for j in saved.judgements] == result["judgements"]


def test_eval_cli_with_self_verify_records_judgements_and_reports_their_tokens(tmp_path):
    from tests.conftest import LCB_FULL_TESTS_SAMPLE

    texts = [  # each text is a program (as a candidate) and a verdict (as a judgement)
        "```python\nprint('T')\n```\nVERDICT: correct",
        "```python\nprint('A')\n```\nVERDICT: incorrect",
        "```python\nn = int(input())\nprint(n)\n```\nI cannot tell.",
    ]
    script = tmp_path / "script.json"
    script.write_text(json.dumps(texts))
    out = tmp_path / "run"
    args = [
        *RSA_CODE,
        "eval",
        "--data",
        str(LCB_FULL_TESTS_SAMPLE),
        "--limit",
        "2",
        "-n",
        "3",
        "-t",
        "1",
        "--method",
        "self-verify",
        "--runner",
        "scripted",
        "--model",
        str(script),
        "--sandbox",
        "local",
        "--out",
        str(out),
    ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "6 judged (" in done.stderr
    rounds = RunDir(out).rounds()
    assert len(rounds) == 2
    for saved in rounds:
        assert len(saved.judgements) == len(saved.candidates) == 6
        assert saved.header["stats"]["verify_requests"] == 6
        assert saved.header["stats"]["verify_completion_tokens"] == sum(j.completion_tokens for j in saved.judgements) > 0
        assert {j.verdict for j in saved.judgements} <= {"correct", "incorrect", None}
    assert load_run(out).config["rsa"]["method"] == "self-verify"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["method"] == "self-verify" and summary["verifier_free"] is True
    judge_tokens = sum(r.header["stats"]["verify_prompt_tokens"] for r in rounds)
    assert f'"verify_prompt_tokens": {rounds[0].header["stats"]["verify_prompt_tokens"]}' in json.dumps(summary)  # the report's
    assert judge_tokens > 0 and "verify" in done.stdout  # the printed report counts the judge's requests
    again = subprocess.run(args, capture_output=True, text=True, timeout=300)  # complete: resumes, makes nothing
    assert again.returncode == 0 and "resuming" in again.stderr and "judged" not in again.stderr
    assert [(r.candidates, r.judgements) for r in RunDir(out).rounds()] == [(r.candidates, r.judgements) for r in rounds]


def test_rounds_saved_without_judgements_are_judged_on_resume_one_call_each(tmp_path):
    """Rounds copied from a `sample` run (as `rsa-code sweep` shares them) are judged, not generated again."""
    problems = value_problems(3)
    sample = run_eval(tmp_path, config(n=2, t=1, method="sample"), problems, name="sample")
    straight = run_eval(tmp_path, config(n=2, t=1), problems, name="straight")
    copied = RunDir(tmp_path / "copied")
    copied.open(run_config(config(n=2, t=1), problems, runner={"kind": "scripted"}, limits={}))
    for t in range(2):
        copied.round_path(t).write_bytes(sample.round_path(t).read_bytes())
    runner = CountingRunner(fake_judge_script)
    evaluate(problems, runner, FakeSandbox(), config(n=2, t=1), copied)
    assert [len(call) for call in runner.calls] == [6, 6] and all(is_judge(r) for call in runner.calls for r in call)
    a, b = records(copied), records(straight)
    assert [(r[0], without_seconds(r[1]), *r[2:]) for r in a] == [(r[0], without_seconds(r[1]), *r[2:]) for r in b]


KILLED_BETWEEN_GENERATION_AND_JUDGING = """
import os, signal, sys
from pathlib import Path
from solver.evaluate import evaluate
from solver.rundir import RunDir
from tests.solver.fakes import FakeSandbox, value_problems
from tests.solver.test_self_verify import CountingRunner, config, fake_judge_script, is_judge

class KilledAtJudging(CountingRunner):
    def generate(self, requests):
        if requests and is_judge(requests[0]) and sum(is_judge(c[0]) for c in self.calls) == int(sys.argv[2]):
            os.kill(os.getpid(), signal.SIGKILL)
        return super().generate(requests)

evaluate(value_problems(4), KilledAtJudging(fake_judge_script), FakeSandbox(), config(n=3, t=2, seed=3), RunDir(sys.argv[1]))
"""


@pytest.mark.parametrize("judge_call", [0, 1, 2])
def test_sigkill_between_generation_and_judging_resumes_exactly(tmp_path, judge_call):
    """SIGKILL at the judge call of round `judge_call`: the round's generation is on disk, its judgements not."""
    problems = value_problems(4)
    cfg = config(n=3, t=2, seed=3)
    straight = run_eval(tmp_path, cfg, problems, name="straight")
    killed = RunDir(tmp_path / "killed")
    killed.open(run_config(cfg, problems, runner={"kind": "scripted"}, limits={}))
    killed.release()
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", KILLED_BETWEEN_GENERATION_AND_JUDGING, str(killed.path), str(judge_call)], cwd=root, timeout=120
    )
    assert done.returncode == -signal.SIGKILL
    saved = killed.rounds()
    assert len(saved) == judge_call + 1 and saved[-1].judgements == [] and len(saved[-1].candidates) == 12
    runner = CountingRunner(fake_judge_script)
    evaluate(problems, runner, FakeSandbox(), cfg, killed)
    assert all(is_judge(r) for r in runner.calls[0])  # the killed round is judged, not generated again
    a, b = records(killed), records(straight)
    assert [(r[0], without_seconds(r[1]), *r[2:]) for r in a] == [(r[0], without_seconds(r[1]), *r[2:]) for r in b]
