"""Problem files a person writes: YAML, JSON, Markdown with YAML front matter, or JSONL rows
with the same keys. Every error names the file, the line and the field."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from json.decoder import scanstring
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictStr, ValidationError

from problems.errors import InputFileError
from problems.models import Difficulty, Problem, TestCase

FORMAT_HELP = """\
# Problem files

A problem file is YAML (`.yaml`, `.yml`), JSON (`.json`) or Markdown (`.md`); a `.jsonl`
file holds one problem per line with the same keys as JSON. Keys:

| key | | meaning |
|---|---|---|
| `id` | optional | defaults to the file name without extension (required in `.jsonl` rows) |
| `title` | optional | |
| `statement` | required | the problem text the model sees |
| `kind` | required | `stdin` (read stdin, write stdout) or `functional` (a method called with arguments) |
| `starter_code` | optional | e.g. `class Solution:` with the method's signature |
| `func_name` | functional only | the method the tests call |
| `tests` | optional | public tests: a list of `{input, output}` (strings) |
| `hidden_tests` | optional | tests used for grading only, never shown to the model |
| `platform`, `difficulty` (easy, medium, hard), `contest_date` (`2024-05-01`), `license` | optional | metadata |

Unknown keys are errors. Test inputs and outputs are strings: quote numbers (`output: "7"`)
or use a YAML block (`input: |`). A functional test's `input` is one JSON value per line
(the arguments in order) and its `output` one JSON value, as in LiveCodeBench; a final
newline is dropped.

```yaml
kind: functional
title: Two Sum
statement: Return the indices of the two numbers in nums that add up to target.
func_name: twoSum
starter_code: |
  class Solution:
      def twoSum(self, nums: List[int], target: int) -> List[int]:
tests:
  - input: |
      [2, 7, 11, 15]
      9
    output: "[0, 1]"
```

## Markdown

YAML front matter between `---` lines holds the keys (not `statement`, `tests`,
`hidden_tests`, `starter_code`); the body is the statement. Fenced blocks tagged `input` and
`output` pair up, in order, as public tests and stay in the statement; `hidden-input` /
`hidden-output` blocks are hidden tests and are removed from it; one `python` block is the
starter code and is removed from it.

    ---
    kind: stdin
    title: A + B
    ---
    Read two integers and print their sum.

    ```input
    3 4
    ```

    ```output
    7
    ```

    ```hidden-input
    -5 5
    ```

    ```hidden-output
    0
    ```
"""

# Where a key lives in Markdown files: the front matter may not hold these.
_MARKDOWN_BODY_KEYS = {
    "statement": "the statement is the Markdown body",
    "tests": "public tests are ```input / ```output blocks in the body",
    "hidden_tests": "hidden tests are ```hidden-input / ```hidden-output blocks in the body",
    "starter_code": "the starter code is a ```python block in the body",
}

# A path into the loaded data, as pydantic reports it: ("tests", 0, "output").
Loc = tuple[str | int, ...]


def _iso_datetime(value: Any) -> Any:
    # Dates only from dates or ISO strings: pydantic alone would read 20240501 as a timestamp.
    if isinstance(value, datetime) or value is None:
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not an ISO date such as 2024-05-01")


class _FileTest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: StrictStr
    output: StrictStr


class _ProblemFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: StrictStr = Field(min_length=1)
    title: StrictStr = ""
    statement: StrictStr = Field(min_length=1)
    kind: Literal["stdin", "functional"]  # assertion problems come from HumanEval and MBPP files
    starter_code: StrictStr = ""
    func_name: StrictStr | None = None
    tests: list[_FileTest] = []
    hidden_tests: list[_FileTest] = []
    platform: StrictStr | None = None
    difficulty: Difficulty | None = None
    contest_date: Annotated[datetime | None, BeforeValidator(_iso_datetime)] = None
    license: StrictStr | None = None


def read_problem_file(path: Path, source: str) -> Problem:
    """One problem from a .md, .yaml/.yml or .json file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputFileError(path, f"not UTF-8 text (byte {e.start})") from None
    suffix = path.suffix.lower()
    if suffix == ".md":
        data, lines = _read_markdown(text, path)
    elif suffix == ".json":
        data, lines = _read_json(text, path)
    else:
        data, lines = _read_yaml(text, path, line_offset=0)
    if not isinstance(data, dict):
        raise InputFileError(path, "must be a mapping of keys (statement, kind, tests...)", line=1)
    data.setdefault("id", path.stem)
    return _problem(data, path, lines, source)


def problem_from_row(row: dict[str, Any], path: Path, line: int, source: str) -> Problem:
    """One problem from a JSONL row written in this format (its `id` is required)."""
    if "id" not in row:
        raise InputFileError(path, "missing (a JSONL row needs its id)", line=line, field="id")
    return _problem(row, path, {(): line}, source)


def _problem(data: dict[str, Any], path: Path, lines: dict[Loc, int], source: str) -> Problem:
    def error(loc: Loc, message: str) -> InputFileError:
        return InputFileError(path, message, line=_line_of(lines, loc), field=_dotted(loc))

    try:
        spec = _ProblemFile.model_validate(data)
    except ValidationError as e:
        first, *rest = e.errors(include_url=False)
        message = _MESSAGES.get(first["type"], first["msg"].removeprefix("Value error, "))
        if rest:
            others = ", ".join(f"{_dotted(tuple(r['loc']))} (line {_line_of(lines, tuple(r['loc']))})" for r in rest)
            message += f"; also wrong: {others}"
        raise error(tuple(first["loc"]), message) from None
    if spec.kind == "functional" and not spec.func_name:
        message = "a functional problem needs func_name (the method its tests call)"
        raise InputFileError(path, message, line=_line_of(lines, ("kind",)), field="func_name")
    if spec.kind == "stdin" and spec.func_name:
        raise error(("func_name",), "a stdin problem has no func_name; did you mean kind: functional?")
    groups = {}
    for group in ("tests", "hidden_tests"):
        tests = getattr(spec, group)
        if spec.kind == "functional":
            tests = [_functional_test(t, (group, i), error) for i, t in enumerate(tests)]
        groups[group] = tuple(TestCase(input=t.input, output=t.output) for t in tests)
    return Problem(
        id=spec.id,
        title=spec.title,
        statement=spec.statement,
        kind=spec.kind,
        starter_code=spec.starter_code,
        func_name=spec.func_name,
        public_tests=groups["tests"],
        hidden_tests=groups["hidden_tests"],
        platform=spec.platform,
        difficulty=spec.difficulty,
        contest_date=spec.contest_date,
        source=source,
        license=spec.license,
    )


_MESSAGES = {
    "missing": "required but missing",
    "extra_forbidden": "unknown key (known: " + ", ".join(_ProblemFile.model_fields) + ")",
    "string_type": "must be a string (quote it; in YAML a | block works too)",
}


def _functional_test(test: _FileTest, loc: Loc, error: Any) -> _FileTest:
    """The test with its final newline dropped, after checking the input is one JSON value
    per line and the output one JSON value."""
    args, output = test.input.rstrip("\n"), test.output.rstrip("\n")
    for n, arg in enumerate(args.split("\n") if args else [], start=1):
        try:
            json.loads(arg)
        except json.JSONDecodeError as e:
            raise error(
                (*loc, "input"),
                f"line {n} is not a JSON value ({e.msg}): a functional test's input is one JSON value per line, the arguments in order",
            ) from None
    try:
        json.loads(output)
    except json.JSONDecodeError as e:
        raise error((*loc, "output"), f"not a JSON value ({e.msg}): a functional test's output is one JSON value") from None
    return _FileTest(input=args, output=output)


def _line_of(lines: dict[Loc, int], loc: Loc) -> int | None:
    """The line of the deepest known part of `loc` (a missing key points at its parent)."""
    for n in range(len(loc), -1, -1):
        if loc[:n] in lines:
            return lines[loc[:n]]
    return None


def _dotted(loc: Loc) -> str | None:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or None


# ---- YAML ------------------------------------------------------------------------------


def _read_yaml(text: str, path: Path, line_offset: int) -> tuple[Any, dict[Loc, int]]:
    """The data of one YAML document and the line of every key and item in it."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise InputFileError(path, "is empty", line=line_offset + 1)
        lines: dict[Loc, int] = {}
        _yaml_lines(node, (), lines, path, line_offset, set())
        return loader.construct_document(node), lines
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 + line_offset if mark else None
        raise InputFileError(path, f"not valid YAML: {e.problem or e.context}", line=line) from None
    except yaml.YAMLError as e:
        raise InputFileError(path, f"not valid YAML: {e}") from None
    finally:
        loader.dispose()


def _yaml_lines(node: yaml.Node, loc: Loc, lines: dict[Loc, int], path: Path, offset: int, seen: set[int]) -> None:
    lines.setdefault(loc, node.start_mark.line + 1 + offset)
    if id(node) in seen:  # an alias: walked already (and anchors may be recursive)
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        keys = set()
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            if name in keys:
                line = key.start_mark.line + 1 + offset
                raise InputFileError(path, "duplicate key", line=line, field=_dotted((*loc, name)))
            keys.add(name)
            lines[(*loc, name)] = key.start_mark.line + 1 + offset
            _yaml_lines(value, (*loc, name), lines, path, offset, seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _yaml_lines(item, (*loc, i), lines, path, offset, seen)


# ---- JSON ------------------------------------------------------------------------------

_WHITESPACE = re.compile(r"[ \t\n\r]*")


def _read_json(text: str, path: Path) -> tuple[Any, dict[Loc, int]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputFileError(path, f"not valid JSON: {e.msg} (column {e.colno})", line=e.lineno) from None
    offsets: dict[Loc, int] = {}
    _json_offsets(text, 0, (), offsets, path)
    return data, {loc: text.count("\n", 0, at) + 1 for loc, at in offsets.items()}


def _json_offsets(text: str, at: int, loc: Loc, offsets: dict[Loc, int], path: Path) -> int:
    """Walks valid JSON from `at`, recording where each value starts; returns where it ends."""
    at = _WHITESPACE.match(text, at).end()
    offsets[loc] = at
    opener = text[at]
    if opener not in "{[":
        return json.JSONDecoder().raw_decode(text, at)[1]
    closer, at, index = ("}" if opener == "{" else "]"), at + 1, 0
    while True:
        at = _WHITESPACE.match(text, at).end()
        if text[at] == closer:
            return at + 1
        if text[at] == ",":
            at = _WHITESPACE.match(text, at + 1).end()
        if opener == "{":
            key, after = scanstring(text, at + 1)
            if (*loc, key) in offsets:
                line = text.count("\n", 0, at) + 1
                raise InputFileError(path, "duplicate key", line=line, field=_dotted((*loc, key)))
            at = _WHITESPACE.match(text, after).end() + 1  # past the ':'
            at = _json_offsets(text, at, (*loc, key), offsets, path)
        else:
            at = _json_offsets(text, at, (*loc, index), offsets, path)
            index += 1


# ---- Markdown --------------------------------------------------------------------------

_FENCE = re.compile(r"(`{3,}|~{3,})\s*(\S*).*")
_TEST_TAGS = ("input", "output", "hidden-input", "hidden-output")
_REMOVED_TAGS = ("hidden-input", "hidden-output", "python")


def _read_markdown(text: str, path: Path) -> tuple[dict[str, Any], dict[Loc, int]]:
    rows = text.split("\n")
    if rows[0].rstrip() != "---":
        raise InputFileError(path, "a Markdown problem starts with YAML front matter: a line '---', keys such as kind, then '---'", line=1)
    end = next((i for i in range(1, len(rows)) if rows[i].rstrip() in ("---", "...")), None)
    if end is None:
        raise InputFileError(path, "the front matter opened here is never closed with '---'", line=1)
    front_text = "\n".join(rows[1:end])
    data, lines = _read_yaml(front_text, path, line_offset=1) if front_text.strip() else ({}, {})
    if not isinstance(data, dict):
        raise InputFileError(path, "the front matter must be a mapping of keys (id, kind, ...)", line=2)
    for key, where in _MARKDOWN_BODY_KEYS.items():
        if key in data:
            raise InputFileError(path, f"not allowed in the front matter: {where}", line=lines[(key,)], field=key)
    lines[()] = 1

    kept: list[str] = []  # the statement: the body without the removed blocks
    blocks: list[tuple[str, str, int]] = []  # (tag, content, line)
    i = end + 1
    while i < len(rows):
        fence = _FENCE.fullmatch(rows[i])
        if not fence:
            kept.append(rows[i])
            i += 1
            continue
        marker, tag = fence[1], fence[2]
        closing = re.compile(re.escape(marker[0]) + f"{{{len(marker)},}}[ \t]*")
        close = next((j for j in range(i + 1, len(rows)) if closing.fullmatch(rows[j])), None)
        if close is None:
            raise InputFileError(path, f"the code block opened here is never closed with {marker}", line=i + 1)
        if tag in _TEST_TAGS or tag == "python":
            blocks.append((tag, "".join(row + "\n" for row in rows[i + 1 : close]), i + 1))
        if tag in _REMOVED_TAGS:
            # Take one blank line with the block, so no gap of two is left behind.
            if (not kept or not kept[-1].strip()) and close + 1 < len(rows) and not rows[close + 1].strip():
                close += 1
        else:
            kept.extend(rows[i : close + 1])
        i = close + 1
    data["statement"] = "\n".join(kept).strip()
    lines[("statement",)] = end + 2

    pending: dict[str, tuple[str, int] | None] = {"tests": None, "hidden_tests": None}
    for tag, content, line in blocks:
        if tag == "python":
            if "starter_code" in data:
                raise InputFileError(
                    path, "a second ```python block: only one is allowed (the starter code)", line=line, field="starter_code"
                )
            data["starter_code"] = content
            lines[("starter_code",)] = line
            continue
        group = "hidden_tests" if tag.startswith("hidden-") else "tests"
        prefix = "hidden-" if group == "hidden_tests" else ""
        waiting = pending[group]
        if tag.endswith("input"):
            if waiting is not None:
                raise InputFileError(path, f"this ```{prefix}input block has no ```{prefix}output block after it", line=waiting[1])
            pending[group] = (content, line)
            continue
        if waiting is None:
            raise InputFileError(path, f"this ```{prefix}output block has no ```{prefix}input block before it", line=line)
        tests = data.setdefault(group, [])
        loc = (group, len(tests))
        lines[loc] = lines[(*loc, "input")] = waiting[1]
        lines[(*loc, "output")] = line
        tests.append({"input": waiting[0], "output": content})
        pending[group] = None
    for group, waiting in pending.items():
        if waiting is not None:
            prefix = "hidden-" if group == "hidden_tests" else ""
            raise InputFileError(path, f"this ```{prefix}input block has no ```{prefix}output block after it", line=waiting[1])
    return data, lines
