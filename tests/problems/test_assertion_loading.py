"""HumanEval and MBPP on the real files: every row, the ids, the split, the assertion tests'
shape, and a malformed row named by file, line and field."""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import pytest

from problems import InputFileError, Problem, ProblemFilter, TestCase, load_problems
from tests.conftest import SHARED_DATA

HUMANEVAL = SHARED_DATA / "humaneval" / "HumanEval.jsonl.gz"
MBPP = SHARED_DATA / "mbpp" / "mbpp.jsonl"
HUMANEVAL_ROWS = [json.loads(line) for line in gzip.open(HUMANEVAL, "rt")]
MBPP_ROWS = [json.loads(line) for line in MBPP.open()]


@pytest.fixture(scope="module")
def humaneval() -> list[Problem]:
    return load_problems([HUMANEVAL])


@pytest.fixture(scope="module")
def mbpp() -> list[Problem]:
    return load_problems([MBPP])


def test_humaneval_loads_every_row_with_its_own_ids(humaneval):
    assert len(humaneval) == 164
    assert [p.id for p in humaneval] == [r["task_id"] for r in HUMANEVAL_ROWS] == [f"HumanEval/{i}" for i in range(164)]
    for problem, row in zip(humaneval, HUMANEVAL_ROWS):
        assert problem.kind == "assertion" and problem.func_name == row["entry_point"]
        assert problem.public_tests == () and problem.hidden_tests == (TestCase(input="check(candidate)", output=""),)
        assert problem.statement == f"```python\n{row['prompt'].strip(chr(10))}\n```"  # shown as code
        assert problem.starter_code == row["prompt"]
        assert problem.setup_code.startswith(row["prompt"].rstrip()) and problem.setup_code.endswith(row["test"])
    assert "def poly" in humaneval[32].setup_code and "def encode_cyclic" in humaneval[38].setup_code


def test_mbpp_loads_all_974_rows_with_mbpp_ids(mbpp):
    assert len(mbpp) == 974
    assert [p.id for p in mbpp] == [f"mbpp/{r['task_id']}" for r in MBPP_ROWS]
    for problem, row in zip(mbpp, MBPP_ROWS):
        assert problem.kind == "assertion" and problem.statement == row["text"].strip()
        assert [t.input for t in problem.public_tests] == [t.strip() for t in row["test_list"]]  # test_list only
        assert problem.hidden_tests == () and all(t.output == "" for t in problem.public_tests)
        assert problem.setup_code == row["test_setup_code"]
        assert problem.func_name in row["test_list"][0]


def test_mbpp_entry_points_and_classes_are_the_reference_codes(mbpp):
    by_id = {p.id: p for p in mbpp}
    assert by_id["mbpp/126"].func_name == "sum"  # shadows the builtin
    assert by_id["mbpp/367"].test_classes == ("Node",) and by_id["mbpp/927"].test_classes == ("Node",)
    assert by_id["mbpp/601"].test_classes == ("Pair",) and by_id["mbpp/601"].func_name == "max_chain_length"
    assert {p.id for p in mbpp if p.test_classes} == {"mbpp/367", "mbpp/927", "mbpp/601"}


def test_the_usual_500_problem_test_split(mbpp):
    test = load_problems([MBPP], ProblemFilter(splits=frozenset({"test"})))
    assert len(test) == 500 and [p.id for p in test] == [f"mbpp/{i}" for i in range(11, 511)]
    counts = {s: sum(p.split == s for p in mbpp) for s in ("prompt", "test", "validation", "train")}
    assert counts == {"prompt": 10, "test": 500, "validation": 90, "train": 374}


def test_both_files_load_together_and_by_id():
    problems = load_problems([HUMANEVAL, MBPP], ProblemFilter(ids=("HumanEval/0", "mbpp/11")))
    assert [p.id for p in problems] == ["HumanEval/0", "mbpp/11"]


def _bad_file(tmp_path: Path, rows: list[dict], bad: dict | str, at_line: int, gz: bool = False) -> Path:
    lines = [json.dumps(r) for r in rows[: at_line - 1]] + [bad if isinstance(bad, str) else json.dumps(bad)]
    lines += [json.dumps(r) for r in rows[at_line - 1 : at_line + 2]]
    text = "\n".join(lines) + "\n"
    if gz:
        path = tmp_path / "HumanEval.jsonl.gz"
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path = tmp_path / "mbpp.jsonl"
        path.write_text(text)
    return path


def _changed(row: dict, **changes) -> dict:
    row = dict(row)
    for key, value in changes.items():
        if value is ...:
            del row[key]
        else:
            row[key] = value
    return row


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"entry_point": ...}, "entry_point"),
        ({"entry_point": "not a name"}, "entry_point"),
        ({"test": 3}, "test"),
        ({"test": "def check(candidate):\n    assert ("}, "test"),
        ({"prompt": ""}, "prompt"),
    ],
)
def test_a_malformed_humaneval_row_names_file_line_and_field(tmp_path, changes, field):
    path = _bad_file(tmp_path, HUMANEVAL_ROWS, _changed(HUMANEVAL_ROWS[4], **changes), at_line=3, gz=True)
    with pytest.raises(InputFileError) as e:
        load_problems([path])
    assert (e.value.path, e.value.line, e.value.field) == (str(path), 3, field)
    assert str(e.value).startswith(f"{path}:3: field '{field}': ") and "\n" not in str(e.value)


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"task_id": "eleven"}, "task_id"),
        ({"code": ...}, "code"),
        ({"test_list": []}, "test_list"),
        ({"test_list": ["assert f(1) ==", "assert f(2) == 2"]}, "test_list[0]"),
        ({"test_list": ["assert nothing_defined(1) == 1"]}, "test_list[0]"),
        ({"test_setup_code": ["x = 1"]}, "test_setup_code"),
        ({"challenge_test_list": "assert f(1)"}, "challenge_test_list"),
        ({"code": "def f(:\n  pass"}, "code"),
    ],
)
def test_a_malformed_mbpp_row_names_file_line_and_field(tmp_path, changes, field):
    path = _bad_file(tmp_path, MBPP_ROWS, _changed(MBPP_ROWS[20], **changes), at_line=2)
    with pytest.raises(InputFileError) as e:
        load_problems([path])
    assert (e.value.path, e.value.line, e.value.field) == (str(path), 2, field)
    assert "\n" not in str(e.value)


def test_a_gz_file_that_is_not_gzip_is_a_one_line_error(tmp_path):
    path = tmp_path / "HumanEval.jsonl.gz"
    path.write_bytes(b"not gzip at all\n")
    with pytest.raises(InputFileError) as e:
        load_problems([path])
    assert str(e.value).startswith(str(path)) and "\n" not in str(e.value)


def _run(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    from solver.cli import main

    monkeypatch.setattr(sys, "argv", ["rsa-code", "problems", *map(str, args)])
    with pytest.raises(SystemExit) as e:
        main()
    out, err = capsys.readouterr()
    return e.value.code or 0, out, err


def test_the_problems_command_takes_split(monkeypatch, capsys, tmp_path):
    code, out, err = _run(monkeypatch, capsys, MBPP, "--split", "test", "--json")
    assert code == 0, err
    assert json.loads(out)["count"] == 500
    code, out, err = _run(monkeypatch, capsys, HUMANEVAL, MBPP)
    assert code == 0 and "1138 problems" in out and "assertion 1138" in out
    bad = _bad_file(tmp_path, MBPP_ROWS, _changed(MBPP_ROWS[0], task_id="x"), at_line=1)
    code, out, err = _run(monkeypatch, capsys, bad)
    assert code == 2 and err.strip().startswith(f"error: {bad}:1: field 'task_id'") and len(err.strip().splitlines()) == 1
