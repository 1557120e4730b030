"""A bad LiveCodeBench row is an error naming file, line and field; nothing is guessed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from problems import InputFileError, load_problems
from tests.conftest import LCB_FULL_TESTS_SAMPLE, LCB_V1_PUBLIC, official_encoding

STDIN_ROW = json.loads(LCB_V1_PUBLIC.read_text().splitlines()[0])  # codeforces 1873_A
FUNCTIONAL_ROW = next(r for r in map(json.loads, LCB_V1_PUBLIC.read_text().splitlines()) if r["platform"] == "leetcode")


def _file_with(tmp_path: Path, bad_row, at_line: int = 3) -> Path:
    """A file whose line `at_line` is `bad_row` (a dict or raw text) among good rows."""
    good = LCB_V1_PUBLIC.read_text().splitlines()[10:20]
    lines = good[: at_line - 1] + [bad_row if isinstance(bad_row, str) else json.dumps(bad_row)] + good[at_line - 1 :]
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def _error(tmp_path, bad_row, at_line: int = 3) -> InputFileError:
    path = _file_with(tmp_path, bad_row, at_line)
    with pytest.raises(InputFileError) as e:
        load_problems([path])
    assert e.value.path == str(path) and e.value.line == at_line
    assert str(e.value).startswith(f"{path}:{at_line}")
    return e.value


def _changed(row, **changes):
    row = dict(row)
    for key, value in changes.items():
        if value is ...:
            del row[key]
        else:
            row[key] = value
    return row


@pytest.mark.parametrize(
    "field",
    [
        "question_id",
        "question_title",
        "question_content",
        "platform",
        "contest_date",
        "difficulty",
        "starter_code",
        "public_test_cases",
        "metadata",
    ],
)
def test_a_missing_field_is_named(tmp_path, field):
    e = _error(tmp_path, _changed(STDIN_ROW, **{field: ...}))
    assert e.field == field and "missing" in e.message


def test_bad_json_names_the_line(tmp_path):
    e = _error(tmp_path, '{"question_id": "x", ', at_line=4)
    assert e.field is None and "not valid JSON" in e.message


def test_a_row_that_is_not_an_object(tmp_path):
    assert "must be a JSON object" in _error(tmp_path, "[1, 2]").message


def test_a_bad_date(tmp_path):
    e = _error(tmp_path, _changed(STDIN_ROW, contest_date="21 August 2023"))
    assert e.field == "contest_date" and "not an ISO date" in e.message


def test_a_wrong_type(tmp_path):
    e = _error(tmp_path, _changed(STDIN_ROW, question_title=7))
    assert e.field == "question_title" and "must be a string, not int" in e.message


def test_an_unknown_difficulty(tmp_path):
    e = _error(tmp_path, _changed(STDIN_ROW, difficulty="trivial"))
    assert e.field == "difficulty" and "'trivial'" in e.message


def test_mixed_testtypes_in_public_tests(tmp_path):
    tests = json.loads(STDIN_ROW["public_test_cases"]) * 3
    tests[2] = dict(tests[2], testtype="functional")
    e = _error(tmp_path, _changed(STDIN_ROW, public_test_cases=json.dumps(tests)))
    assert e.field == "public_test_cases[2].testtype" and "'functional'" in e.message and "'stdin'" in e.message


def test_hidden_tests_of_another_testtype_than_the_public_ones(tmp_path):
    hidden = [dict(t, testtype="functional") for t in json.loads(STDIN_ROW["public_test_cases"])]
    e = _error(tmp_path, _changed(STDIN_ROW, private_test_cases=json.dumps(hidden)))
    assert e.field == "private_test_cases[0].testtype"


def test_compressed_hidden_tests_with_a_mixed_testtype(tmp_path):
    row = json.loads(LCB_FULL_TESTS_SAMPLE.read_text().splitlines()[2])  # abc301_a, stdin
    tests = [{"input": "1\n", "output": "1\n", "testtype": "stdin"}, {"input": "1", "output": "1", "testtype": "functional"}]
    e = _error(tmp_path, _changed(row, private_test_cases=official_encoding(json.dumps(tests))))
    assert e.field == "private_test_cases[1].testtype"


@pytest.mark.parametrize(
    "tests, field, words",
    [
        ('{"input": "1"}', "public_test_cases", "must be a JSON list"),
        ("[1]", "public_test_cases[0]", "must be an object"),
        ('[{"input": "1", "testtype": "stdin"}]', "public_test_cases[0].output", "missing"),
        ('[{"input": 1, "output": "1", "testtype": "stdin"}]', "public_test_cases[0].input", "must be a string"),
        ('[{"input": "1", "output": "1", "testtype": "stdio"}]', "public_test_cases[0].testtype", "'stdio'"),
        ("[{", "public_test_cases", "not JSON"),
        ("[]", "public_test_cases", "no tests"),
    ],
)
def test_malformed_tests(tmp_path, tests, field, words):
    e = _error(tmp_path, _changed(STDIN_ROW, public_test_cases=tests))
    assert e.field == field and words in e.message


def test_a_functional_row_needs_func_name(tmp_path):
    e = _error(tmp_path, _changed(FUNCTIONAL_ROW, metadata="{}"))
    assert e.field == "metadata.func_name"
    e = _error(tmp_path, _changed(FUNCTIONAL_ROW, metadata="{oops"))
    assert e.field == "metadata" and "not JSON" in e.message


def test_an_empty_or_corrupt_private_field(tmp_path):
    e = _error(tmp_path, _changed(STDIN_ROW, private_test_cases=""))
    assert e.field == "private_test_cases" and "is empty" in e.message
    e = _error(tmp_path, _changed(STDIN_ROW, private_test_cases="eJz!!"))
    assert e.field == "private_test_cases" and "base64" in e.message
    e = _error(tmp_path, _changed(STDIN_ROW, private_test_cases=5))
    assert e.field == "private_test_cases" and "must be a string" in e.message


def test_a_null_private_field_means_no_hidden_tests(tmp_path):
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(_changed(STDIN_ROW, private_test_cases=None)) + "\n")
    assert load_problems([path])[0].hidden_tests == ()


def test_a_duplicate_key(tmp_path):
    text = json.dumps(STDIN_ROW)[:-1] + ', "platform": "atcoder"}'
    e = _error(tmp_path, text)
    assert e.field == "platform" and "duplicate key" in e.message


def test_a_license_field_is_kept_and_other_fields_are_ignored(tmp_path):
    path = tmp_path / "one.jsonl"
    path.write_text("\n" + json.dumps(_changed(STDIN_ROW, license="CC-BY-4.0", extra_note="x")) + "\n\n")
    (p,) = load_problems([path])
    assert p.license == "CC-BY-4.0" and p.id == STDIN_ROW["question_id"]


def test_invalid_utf8_names_the_line(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_bytes(LCB_V1_PUBLIC.read_bytes().split(b"\n", 2)[0] + b"\n" + b'{"question_id": "\xff"}\n')
    with pytest.raises(InputFileError) as e:
        load_problems([path])
    assert e.value.line == 2 and "not UTF-8" in e.value.message


def test_row_order_is_kept_and_blank_lines_are_skipped(tmp_path):
    lines = LCB_V1_PUBLIC.read_text().splitlines()[:4]
    path = tmp_path / "rows.jsonl"
    path.write_text("\n\n".join(reversed(lines)) + "\n")
    assert [p.id for p in load_problems([path])] == [json.loads(line)["question_id"] for line in reversed(lines)]
