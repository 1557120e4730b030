"""`rsa-code grade` on real LiveCodeBench rows (their hidden tests), with programs written
for them, correct and not, in both input formats; and `rsa-code sandbox check`."""

from __future__ import annotations

import json
import sys
import warnings

import pytest

from solver.cli import main
from tests.conftest import LCB_FULL_TESTS_SAMPLE, LCB_HIDDEN100, REPO_ROOT

MINIMUM_SUM = (REPO_ROOT / "benchmarks" / "programs" / "2811.py").read_text()  # a correct program for 2811
MINIMUM_SUM_WRONG = "class Solution:\n    def minimumSum(self, n: int, k: int) -> int:\n        return n * (n + 1) // 2\n"
ACHIEVABLE = "class Solution:\n    def theMaximumAchievableX(self, num: int, t: int) -> int:\n        return num + 2 * t\n"
SENIORS = "class Solution:\n    def countSeniors(self, details):\n        return sum(int(d[11:13]) > 60 for d in details)\n"
SENIORS_SLOW = "class Solution:\n    def countSeniors(self, details):\n        while True:\n            pass\n"
WINNER = """
n = int(input())
s = input()
t, a = s.count("T"), s.count("A")
if t != a:
    print("T" if t > a else "A")
else:
    print("A" if s[-1] == "T" else "T")
"""
CARDS = """
for _ in range(int(input())):
    s = input().strip()
    print("YES" if sum(x != y for x, y in zip(s, "abc")) <= 2 else "NO")
"""
CARDS_WRONG_CASE = CARDS.replace('"YES"', '"yes"')

PROGRAMS = [
    {"question_id": "2811", "code_list": [MINIMUM_SUM, MINIMUM_SUM_WRONG, "class Solution:\n    def minimumSum(self, n, k)\n"]},
    {"question_id": "2812", "code": ACHIEVABLE, "extra": "ignored"},
    {"question_id": "2727", "code_list": [SENIORS, SENIORS_SLOW]},
    {"question_id": "abc301_a", "code": WINNER},
    {"question_id": "1873_A", "code_list": [CARDS, CARDS_WRONG_CASE]},
]
EXPECTED = {
    ("2811", 0): "passed",
    ("2811", 1): "wrong_answer",
    ("2811", 2): "syntax_error",
    ("2812", 0): "passed",
    ("2727", 0): "passed",
    ("2727", 1): "time_limit",
    ("abc301_a", 0): "passed",
    ("1873_A", 0): "passed",
    ("1873_A", 1): "wrong_answer",
}


def grade(monkeypatch, capsys, tmp_path, sandbox: str, *extra: str) -> tuple[int, str, str, list[dict]]:
    programs = tmp_path / "generations.jsonl"
    programs.write_text("".join(json.dumps(p) + "\n" for p in PROGRAMS))
    argv = [
        "rsa-code",
        "grade",
        "--problems",
        str(LCB_HIDDEN100),
        "--problems",
        str(LCB_FULL_TESTS_SAMPLE),
        "--programs",
        str(programs),
        "--sandbox",
        sandbox,
        "--timeout",
        "1",
        *extra,
    ]
    monkeypatch.setattr(sys, "argv", argv)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(SystemExit) as e:
            main()
    out, err = capsys.readouterr()
    records = [json.loads(line) for line in (tmp_path / "generations.verdicts.jsonl").read_text().splitlines()]
    return e.value.code or 0, out, err, records


def check_records(records: list[dict]) -> None:
    assert {(r["question_id"], r["index"]): r["verdict"] for r in records} == EXPECTED
    seniors = next(r for r in records if (r["question_id"], r["index"]) == ("2727", 0))
    assert seniors["passed"] == seniors["total"] == 16  # 2 public + 14 hidden
    assert len(seniors["tests"]) == 16 and all(t["verdict"] == "passed" and t["output_digest"] for t in seniors["tests"])
    wrong = next(r for r in records if (r["question_id"], r["index"]) == ("2811", 1))
    assert wrong["tests"][-1]["verdict"] == "wrong_answer" and "expected" in wrong["tests"][-1]["detail"]
    assert [r["line"] for r in records] == [1, 1, 1, 2, 3, 3, 4, 5, 5]


def test_grade_with_the_local_sandbox(monkeypatch, capsys, tmp_path):
    code, out, _, records = grade(monkeypatch, capsys, tmp_path, "local")
    assert code == 0
    check_records(records)
    assert "programs passed: 5/9" in out
    assert "problems with a passing program: 5/5" in out


@pytest.mark.docker
def test_grade_with_docker_as_json(monkeypatch, capsys, tmp_path):
    code, out, _, records = grade(monkeypatch, capsys, tmp_path, "docker", "--json")
    assert code == 0
    check_records(records)
    summary = json.loads(out)
    assert (summary["programs"], summary["programs_passed"], summary["problems_with_a_pass"]) == (9, 5, 5)
    assert summary["pass@1"] == pytest.approx(100 * (1 / 3 + 1 + 1 / 2 + 1 + 1 / 2) / 5, abs=0.01)
    assert summary["verdicts"] == {"passed": 5, "wrong_answer": 2, "syntax_error": 1, "time_limit": 1}
    assert summary["infra_errors"] == []


@pytest.mark.parametrize(
    "line, message",
    [
        ('{"question_id": "nope", "code": "x"}', "bad.jsonl:1: field 'question_id': no problem 'nope'"),
        ('{"question_id": "2811"}', "bad.jsonl:1: needs exactly one of code_list"),
        ('{"question_id": "2811", "code_list": "x"}', "bad.jsonl:1: field 'code_list': must be a list"),
        ("7", "bad.jsonl:1: a program row must be a JSON object"),
        (
            '[{"question_id": "2811", "code": "x"}, {"question_id": "nope", "code": "x"}]',
            "bad.jsonl: field '[1].question_id': no problem 'nope'",
        ),
        ("[1]", "bad.jsonl: field '[0]': a program row must be a JSON object"),
        ("{", "bad.jsonl:1: not valid JSON"),
    ],
)
def test_bad_program_files_are_named(monkeypatch, capsys, tmp_path, line, message):
    programs = tmp_path / "bad.jsonl"
    programs.write_text(line + "\n")
    monkeypatch.setattr(sys, "argv", ["rsa-code", "grade", "--problems", str(LCB_HIDDEN100), "--programs", str(programs)])
    with pytest.raises(SystemExit) as e:
        main()
    assert e.value.code == 2
    assert message in " ".join(capsys.readouterr().err.split())


@pytest.mark.docker
@pytest.mark.parametrize("kind", ["docker", "local"])
def test_sandbox_check(monkeypatch, capsys, kind):
    monkeypatch.setattr(sys, "argv", ["rsa-code", "sandbox", "check", "--sandbox", kind, "--json"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(SystemExit) as e:
            main()
    report = json.loads(capsys.readouterr().out)
    assert e.value.code in (0, None) and report["ok"]
    assert [t["got"] for t in report["self_test"]] == ["passed", "wrong_answer"]
    if kind == "docker":
        assert report["image"]["harness"] == "matches this rsa-code" and report["container"]["network"] == "none"
        assert report["container"]["capabilities_dropped"] == ["ALL"] and report["container"]["swap_mb"] == 0
