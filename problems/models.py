"""The problem and test-case models every other layer reads."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_serializer, model_validator

# stdin: the program reads a test's input and prints; functional: a function (or Solution
# method) is called with a test's arguments; assertion: the test is code (HumanEval's
# `check(candidate)`, an MBPP assert) run against the program's entry point.
Kind = Literal["stdin", "functional", "assertion"]
Difficulty = Literal["easy", "medium", "hard"]


class TestCase(BaseModel):
    """One test. For functional problems `input` holds one JSON value per line (the
    method's arguments in order) and `output` one JSON value, as LiveCodeBench stores them.
    For assertion problems `input` is the test's code and `output` is empty: the code holds
    its expected values."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    __test__ = False  # not a pytest class

    input: str
    output: str


class Problem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    title: str = ""
    statement: str = Field(min_length=1)
    kind: Kind
    starter_code: str = ""
    func_name: str | None = None
    public_tests: tuple[TestCase, ...] = ()
    hidden_tests: tuple[TestCase, ...] = ()
    platform: str | None = None
    difficulty: Difficulty | None = None
    contest_date: datetime | None = None
    source: str = ""
    license: str | None = None
    # assertion problems: code run before the tests, where the program cannot reach it (HumanEval:
    # the prompt's code and the `test` text defining `check`; MBPP: test_setup_code)
    setup_code: str = ""
    # assertion problems: classes the program defines that the tests construct (MBPP's `Node`, `Pair`)
    test_classes: tuple[str, ...] = ()
    split: str | None = None  # the dataset's split (MBPP: prompt, test, validation, train)

    @model_validator(mode="after")
    def _functional_needs_a_name(self) -> Problem:
        if self.kind == "functional" and not self.func_name:
            raise ValueError("a functional problem needs func_name (the method the tests call)")
        if self.kind == "assertion":
            if not (self.func_name and self.func_name.isidentifier()):
                raise ValueError("an assertion problem needs func_name (the entry point the tests call), an identifier")
            if any(not name.isidentifier() for name in self.test_classes):
                raise ValueError("test_classes must be identifiers")
            if any(t.output for t in self.all_tests):
                raise ValueError("an assertion test holds its expected values in its code: its output must be empty")
        elif self.setup_code or self.test_classes:
            raise ValueError("setup_code and test_classes belong to assertion problems")
        return self

    @model_serializer(mode="wrap")
    def _without_unset_assertion_fields(self, handler):
        """The fields added for assertion problems are left out while they hold their
        defaults, so a LiveCodeBench problem dumps (and digests: solver/runs.py) as before."""
        data = handler(self)
        for name in _LATER_FIELDS:
            if name in data and data[name] in _LATER_FIELDS[name]:
                del data[name]
        return data

    @property
    def all_tests(self) -> tuple[TestCase, ...]:
        """Public tests first, then hidden ones: the order LiveCodeBench grades in."""
        return self.public_tests + self.hidden_tests


_LATER_FIELDS = {"setup_code": ("",), "test_classes": ((), []), "split": (None,)}  # their defaults, in python and json modes
