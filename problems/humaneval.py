"""HumanEval rows (openai/human-eval's HumanEval.jsonl[.gz]) -> Problem.

A row: task_id, prompt (imports, helpers, the signature and docstring), entry_point,
canonical_solution (the body), test (`METADATA` and `def check(candidate): ...`). The
problem's one test is `check(candidate)`; its setup code is the prompt (it defines helpers
the test uses, e.g. HumanEval/32's `poly`, /38's `encode_cyclic`) and the test text. Both
run in the sandbox's checker, never in the program's process. No public tests: the
docstring's examples are the statement's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from problems.errors import InputFileError
from problems.models import Problem, TestCase

HUMANEVAL_FIELDS = ("task_id", "prompt", "entry_point", "canonical_solution", "test")
CHECK_CALL = "check(candidate)"


def is_humaneval_row(row: dict[str, Any]) -> bool:
    return "entry_point" in row or "canonical_solution" in row


def humaneval_problem(row: dict[str, Any], path: Path, line: int) -> Problem:
    def error(field: str, message: str) -> InputFileError:
        return InputFileError(path, message, line=line, field=field)

    for name in HUMANEVAL_FIELDS:
        if name not in row:
            raise error(name, "missing (every HumanEval row has it)")
        if not isinstance(row[name], str):
            raise error(name, f"must be a string, not {type(row[name]).__name__}")
    for name in ("task_id", "prompt", "entry_point", "test"):
        if not row[name].strip():
            raise error(name, "is empty")
    entry = row["entry_point"].strip()
    if not entry.isidentifier():
        raise error("entry_point", f"{entry!r} is not a Python name")
    for name in ("prompt", "test"):
        try:
            compile(row[name], f"{path}:{line}:{name}", "exec")
        except (SyntaxError, ValueError) as e:
            raise error(name, f"does not compile: {e}") from None
    if "def check" not in row["test"]:
        raise error("test", "defines no check(candidate)")
    return Problem(
        id=row["task_id"],
        title=row["task_id"],
        statement=f"```python\n{row['prompt'].strip(chr(10))}\n```",  # the signature and docstring, as code
        kind="assertion",
        starter_code=row["prompt"],
        func_name=entry,
        hidden_tests=(TestCase(input=CHECK_CALL, output=""),),
        setup_code=row["prompt"].rstrip() + "\n\n\n" + row["test"],
        platform="humaneval",
        source=f"humaneval:{path.name}",
        license="MIT",
        split="test",
    )


def reference_program(row: dict[str, Any]) -> str:
    """What HumanEval's harness runs as the program for its canonical solution."""
    return row["prompt"] + row["canonical_solution"]
