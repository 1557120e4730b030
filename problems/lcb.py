"""LiveCodeBench `code_generation_lite` rows -> Problem, the releases as files, and the safe
decoding of the compressed `private_test_cases` field."""

from __future__ import annotations

import base64
import binascii
import io
import json
import pickle
import pickletools
import re
import zlib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from problems.errors import InputFileError
from problems.models import Kind, Problem, TestCase

# The files of the official dataset, in release order (release_vN = the first N).
LCB_FILE_NAMES = ("test.jsonl", "test2.jsonl", "test3.jsonl", "test4.jsonl", "test5.jsonl", "test6.jsonl")

# A decoded hidden-test field larger than this is refused: a zip bomb is an error, not an OOM.
# Read at call time so tests and users can lower it.
MAX_DECODED_BYTES = 1 << 30

# The fields every official row has and this loader reads (`contest_id` is not used;
# `private_test_cases` and `license` are optional; other fields are ignored).
_REQUIRED_FIELDS = (
    "question_id",
    "question_title",
    "question_content",
    "platform",
    "contest_date",
    "difficulty",
    "starter_code",
    "public_test_cases",
    "metadata",
)
_DIFFICULTIES = ("easy", "medium", "hard")
_KINDS = ("stdin", "functional")

# Everything a pickled str needs, at any protocol (0: UNICODE + PUT; 1-3: BINUNICODE + BINPUT;
# 4-5: FRAME, SHORT_BINUNICODE, MEMOIZE). Nothing that can name a global or call anything.
_STR_PICKLE_OPCODES = frozenset(
    {
        "PROTO",
        "FRAME",
        "STOP",
        "UNICODE",
        "BINUNICODE",
        "SHORT_BINUNICODE",
        "BINUNICODE8",
        "PUT",
        "BINPUT",
        "LONG_BINPUT",
        "MEMOIZE",
    }
)


def release_files(release: str) -> tuple[str, ...]:
    """The files a release name selects, as the official loading script of
    livecodebench/code_generation_lite defines them."""
    n = len(LCB_FILE_NAMES)
    if release == "release_latest":
        return LCB_FILE_NAMES
    if m := re.fullmatch(r"release_v(\d+)", release):
        if 1 <= int(m[1]) <= n:
            return LCB_FILE_NAMES[: int(m[1])]
    elif m := re.fullmatch(r"v(\d+)", release):
        if 1 <= int(m[1]) <= n:
            return (LCB_FILE_NAMES[int(m[1]) - 1],)
    elif m := re.fullmatch(r"v(\d+)_v(\d+)", release):
        a, b = int(m[1]), int(m[2])
        if 1 <= a < b <= n:
            return LCB_FILE_NAMES[a - 1 : b]
    raise ValueError(
        f"unknown release {release!r}: use release_v1 .. release_v{n}, release_latest, "
        f"v1 .. v{n} (one file) or vA_vB with A < B (files A to B)"
    )


class _RefuseGlobals(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refused to load {module}.{name}: only a str may be unpickled")


def decode_private_tests(text: str, max_bytes: int | None = None) -> str:
    """The JSON string inside the official `base64(zlib(pickle(json_string)))` encoding,
    decoded without running pickled code. Raises ValueError on anything else."""
    limit = MAX_DECODED_BYTES if max_bytes is None else max_bytes
    try:
        compressed = base64.b64decode(text, validate=True)
    except binascii.Error as e:
        raise ValueError(f"neither a JSON list nor base64 ({e})") from None
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(compressed, limit + 1)
    except zlib.error as e:
        raise ValueError(f"base64 but not zlib data ({e})") from None
    if len(data) > limit:
        raise ValueError(f"decompresses to more than {limit} bytes; refused (a zip bomb?)")
    if not inflater.eof or inflater.unused_data:
        raise ValueError("the zlib stream is truncated or followed by other data")
    pos = -1
    try:
        for opcode, _arg, pos in pickletools.genops(data):
            if opcode.name not in _STR_PICKLE_OPCODES:
                raise ValueError(f"pickle opcode {opcode.name} at byte {pos} refused: the field may only hold a pickled str")
        if pos != len(data) - 1:
            raise ValueError("data after the end of the pickle")
        value = _RefuseGlobals(io.BytesIO(data)).load()
    except (ValueError, EOFError, pickle.UnpicklingError) as e:
        raise ValueError(f"not a pickled str ({e})") from None
    if not isinstance(value, str):
        raise ValueError(f"the pickle holds a {type(value).__name__}, not a str")
    return value


def lcb_problem(row: dict[str, Any], path: Path, line: int, keep: Callable[[Problem], bool]) -> Problem | None:
    """The Problem of one LiveCodeBench row, or None when `keep` rejects it. `keep` sees the
    problem before its hidden tests are decoded, so filtered-out rows cost no decoding."""

    def error(field: str, message: str) -> InputFileError:
        return InputFileError(path, message, line=line, field=field)

    for name in _REQUIRED_FIELDS:
        if name not in row:
            raise error(name, "missing (every LiveCodeBench row has it)")
        if not isinstance(row[name], str):
            raise error(name, f"must be a string, not {type(row[name]).__name__}")
    for name in ("question_id", "question_content", "platform"):
        if not row[name].strip():
            raise error(name, "is empty")
    if row["difficulty"] not in _DIFFICULTIES:
        raise error("difficulty", f"is {row['difficulty']!r}; expected one of {', '.join(_DIFFICULTIES)}")
    license_ = row.get("license")
    if license_ is not None and not isinstance(license_, str):
        raise error("license", f"must be a string, not {type(license_).__name__}")
    try:
        contest_date = datetime.fromisoformat(row["contest_date"])
    except ValueError:
        raise error("contest_date", f"{row['contest_date']!r} is not an ISO date") from None

    public, kind = _tests(row["public_test_cases"], "public_test_cases", None, error)
    private = row.get("private_test_cases")
    if private is not None and not isinstance(private, str):
        raise error("private_test_cases", f"must be a string, not {type(private).__name__}")
    hidden: list[TestCase] | None = None
    if kind is None:  # no public tests: only the hidden ones can tell the kind
        hidden, kind = _hidden_tests(private, None, error)
    if kind is None:
        raise error("public_test_cases", "the row has no tests, so its kind (stdin or functional) is unknown")

    func_name = None
    if kind == "functional":
        try:
            metadata = json.loads(row["metadata"])
        except json.JSONDecodeError as e:
            raise error("metadata", f"not JSON ({e})") from None
        func_name = metadata.get("func_name") if isinstance(metadata, dict) else None
        if not isinstance(func_name, str) or not func_name:
            raise error("metadata.func_name", "a functional problem needs the name of the method its tests call")

    problem = Problem(
        id=row["question_id"],
        title=row["question_title"],
        statement=row["question_content"],
        kind=kind,
        starter_code=row["starter_code"],
        func_name=func_name,
        public_tests=public,
        platform=row["platform"],
        difficulty=row["difficulty"],
        contest_date=contest_date,
        source=f"livecodebench:{path.name}",
        license=license_,
    )
    if not keep(problem):
        return None
    if hidden is None:
        hidden, _ = _hidden_tests(private, kind, error)
    return problem.model_copy(update={"hidden_tests": tuple(hidden)}) if hidden else problem


def _hidden_tests(
    private: str | None, kind: Kind | None, error: Callable[[str, str], InputFileError]
) -> tuple[list[TestCase], Kind | None]:
    if private is None:
        return [], kind
    if not private.strip():
        raise error("private_test_cases", "is empty; leave it out (or null) when there are no hidden tests")
    if private.lstrip().startswith("["):  # plain JSON, as some copies of the dataset store it
        return _tests(private, "private_test_cases", kind, error)
    try:
        decoded = decode_private_tests(private)
    except ValueError as e:
        raise error("private_test_cases", str(e)) from None
    return _tests(decoded, "private_test_cases", kind, error)


def _tests(text: str, field: str, kind: Kind | None, error: Callable[[str, str], InputFileError]) -> tuple[list[TestCase], Kind | None]:
    """The tests of a JSON list of {input, output, testtype}; all must share one testtype
    (and `kind`, when given)."""
    try:
        items = json.loads(text)
    except json.JSONDecodeError as e:
        raise error(field, f"not JSON ({e})") from None
    if not isinstance(items, list):
        raise error(field, f"must be a JSON list of tests, not {type(items).__name__}")
    tests = []
    for i, item in enumerate(items):
        where = f"{field}[{i}]"
        if not isinstance(item, dict):
            raise error(where, f"must be an object with input, output and testtype, not {type(item).__name__}")
        for key in ("input", "output", "testtype"):
            if key not in item:
                raise error(f"{where}.{key}", "missing")
            if not isinstance(item[key], str):
                raise error(f"{where}.{key}", f"must be a string, not {type(item[key]).__name__}")
        testtype = item["testtype"]
        if testtype not in _KINDS:
            raise error(f"{where}.testtype", f"is {testtype!r}; expected stdin or functional")
        if kind is None:
            kind = testtype
        elif testtype != kind:
            raise error(f"{where}.testtype", f"is {testtype!r} but the problem's other tests are {kind!r}; all must agree")
        if kind == "functional":
            _check_functional(item, where, error)
        tests.append(TestCase(input=item["input"], output=item["output"]))
    return tests, kind


def _check_functional(item: dict, where: str, error: Callable[[str, str], InputFileError]) -> None:
    """A functional test's input is one JSON value per line (the method's arguments) and its
    output one JSON value: checked at load, so grading never meets a test it cannot read."""
    for number, line in enumerate(item["input"].split("\n"), start=1):
        try:
            json.loads(line)
        except json.JSONDecodeError as e:
            raise error(f"{where}.input", f"line {number} is not JSON ({e.msg}): {line[:60]!r}") from None
    try:
        json.loads(item["output"])
    except json.JSONDecodeError as e:
        raise error(f"{where}.output", f"is not JSON ({e.msg}): {item['output'][:60]!r}") from None
