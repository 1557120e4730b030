"""Hand-written problem files (YAML, JSON, Markdown, JSONL rows): what they load to, and
errors that name file, line and field."""

from __future__ import annotations

import json
import textwrap
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from problems import InputFileError, ProblemFilter, TestCase, load_problems
from tests.conftest import LCB_V1_PUBLIC


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def _error(path: Path) -> InputFileError:
    with pytest.raises(InputFileError) as e:
        load_problems([path])
    assert e.value.path == str(path)
    return e.value


# ---- what a good file loads to ----------------------------------------------------------

YAML_PROBLEM = """
    title: Add
    kind: functional
    func_name: add
    statement: Return a + b.
    starter_code: |
      class Solution:
          def add(self, a: int, b: int) -> int:
    tests:
      - input: |
          1
          2
        output: "3"
    hidden_tests:
      - {input: "-1\\n1", output: "0"}
    platform: mine
    difficulty: easy
    contest_date: 2024-05-01
    license: MIT
"""


def test_a_yaml_file(tmp_path):
    (p,) = load_problems([_write(tmp_path, "add.yaml", YAML_PROBLEM)])
    assert p.id == "add" and p.title == "Add" and p.kind == "functional" and p.func_name == "add"
    assert p.statement == "Return a + b." and p.starter_code.startswith("class Solution:")
    assert p.public_tests == (TestCase(input="1\n2", output="3"),)  # final newline dropped (functional)
    assert p.hidden_tests == (TestCase(input="-1\n1", output="0"),)
    assert (p.platform, p.difficulty, p.license) == ("mine", "easy", "MIT")
    assert p.contest_date == datetime(2024, 5, 1) and p.source == "add.yaml"


def test_a_json_file_with_the_same_content_loads_the_same(tmp_path):
    data = yaml.safe_load(textwrap.dedent(YAML_PROBLEM))
    data["contest_date"] = "2024-05-01"
    (from_yaml,) = load_problems([_write(tmp_path, "add.yaml", YAML_PROBLEM)])
    (from_json,) = load_problems([_write(tmp_path, "add.json", json.dumps(data, indent=2))])
    assert from_json == from_yaml.model_copy(update={"source": "add.json"})


MARKDOWN_PROBLEM = """
    ---
    id: sum-two
    title: Sum
    kind: stdin
    ---
    Print a + b.

    ```input
    1 2
    ```

    ```output
    3
    ```

    ```hidden-input
    5 5
    ```

    ```hidden-output
    10
    ```

    Notes at the end.
"""


def test_a_markdown_file(tmp_path):
    (p,) = load_problems([_write(tmp_path, "whatever.md", MARKDOWN_PROBLEM)])
    assert p.id == "sum-two" and p.title == "Sum" and p.kind == "stdin"
    assert p.public_tests == (TestCase(input="1 2\n", output="3\n"),)
    assert p.hidden_tests == (TestCase(input="5 5\n", output="10\n"),)
    assert p.statement == "Print a + b.\n\n```input\n1 2\n```\n\n```output\n3\n```\n\nNotes at the end."


def test_a_markdown_python_block_is_the_starter_code(tmp_path):
    path = _write(
        tmp_path,
        "f.md",
        """
        ---
        kind: functional
        func_name: f
        ---
        Return twice x.

        ```python
        class Solution:
            def f(self, x: int) -> int:
        ```

        ```input
        4
        ```

        ```output
        8
        ```

        ````text
        ```input
        not a test: inside another block
        ```
        ````
        """,
    )
    (p,) = load_problems([path])
    assert p.starter_code == "class Solution:\n    def f(self, x: int) -> int:\n"
    assert "class Solution" not in p.statement and "not a test" in p.statement
    assert p.public_tests == (TestCase(input="4", output="8"),) and p.id == "f"


def test_jsonl_rows_in_this_format_and_livecodebench_rows_mix(tmp_path):
    ours = {"id": "mine-1", "kind": "stdin", "statement": "Echo.", "tests": [{"input": "a\n", "output": "a\n"}]}
    lcb_row = LCB_V1_PUBLIC.read_text().splitlines()[0]
    path = _write(tmp_path, "mixed.jsonl", json.dumps(ours) + "\n" + lcb_row + "\n")
    first, second = load_problems([path])
    assert (first.id, first.source) == ("mine-1", "mixed.jsonl")
    assert (second.id, second.source) == ("1873_A", "livecodebench:mixed.jsonl")
    ours.pop("id")
    path.write_text(lcb_row + "\n" + json.dumps(ours) + "\n")
    e = _error(path)
    assert (e.line, e.field) == (2, "id")


def test_a_directory_of_problem_files_skips_readme(tmp_path):
    _write(tmp_path, "b.yaml", YAML_PROBLEM)
    _write(tmp_path, "a.md", MARKDOWN_PROBLEM)
    _write(tmp_path, "README.md", "# my problems\n")
    _write(tmp_path, "notes.txt", "ignored\n")
    assert [p.id for p in load_problems([tmp_path])] == ["sum-two", "b"]  # sorted by file name


def test_duplicate_ids_across_files_name_both(tmp_path):
    _write(tmp_path, "one.md", MARKDOWN_PROBLEM)
    _write(tmp_path, "two.md", MARKDOWN_PROBLEM)
    with pytest.raises(InputFileError) as e:
        load_problems([tmp_path])
    assert (e.value.path, e.value.field) == (str(tmp_path / "two.md"), "id")
    assert str(tmp_path / "one.md") in e.value.message


def test_paths_that_are_nothing_known(tmp_path):
    with pytest.raises(InputFileError, match="nor a bundled example"):
        load_problems([tmp_path / "absent.yaml"])
    with pytest.raises(InputFileError, match="unknown kind of file"):
        load_problems([_write(tmp_path, "p.txt", "x")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputFileError, match="holds no"):
        load_problems([tmp_path / "empty"])


def test_filters_apply_to_problem_files(tmp_path):
    path = _write(tmp_path, "add.yaml", YAML_PROBLEM)
    assert load_problems([path], ProblemFilter(kinds={"stdin"})) == []
    assert len(load_problems([path], ProblemFilter(platforms={"MINE"}, difficulties={"easy"}))) == 1


# ---- errors, with their lines ------------------------------------------------------------


@pytest.mark.parametrize(
    "text, line, field, words",
    [
        ("kind: stdin\nstatement: s\ntitel: typo\n", 3, "titel", "unknown key"),
        ("statement: s\ntitle: t\n", 1, "kind", "required"),
        ("kind: stdin\nstatement: s\ntests:\n  - input: '1'\n    output: 1\n", 5, "tests[0].output", "must be a string"),
        ("kind: stdin\nstatement: s\ntests:\n  - input: '1'\n  - input: '2'\n    output: '2'\n", 4, "tests[0].output", "required"),
        ("kind: stdio\nstatement: s\n", 1, "kind", "'stdin' or 'functional'"),
        ("kind: stdin\nstatement: ''\n", 2, "statement", "at least 1 character"),
        ("kind: stdin\nstatement: s\ncontest_date: 20240501\n", 3, "contest_date", "not an ISO date"),
        ("kind: stdin\nstatement: s\nid: 12\n", 3, "id", "must be a string"),
        ("kind: stdin\nstatement: s\nkind: functional\n", 3, "kind", "duplicate key"),
        ("kind: stdin\nstatement: s\nfunc_name: f\n", 3, "func_name", "no func_name"),
        ("statement: s\nkind: functional\n", 2, "func_name", "needs func_name"),
        ("kind: stdin\nstatement: [unclosed\n", 3, None, "not valid YAML"),
        ("- kind: stdin\n", 1, None, "must be a mapping"),
        ("", 1, None, "is empty"),
    ],
)
def test_yaml_errors(tmp_path, text, line, field, words):
    e = _error(_write(tmp_path, "p.yaml", text))
    assert (e.line, e.field) == (line, field) and words in e.message


def test_functional_tests_must_be_json_lines(tmp_path):
    text = 'kind: functional\nfunc_name: f\nstatement: s\nhidden_tests:\n  - input: "1"\n    output: "1"\n  - input: "[1,\\n2"\n    output: "1"\n'  # noqa: E501
    e = _error(_write(tmp_path, "p.yaml", text))
    assert (e.line, e.field) == (7, "hidden_tests[1].input") and "line 1 is not a JSON value" in e.message
    text = 'kind: functional\nfunc_name: f\nstatement: s\ntests:\n  - input: "1"\n    output: "yes"\n'
    e = _error(_write(tmp_path, "p.yaml", text))
    assert (e.line, e.field) == (6, "tests[0].output")


@pytest.mark.parametrize(
    "text, line, field, words",
    [
        ('{\n  "kind": "stdin",\n  "statement": "s",\n  "titel": "t"\n}', 4, "titel", "unknown key"),
        ('{\n  "kind": "stdin",\n  "statement": "s"\n  "title": "t"\n}', 4, None, "not valid JSON"),
        ('{\n  "kind": "stdin",\n  "statement": "s",\n  "kind": "stdin"\n}', 4, "kind", "duplicate key"),
        (
            '{"kind": "stdin", "statement": "s",\n "tests": [\n  {"input": "1", "output": "1"},\n  {"input": "1",\n   "output": [1]}]}',
            5,
            "tests[1].output",
            "must be a string",
        ),
        ('{"statement": "s"}', 1, "kind", "required"),
        ('[{"kind": "stdin"}]', 1, None, "must be a mapping"),
    ],
)
def test_json_errors(tmp_path, text, line, field, words):
    e = _error(_write(tmp_path, "p.json", text))
    assert (e.line, e.field) == (line, field) and words in e.message


@pytest.mark.parametrize(
    "text, line, field, words",
    [
        ("Just text.\n", 1, None, "starts with YAML front matter"),
        ("---\nkind: stdin\nNo closing line.\n", 1, None, "never closed"),
        ("---\nkind: stdin\ntitel: x\n---\nBody.\n", 3, "titel", "unknown key"),
        ("---\ntitle: x\n\nkind: stdio\n---\nBody.\n", 4, "kind", "'stdin' or 'functional'"),
        ("---\nkind: stdin\ntests: []\n---\nBody.\n", 3, "tests", "not allowed in the front matter"),
        ("---\nkind: stdin\n---\n\n", 4, "statement", "at least 1 character"),
        ("---\nkind: stdin\n---\nBody.\n\n```input\n1\n", 6, None, "never closed"),
        ("---\nkind: stdin\n---\nBody.\n```output\n1\n```\n", 5, None, "has no ```input block before it"),
        ("---\nkind: stdin\n---\nBody.\n```input\n1\n```\n```input\n2\n```\n", 5, None, "no ```output block after it"),
        ("---\nkind: stdin\n---\nBody.\n```hidden-input\n1\n```\n", 5, None, "no ```hidden-output block after it"),
        (
            "---\nkind: stdin\n---\nBody.\n```python\na\n```\n```python\nb\n```\n",
            8,
            "starter_code",
            "a second ```python block",
        ),
        (
            "---\nkind: functional\nfunc_name: f\n---\nBody.\n\n```input\n1\n```\n\n```output\nnot json\n```\n",
            11,
            "tests[0].output",
            "not a JSON value",
        ),
        ("---\nkind: [stdin\n---\nBody.\n", 2, None, "not valid YAML"),
    ],
)
def test_markdown_errors(tmp_path, text, line, field, words):
    e = _error(_write(tmp_path, "p.md", text))
    assert (e.line, e.field) == (line, field) and words in e.message


def test_a_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_bytes(b"kind: stdin\nstatement: \xff\n")
    assert "not UTF-8" in _error(path).message


# ---- round trips ---------------------------------------------------------------------------

# Not NEL/LS/PS: PyYAML writes them raw but reads them back as line breaks.
_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x85\u2028\u2029"), max_size=30)
_tests = st.lists(st.fixed_dictionaries({"input": _text, "output": _text}), max_size=4)
_problem_data = st.fixed_dictionaries(
    {"id": _text.filter(lambda s: s != ""), "statement": _text.filter(lambda s: s != ""), "kind": st.just("stdin")},
    optional={"title": _text, "tests": _tests, "hidden_tests": _tests, "platform": _text, "license": _text},
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_problem_data, as_json=st.booleans())
def test_yaml_and_json_round_trip(tmp_path, data, as_json):
    text = json.dumps(data) if as_json else yaml.safe_dump(data, allow_unicode=True)
    (p,) = load_problems([_write(tmp_path, "p.json" if as_json else "p.yaml", text)])
    assert (p.id, p.statement, p.title, p.platform, p.license) == (
        data["id"],
        data["statement"],
        data.get("title", ""),
        data.get("platform"),
        data.get("license"),
    )
    assert [(t.input, t.output) for t in p.public_tests] == [(t["input"], t["output"]) for t in data.get("tests", [])]
    assert [(t.input, t.output) for t in p.hidden_tests] == [(t["input"], t["output"]) for t in data.get("hidden_tests", [])]


# Block contents: lines that are not fences; stdin text as a person would type it.
_block = st.lists(
    st.text(st.characters(whitelist_categories=("L", "N", "P", "Zs"), blacklist_characters="`~"), max_size=12),
    max_size=4,
).map(lambda rows: "".join(row + "\n" for row in rows))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(public=st.lists(st.tuples(_block, _block), max_size=3), hidden=st.lists(st.tuples(_block, _block), max_size=3))
def test_markdown_blocks_round_trip(tmp_path, public, hidden):
    parts = ["---\nkind: stdin\n---\nThe statement.\n"]
    for (i, o), tag in [*((t, "") for t in public), *((t, "hidden-") for t in hidden)]:
        parts.append(f"```{tag}input\n{i}```\n\n```{tag}output\n{o}```\n")
    path = tmp_path / "p.md"
    path.write_text("\n".join(parts))
    (p,) = load_problems([path])
    assert [(t.input, t.output) for t in p.public_tests] == public
    assert [(t.input, t.output) for t in p.hidden_tests] == hidden
    assert p.statement.count("```input") == len(public) and "hidden-" not in p.statement
