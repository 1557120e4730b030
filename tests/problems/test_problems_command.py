"""`rsa-code problems`, run through the real entry point (solver.cli.main)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from problems import UsageError
from solver.cli import main
from solver.options import problem_filter
from tests.conftest import LCB_FULL_TESTS_SAMPLE, LCB_HIDDEN100, LCB_V1_PUBLIC


def _run(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["rsa-code", "problems", *map(str, args)])
    with pytest.raises(SystemExit) as e:
        main()
    out, err = capsys.readouterr()
    return e.value.code or 0, out, err


def test_the_installed_command_summarizes_release_v1():
    rsa_code = Path(sys.executable).with_name("rsa-code")
    done = subprocess.run([rsa_code, "problems", LCB_V1_PUBLIC], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "400 problems" in done.stdout
    assert "stdin 219, functional 181" in done.stdout
    assert "atcoder 210, leetcode 181, codeforces 9" in done.stdout
    assert "2023-05-07 .. 2024-03-02" in done.stdout


def test_json_summary_with_filters(monkeypatch, capsys):
    code, out, _ = _run(
        monkeypatch,
        capsys,
        LCB_HIDDEN100,
        LCB_FULL_TESTS_SAMPLE,
        "--json",
        "--difficulty",
        "hard",
        "--difficulty",
        "medium",
        "--end-date",
        "2023-12-31",
    )
    summary = json.loads(out)
    assert code == 0 and summary["by_difficulty"].keys() <= {"hard", "medium"}
    assert summary["contest_date"]["max"] <= "2023-12-31"
    assert summary["with_hidden_tests"] == summary["count"] > 0


def test_examples_by_name(monkeypatch, capsys):
    code, out, _ = _run(monkeypatch, capsys, "a-plus-b", "two-sum", "--json", "--kind", "functional")
    assert code == 0 and json.loads(out)["count"] == 1


@pytest.mark.parametrize(
    "args, words",
    [
        (["{bad}"], ":1: not valid JSON"),
        (["a-plus-b", "--release", "release_v9"], "--release: unknown release"),
        (["a-plus-b", "--start-date", "2024-02-30"], "--start-date:"),
        (["a-plus-b", "--start-date", "2024-02-02", "--end-date", "2024-02-01"], "after end date"),
        (["a-plus-b", "--id", "nope"], "no problem with id 'nope'"),
        ([], "give at least one PATH"),
    ],
)
def test_errors_print_one_line_and_exit_2(monkeypatch, capsys, tmp_path, args, words):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    code, out, err = _run(monkeypatch, capsys, *[str(bad) if a == "{bad}" else a for a in args])
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and words in err


def test_format_help_describes_the_file_format(monkeypatch, capsys):
    code, out, _ = _run(monkeypatch, capsys, "--format-help")
    assert code == 0 and "hidden-input" in out and "func_name" in out


def test_problem_filter_names_the_bad_option():
    assert problem_filter(platform=["AtCoder"], limit=3).platforms == frozenset({"atcoder"})
    with pytest.raises(UsageError, match="^--limit:"):
        problem_filter(limit=0)
    with pytest.raises(UsageError, match="^--difficulty:"):
        problem_filter(difficulty=["trivial"])
