"""Judging on the host: what a test's program produced against what was expected, by
LiveCodeBench's rules (lcb_runner/evaluation/testing_util.py), on plain data decoded here.
Nothing from the program is ever called: its output is text, its functional result a
value rebuilt here from the canonical form (sandbox/inside/canon.py, the one implementation).

The two semantics judge alike but for functional results: `lcb` turns a returned tuple
into a list and compares with `==`, as lcb_runner (so a tuple nested inside is not a
list); `judge` turns every tuple into a list, as a judge that reads JSON would.
"""

from __future__ import annotations

import hashlib
import json
import sys
from decimal import Decimal, InvalidOperation
from typing import Literal

from sandbox.inside import canon

Semantics = Literal["lcb", "judge"]
SHOWN_CHARS = 300  # per value in a detail, as LiveCodeBench's truncatefn
MAX_DEPTH = canon.MAX_DEPTH
INT_MAX_STR_DIGITS = 50000  # as LiveCodeBench's grading process: expected outputs and results hold long integers

if 0 < sys.get_int_max_str_digits() < INT_MAX_STR_DIGITS:
    sys.set_int_max_str_digits(INT_MAX_STR_DIGITS)


Malformed = canon.Malformed  # the program's result breaks the canonical form: its failure, never the sandbox's


def stripped_lines(text: str) -> list[str]:
    """LiveCodeBench's get_stripped_lines: strip the whole, split on newlines, strip each line."""
    return [line.strip() for line in text.strip().split("\n")]


def compare_stdout(got: str, expected: str) -> str | None:
    """None when LiveCodeBench counts `got` correct: same number of stripped lines, each equal
    exactly or token by token as Decimal. Otherwise what differs."""
    got_lines, expected_lines = stripped_lines(got), stripped_lines(expected)
    if len(got_lines) != len(expected_lines):
        return f"expected {len(expected_lines)} lines, got {len(got_lines)}"
    for number, (g, e) in enumerate(zip(got_lines, expected_lines), start=1):
        if g == e or _same_decimals(g, e):
            continue
        return f"line {number}: expected {truncate(e)!r}, got {truncate(g)!r}"
    return None


def _same_decimals(got: str, expected: str) -> bool:
    try:
        return [Decimal(t) for t in got.split()] == [Decimal(t) for t in expected.split()]
    except (InvalidOperation, ValueError):  # a token that is not a number, or a signalling NaN
        return False


def decode_value(text: str, extended: bool = False) -> object:
    """The plain value a canonical-form text stands for; Malformed when it is not one.
    `extended`: the assertion jobs' form (sets, complex, types), else the functional one."""
    return canon.loads(text, extended)


def same_value(result: object, expected: object, semantics: Semantics = "lcb") -> bool:
    """LiveCodeBench's functional check on plain data: a tuple counts as a list (at the top
    in lcb, everywhere in judge), then `==`."""
    if semantics == "judge":
        result = _lists(result)
    elif isinstance(result, tuple):
        result = list(result)
    try:
        return bool(result == expected)
    except RecursionError:
        return False


def _lists(value: object) -> object:
    if isinstance(value, (list, tuple)):
        return [_lists(v) for v in value]
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    return value


def output_digest(text: str) -> str:
    """Hash of stdout after LiveCodeBench's normalisation: equal digests, equal verdicts."""
    return hashlib.sha256("\n".join(stripped_lines(text)).encode("utf-8", "surrogatepass")).hexdigest()[:16]


def value_digest(result: object) -> str:
    if isinstance(result, tuple):
        result = list(result)
    try:
        text = json.dumps(result, sort_keys=True)
    except (TypeError, ValueError):
        text = repr(result)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def truncate(text: str, length: int = SHOWN_CHARS) -> str:
    if len(text) <= length:
        return text
    return text[: length // 2] + "...(truncated)..." + text[-length // 2 :]


def shown(value: object) -> str:
    """A plain value as Python writes it (so a tuple shows as one), truncated."""
    try:
        return truncate(repr(value))
    except (RecursionError, ValueError):
        return type(value).__name__
