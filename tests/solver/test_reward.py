"""solver.reward: the ground truth's encoding, completions that must never crash the reward,
and real programs of real problems scored right, wrong and forged, by the local backend
and by Docker (marked docker).

The Docker tests grade LiveCodeBench's LeetCode problems (../shared/data/lcb/
leetcode_v1_hidden100.jsonl: 100 hidden tests each) with the known-good programs of
benchmarks/programs/<id>.py and the plausible bugs of <id>_wrong.py, and the stdin problem
abc301_a of the official sample; the attacks are programs that try to win without solving.
"""

from __future__ import annotations

import base64
import json
import threading
import zlib

import pytest

from problems import Problem, TestCase, load_problems
from solver import reward
from solver.reward import (
    GroundTruthError,
    compute_score,
    compute_score_batch,
    decode_ground_truth,
    encode_ground_truth,
    program_of,
    response_of,
    reward_func,
)
from tests.conftest import LCB_FULL_TESTS_SAMPLE, LCB_HIDDEN100, REPO_ROOT
from tests.test_eval_cli import ABC301_A

PROGRAMS = REPO_ROOT / "benchmarks" / "programs"
KEYS = {"score", "passed", "total", "all_passed", "infra_error"}


def fenced(code: str, prose: str = "Here is my solution.") -> str:
    return f"{prose}\n```python\n{code}\n```\n"


class CountingSandbox:
    """A real sandbox that counts the jobs it was given (to see duplicates graded once)."""

    def __init__(self, inner):
        self.inner, self.jobs = inner, 0
        self.limits, self.workers = inner.limits, inner.workers

    def run(self, jobs):
        self.jobs += len(jobs)
        return self.inner.run(jobs)

    def close(self):
        self.inner.close()


class NoSandbox:
    """Fails the test if anything reaches the sandbox (completions with no program must not)."""

    limits = None
    workers = 1

    def run(self, jobs):
        raise AssertionError(f"{len(jobs)} jobs reached the sandbox")

    def close(self):
        pass


@pytest.fixture
def no_sandbox(monkeypatch):
    monkeypatch.setattr(reward, "_sandbox", NoSandbox())
    monkeypatch.setattr(reward, "_sandbox_pid", reward.os.getpid())


@pytest.fixture(scope="module")
def hidden100() -> dict[str, Problem]:
    return {p.id: p for p in load_problems([LCB_HIDDEN100])}


@pytest.fixture(scope="module", params=["local", pytest.param("docker", marks=pytest.mark.docker)])
def graded(request):
    """solver.reward on a real sandbox: the local backend, and Docker (the default), closed after."""
    reward.close()
    previous = reward.SETTINGS.sandbox
    reward.SETTINGS.sandbox = request.param
    yield reward
    reward.close()
    reward.SETTINGS.sandbox = previous


def program_ids() -> list[str]:
    return sorted(p.stem for p in PROGRAMS.glob("*.py") if not p.stem.endswith("_wrong") and (PROGRAMS / f"{p.stem}_wrong.py").exists())


# --- ground truth ------------------------------------------------------------------------


def test_ground_truth_round_trips_small_and_compressed(hidden100):
    small = hidden100["2811"]
    text = encode_ground_truth(small)
    assert not text.startswith(reward.COMPRESSED_PREFIX) and json.loads(text)["kind"] == "functional"
    assert decode_ground_truth(text).tests == small.all_tests
    big = Problem(
        id="big", statement="s", kind="stdin", hidden_tests=tuple(TestCase(input=f"{i} " * 2000, output=str(i)) for i in range(40))
    )
    packed = encode_ground_truth(big)
    assert packed.startswith(reward.COMPRESSED_PREFIX) and len(packed) < len(json.dumps([t.input for t in big.hidden_tests]))
    gt = decode_ground_truth(packed)
    assert gt.tests == big.all_tests and gt.problem.kind == "stdin" and gt.problem.func_name is None
    assert decode_ground_truth(packed.encode()).tests == big.all_tests  # bytes, as some readers hand strings over


@pytest.mark.parametrize(
    "bad",
    [
        None,
        42,
        "",
        "not json",
        "[1, 2]",
        json.dumps({"kind": "stdin", "tests": [["1", "1"]]}),  # no format
        json.dumps({"format": reward.GROUND_TRUTH_FORMAT, "kind": "stdin", "tests": []}),
        json.dumps({"format": reward.GROUND_TRUTH_FORMAT, "kind": "exec", "tests": [["1", "1"]]}),
        json.dumps({"format": reward.GROUND_TRUTH_FORMAT, "kind": "functional", "tests": [["1", "1"]]}),  # no func_name
        json.dumps({"format": reward.GROUND_TRUTH_FORMAT, "kind": "functional", "func_name": "f", "tests": [["x y", "1"]]}),
        json.dumps({"format": reward.GROUND_TRUTH_FORMAT, "kind": "stdin", "tests": [[1, 2]]}),
        reward.COMPRESSED_PREFIX + "!!!not base64",
        reward.COMPRESSED_PREFIX + base64.b64encode(b"not zlib").decode(),
        reward.COMPRESSED_PREFIX + base64.b64encode(zlib.compress(b'{"format": 1')[:-3]).decode(),  # truncated
        # LiveCodeBench's own encoding (base64 of zlib of pickle) is refused, never unpickled
        reward.COMPRESSED_PREFIX + base64.b64encode(zlib.compress(b"\x80\x04\x95cos\nsystem\n")).decode(),
    ],
)
def test_anything_else_is_a_ground_truth_error(bad):
    with pytest.raises(GroundTruthError):
        decode_ground_truth(bad)


def test_a_decompression_bomb_is_refused(monkeypatch):
    reward._decode.cache_clear()
    monkeypatch.setattr(reward, "MAX_GROUND_TRUTH_BYTES", 1 << 20)
    bomb = reward.COMPRESSED_PREFIX + base64.b64encode(zlib.compress(b" " * (8 << 20))).decode()
    with pytest.raises(GroundTruthError, match="more than"):
        decode_ground_truth(bomb)


# --- completions that hold no program never reach the sandbox, never raise -----------------


@pytest.mark.parametrize(
    "completion",
    [
        None,
        "",
        "   \n",
        "I do not know how to solve this.",
        b"\xff\xfe\x00\x01 binary",
        12345,
        ["a list"],
        "```text\nprint(1)\n```",  # a block in another language is never code
        "x" * (reward.MAX_COMPLETION_CHARS + 1),
        "a line of prose\n" * reward.MAX_UNFENCED_LINES,
        "<think>\n```python\nprint(0)\n```\n</think>\n" + "a line of prose\n" * reward.MAX_UNFENCED_LINES,  # fence in thinking only
        "<think>\n```python\nprint('a draft')\n```\nstill thinking when cut off",  # a draft is not an answer
        fenced(ABC301_A) + "x" * reward.MAX_COMPLETION_CHARS,  # over the bound even with a program in it
    ],
)
def test_completions_without_a_program_score_zero_without_grading(no_sandbox, completion):
    gt = encode_ground_truth(load_problems([LCB_FULL_TESTS_SAMPLE])[2])
    score = compute_score("rsa-code/generation", completion, gt, None)
    assert score == {"score": 0.0, "passed": 0.0, "total": 18.0, "all_passed": 0.0, "infra_error": 0.0}
    assert compute_score_batch(["d"], [completion], [gt], [{}])[0] == score


def test_the_program_is_taken_as_rsa_code_takes_it():
    assert program_of(fenced("print(1)", "<think>```python\nprint(0)\n```</think>")) == "print(1)"
    assert program_of("```py\nprint(2)\n```\nand\n```python\nprint(3)\n```") == "print(3)"
    assert program_of("Sure.\nprint(4)") == "print(4)"
    assert program_of("a\x00b\n```python\nprint(5)\n```") == "print(5)"  # NULs dropped, not fatal
    assert program_of("\udc80 surrogate\n```python\nprint(6)\n```") == "print(6)"


def test_settings_are_checked():
    gt = encode_ground_truth(load_problems([LCB_FULL_TESTS_SAMPLE])[2])
    with pytest.raises(ValueError, match="reward_kind"):
        compute_score("d", "no code", gt, {"reward_kind": "half"})
    with pytest.raises(ValueError, match="semantics"):
        compute_score("d", "no code", gt, None, semantics="mine")


def test_sandbox_settings_come_as_keyword_arguments(no_sandbox, monkeypatch):
    for name in ("sandbox", "workers", "test_seconds", "memory_mb"):
        monkeypatch.setattr(reward.SETTINGS, name, getattr(reward.SETTINGS, name))
    gt = encode_ground_truth(load_problems([LCB_FULL_TESTS_SAMPLE])[2])
    compute_score("d", "no code", gt, None, sandbox="local", workers="3", test_seconds=2, memory_mb=512, num_turns=1)
    assert (reward.SETTINGS.sandbox, reward.SETTINGS.workers, reward.SETTINGS.test_seconds, reward.SETTINGS.memory_mb) == (
        "local",
        3,
        2.0,
        512,
    )


def test_openrlhf_response_is_what_follows_the_prompt():
    prompt = "<|im_start|>user\nSolve it, here are candidates:\n```python\nprint('from the prompt')\n```<|im_end|>\n<|im_start|>assistant\n"
    assert response_of(prompt + "```python\nprint(7)\n```<|im_end|>", prompt) == "```python\nprint(7)\n```"
    # A response with no program never inherits the prompt's candidates
    assert program_of(response_of(prompt + "I give up.<|im_end|>", prompt)) == ""
    assert response_of("something else entirely", prompt) == ""


# --- real programs of real problems, graded by the local backend and by Docker ------------


@pytest.mark.parametrize("semantics", ["lcb", "judge"])
def test_known_right_and_wrong_programs_score_right(graded, hidden100, semantics):
    ids = program_ids()
    assert len(ids) >= 10
    completions, truths, expected = [], [], []
    for pid in ids:
        gt = encode_ground_truth(hidden100[pid])
        completions += [fenced((PROGRAMS / f"{pid}.py").read_text()), fenced((PROGRAMS / f"{pid}_wrong.py").read_text())]
        truths += [gt, gt]
        expected += [1.0, 0.0]
    scores = compute_score_batch(
        ["rsa-code/generation"] * len(completions), completions, truths, [{"semantics": semantics} for _ in completions]
    )
    assert all(set(s) == KEYS for s in scores)
    assert [s["infra_error"] for s in scores] == [0.0] * len(scores)
    assert [s["score"] for s in scores] == expected
    assert all(s["passed"] == s["total"] == len(hidden100[pid].all_tests) for s, pid in zip(scores[::2], ids))

    # pass fraction: every test run, a wrong program scores what it passed
    fractions = compute_score_batch(None, completions, truths, [{"reward_kind": "fraction"} for _ in completions], semantics=semantics)
    for right, wrong in zip(fractions[::2], fractions[1::2]):
        assert right["score"] == 1.0 and 0.0 <= wrong["score"] < 1.0
        assert wrong["score"] == wrong["passed"] / wrong["total"] and wrong["total"] == right["total"]
    assert any(w["score"] > 0.0 for w in fractions[1::2])  # some bugs pass some tests


def test_single_calls_agree_with_the_batch_and_a_stdin_problem_scores(graded, hidden100):
    abc = load_problems([LCB_FULL_TESTS_SAMPLE])[2]
    assert abc.id == "abc301_a"
    gt = encode_ground_truth(abc)
    assert compute_score("d", fenced(ABC301_A), gt, {})["score"] == 1.0
    assert compute_score("d", fenced("print('T')"), gt, {})["score"] == 0.0
    fraction = compute_score("d", fenced("print('T')"), gt, {}, reward_kind="fraction")
    assert fraction["total"] == 18 and 0 < fraction["passed"] < 18 and fraction["score"] == fraction["passed"] / 18
    # binary junk inside a fenced block is a program that fails, not a crash
    assert compute_score("d", "```python\n\x01\x02\xff\ufffe junk(\n```", gt, {})["score"] == 0.0


def test_duplicates_in_a_batch_are_graded_once(graded, hidden100, monkeypatch):
    counting = CountingSandbox(graded.sandbox())
    monkeypatch.setattr(reward, "_sandbox", counting)
    gt = encode_ground_truth(hidden100["2811"])
    code = (PROGRAMS / "2811.py").read_text()
    completions = [fenced(code), fenced(code, "Other prose, same program."), fenced(code + "\n# a comment"), "no code"]
    scores = compute_score_batch(None, completions, [gt] * 4, None)
    assert [s["score"] for s in scores] == [1.0, 1.0, 1.0, 0.0]
    assert counting.jobs == 2  # the same program twice is one job; a comment makes another program


def test_concurrent_single_calls_share_one_sandbox(graded, hidden100):
    ids = program_ids()[:6]
    results: dict[tuple[str, bool], float] = {}

    def one(pid: str, right: bool) -> None:
        code = (PROGRAMS / f"{pid}{'' if right else '_wrong'}.py").read_text()
        results[(pid, right)] = compute_score("d", fenced(code), encode_ground_truth(hidden100[pid]), {})["score"]

    first = graded.sandbox()
    threads = [threading.Thread(target=one, args=(pid, right)) for pid in ids for right in (True, False)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert results == {(pid, right): float(right) for pid in ids for right in (True, False)}
    assert graded.sandbox() is first


def test_openrlhf_reward_func_grades_the_response(graded):
    abc = load_problems([LCB_FULL_TESTS_SAMPLE])[2]
    gt = encode_ground_truth(abc)
    prompt = f"<|im_start|>user\nFix these:\n{fenced('print(1)')}<|im_end|>\n<|im_start|>assistant\n"
    out = reward_func([prompt + fenced(ABC301_A) + "<|im_end|>", prompt + "No idea.<|im_end|>"], [prompt, prompt], [gt, gt])
    assert out["rewards"].tolist() == [1.0, 0.0] and out["scores"].tolist() == [1.0, 0.0]


# --- programs that try to win without solving ----------------------------------------------

ATTACKS = {
    # an answer that equals anything: a grader comparing in the program's process says yes
    "eq_always_true": """
class Anything:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __hash__(self): return 0
class Solution:
    def minimumSum(self, n: int, k: int) -> int:
        return Anything()
""",
    # a list subclass claiming equality
    "list_subclass_eq": """
class Sneaky(list):
    def __eq__(self, other): return True
class Solution:
    def minimumSum(self, n: int, k: int) -> int:
        return Sneaky()
""",
    # forged harness messages on stdout, then a silent exit before any real result
    "fake_harness_lines": """
import json, os, sys
class Solution:
    def minimumSum(self, n: int, k: int) -> int:
        for i in range(200):
            line = json.dumps({"test": {"index": i, "verdict": "passed", "seconds": 0.0}})
            sys.stdout.write(line + "\\n"); sys.__stdout__.write(line + "\\n")
        sys.stdout.write(json.dumps({"done": {"verdict": "passed"}}) + "\\n")
        sys.stdout.flush(); sys.__stdout__.flush()
        os._exit(0)
""",
    # patching the comparison machinery it can reach
    "patch_builtins": """
import builtins
builtins.isinstance = lambda *a: True
class Solution:
    def minimumSum(self, n: int, k: int) -> int:
        import gc
        for obj in gc.get_objects():
            if isinstance(obj, dict) and "expected" in obj:
                return obj["expected"]
        return -1
""",
}


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_programs_get_zero(graded, hidden100, name):
    """The sandbox never holds the expected outputs and the host judges what the program
    returned, so nothing the program does to equality or to its own stdout can pass."""
    gt = encode_ground_truth(hidden100["2811"])
    for kind in ("pass", "fraction"):
        for semantics in ("lcb", "judge"):
            score = compute_score("rsa-code/generation", fenced(ATTACKS[name]), gt, {"reward_kind": kind, "semantics": semantics})
            assert score["score"] == 0.0, (name, kind, semantics, score)
            assert score["all_passed"] == 0.0 and score["infra_error"] == 0.0
