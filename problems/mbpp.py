"""MBPP rows (google-research/mbpp's mbpp.jsonl, all 974) -> Problem.

A row: task_id, text (the task), code (the reference solution), test_setup_code, test_list
(three asserts), challenge_test_list. Ids are `mbpp/<task_id>`. Each assert of test_list
is a public test (the prompt shows them, as MBPP's own prompt does) and the tests graded:
standard MBPP evaluation uses test_list only, so challenge_test_list is not loaded.
The entry point is the reference code's top-level function the asserts call (MBPP 126's
is `sum`, shadowing the builtin); the classes the tests construct (367 and 927's `Node`,
601's `Pair`) are the reference code's top-level classes the setup code or asserts name.

Splits (the task ids of the original paper): prompt 1-10, test 11-510, validation
511-600, train 601-974 (`--split test` takes the usual 500-problem test split).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from problems.errors import InputFileError
from problems.models import Problem, TestCase

MBPP_SPLITS = (("prompt", 1, 10), ("test", 11, 510), ("validation", 511, 600), ("train", 601, 974))


def is_mbpp_row(row: dict[str, Any]) -> bool:
    return "test_list" in row or "test_setup_code" in row


def mbpp_split(task_id: int) -> str | None:
    return next((name for name, low, high in MBPP_SPLITS if low <= task_id <= high), None)


def mbpp_problem(row: dict[str, Any], path: Path, line: int) -> Problem:
    def error(field: str, message: str) -> InputFileError:
        return InputFileError(path, message, line=line, field=field)

    task_id = row.get("task_id")
    if type(task_id) is not int or task_id < 0:
        raise error("task_id", f"must be a non-negative integer, not {task_id!r}")
    for name in ("text", "code"):
        if not isinstance(row.get(name), str) or not row[name].strip():
            raise error(name, "missing or not a non-empty string")
    setup = row.get("test_setup_code", "")
    if not isinstance(setup, str):
        raise error("test_setup_code", f"must be a string, not {type(setup).__name__}")
    tests = row.get("test_list")
    if not isinstance(tests, list) or not tests or not all(isinstance(t, str) and t.strip() for t in tests):
        raise error("test_list", "must be a non-empty list of assert statements (strings)")
    challenge = row.get("challenge_test_list", [])
    if not isinstance(challenge, list) or not all(isinstance(t, str) for t in challenge):
        raise error("challenge_test_list", "must be a list of strings")
    try:
        code = ast.parse(row["code"])
    except (SyntaxError, ValueError) as e:
        raise error("code", f"does not compile: {e}") from None
    try:
        compile(setup, f"{path}:{line}:test_setup_code", "exec")
    except (SyntaxError, ValueError) as e:
        raise error("test_setup_code", f"does not compile: {e}") from None
    asserts = []
    for number, test in enumerate(tests):
        try:
            asserts.append(ast.parse(test.strip()))
        except (SyntaxError, ValueError) as e:
            raise error(f"test_list[{number}]", f"does not compile: {e}") from None
    functions = {n.name for n in code.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    classes = {n.name for n in code.body if isinstance(n, ast.ClassDef)}
    called = [
        n.func.id for n in ast.walk(asserts[0]) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in functions
    ]
    if not called:
        raise error("test_list[0]", "calls no top-level function of the reference code")
    named = {n.id for tree in [ast.parse(setup), *asserts] for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return Problem(
        id=f"mbpp/{task_id}",
        title=f"mbpp/{task_id}",
        statement=row["text"].strip(),
        kind="assertion",
        func_name=called[0],
        public_tests=tuple(TestCase(input=t.strip(), output="") for t in tests),
        setup_code=setup,
        test_classes=tuple(sorted(classes & named)),
        platform="mbpp",
        source=f"mbpp:{path.name}",
        license="CC-BY-4.0",
        split=mbpp_split(task_id),
    )
