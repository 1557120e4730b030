"""Assertion jobs through the real sandbox (both backends): verdict per test in mode all
(a fresh program process and checker after a death), the extended results and arguments
(sets, Counter, complex, builtin types, the program's own classes rebuilt from the
checker's descriptions), keyword arguments, copies of arguments, and the job's refusals."""

from __future__ import annotations

import warnings

import pytest

from problems import TestCase
from sandbox import Job, Limits, Verdict, make_sandbox

P, WA, RE, TLE = Verdict.PASSED, Verdict.WRONG_ANSWER, Verdict.RUNTIME_ERROR, Verdict.TIME_LIMIT


@pytest.fixture(scope="module", params=[pytest.param("docker", marks=pytest.mark.docker), "local"])
def sandbox(request):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        box = make_sandbox(request.param, Limits(test_seconds=1.5), workers=1)
    with box:
        yield box


def job(code: str, tests: list[str], setup: str = "", classes: tuple[str, ...] = (), mode: str = "all", func: str = "f") -> Job:
    return Job(code, "assertion", tuple(TestCase(input=t, output="") for t in tests), func, mode, "lcb", setup, classes)  # type: ignore[arg-type]


MIXED = """
def f(x):
    if x == 2:
        raise ValueError("two")
    if x == 3:
        import time
        time.sleep(100)
    if x == 6:
        import os
        os._exit(0)
    return x * 2
"""


def test_every_test_gets_its_verdict_in_mode_all(sandbox):
    tests = [
        "assert f(1) == 2",
        "assert f(2) == 4",
        "assert f(3) == 6",
        "assert f(4) == 8",
        "assert f(5) == 0",
        "f(6)",
        "assert f(7) == 14",
    ]
    result = sandbox.run([job(MIXED, tests)])[0]
    assert [t.verdict for t in result.tests] == [P, RE, TLE, P, WA, RE, P], [(t.verdict, t.detail) for t in result.tests]
    assert "ValueError: two" in result.tests[1].detail
    first = sandbox.run([job(MIXED, tests, mode="first_failure")])[0]
    assert [t.verdict for t in first.tests] == [P, RE] and first.verdict is RE


EXTENDED = """
import collections
def f(kind, value=None):
    if kind == "set":
        return {1, 2, 3}
    if kind == "counter":
        return collections.Counter("abca")
    if kind == "complex":
        return value * 2
    if kind == "type":
        return [v for v in value[0] if not isinstance(v, value[1])]
    if kind == "mutate":
        value.append(99)
        return len(value)
"""


def test_extended_values_cross_both_ways(sandbox):
    tests = [
        "assert f('set') == {1, 2, 3} and isinstance(f('set'), set)",
        "assert f('counter') == {'a': 2, 'b': 1, 'c': 1}",
        "assert f('complex', 1 + 2j) == 2 + 4j",
        "assert f('type', value=((4, 5.5, 'x'), int)) == [5.5, 'x']",
        "xs = [1]\nassert f('mutate', xs) == 2\nassert xs == [1]",  # arguments are copies
    ]
    result = sandbox.run([job(EXTENDED, tests)])[0]
    assert [t.verdict for t in result.tests] == [P] * 5, [(t.verdict, t.detail) for t in result.tests]


TREE = """
class Node:
    def __init__(self, data):
        self.data = data
        self.left = None
        self.right = None
def height(node):
    return 0 if node is None else 1 + max(height(node.left), height(node.right))
def shared(a, b):
    return a is b
"""


def test_the_programs_classes_are_rebuilt_from_descriptions(sandbox):
    setup = "root = Node(1)\nroot.left = Node(2)\nroot.left.left = Node(3)\nroot.right = root.left.left\n"
    tests = ["assert height(root) == 3", "assert height(Node(5)) == 1", "assert height(None) == 0"]
    result = sandbox.run([job(TREE, tests, setup=setup, classes=("Node",), func="height")])[0]
    assert result.ok, [(t.verdict, t.detail) for t in result.tests]
    same = sandbox.run([job(TREE, ["n = Node(1)\nassert shared(n, n)"], classes=("Node",), func="shared")])[0]
    assert same.ok, same.tests  # shared references stay shared
    missing = sandbox.run([job("def height(n):\n    return 1\n", tests, setup=setup, classes=("Node",), func="height")])[0]
    assert missing.verdict is RE and "class Node" in missing.tests[0].detail


def test_same_behaviour_same_digest(sandbox):
    a, b, c = sandbox.run(
        [job(f"def f(x):\n    return {body}\n", ["assert f(1) == 2"], mode="all") for body in ("x * 2", "x + x", "x + 5")]
    )
    assert a.tests[0].output_digest == b.tests[0].output_digest != c.tests[0].output_digest
    assert a.ok and b.ok and c.verdict is WA


def test_refusals_and_program_failures(sandbox):
    assert sandbox.run([job("def f(x) return 1", ["assert f(1) == 1"])])[0].verdict is Verdict.SYNTAX_ERROR
    none = sandbox.run([job("def g(x):\n    return 1\n", ["assert f(1) == 1"])])[0]
    assert none.verdict is RE and "no function f" in none.tests[0].detail
    bad_setup = sandbox.run([job("def f(x):\n    return 1\n", ["assert f(1) == 1"], setup="raise ValueError('data')")])[0]
    assert bad_setup.verdict is WA and "setup" in bad_setup.tests[0].detail
    with pytest.raises(ValueError):
        sandbox.run([Job("def f(): pass", "assertion", (TestCase(input="f()", output="1"),), "f")])
