"""What the sandbox does with programs, through both backends (the same supervisor, so the
same verdicts where the walls agree) and in both semantics: ways to read and write, as
lcb_runner and as a judge; LiveCodeBench's prelude, guard and limits; the functional
calling conventions; verdicts, modes and per-test details. All cases run in one batch."""

from __future__ import annotations

import dataclasses
import warnings

import pytest

from sandbox import SEMANTICS, Limits, Verdict, make_sandbox
from tests.sandbox.conftest import functional_job, stdin_job

ADD = [("1 2\n", "3\n"), ("20 22\n", "42\n")]
TWO_LINES = [("ab\ncd\n", "2")]
P, WA, RE, TLE = Verdict.PASSED, Verdict.WRONG_ANSWER, Verdict.RUNTIME_ERROR, Verdict.TIME_LIMIT
MLE, OLE, SE = Verdict.MEMORY_LIMIT, Verdict.OUTPUT_LIMIT, Verdict.SYNTAX_ERROR
SOLUTION_COUNTS = "class Solution:\n    def __init__(self):\n        self.calls = 0\n    def count(self, x):\n        self.calls += 1\n        return self.calls"

# name -> (job, verdict in lcb semantics, verdict in judge semantics). lcb: what lcb_runner
# gives (checked against it: benchmarks/lcb_agreement.py); judge: what a judge running the
# script gives.
CASES = {
    # stdin read and written: lcb_runner's mocks in lcb, real descriptors in judge
    "input": (stdin_job("a, b = map(int, input().split())\nprint(a + b)", ADD), P, P),
    "readline": (stdin_job("import sys\nprint(sum(map(int, sys.stdin.readline().split())))", ADD), P, P),
    "read": (stdin_job("import sys\nprint(sum(map(int, sys.stdin.read().split())))", ADD), P, P),
    "readlines": (stdin_job("import sys\nprint(sum(int(x) for l in sys.stdin.readlines() for x in l.split()))", ADD), P, P),
    "buffer": (stdin_job("import sys\nprint(sum(map(int, sys.stdin.buffer.read().split())))", ADD), P, P),
    "open0": (stdin_job("print(sum(map(int, open(0).read().split())))", ADD), WA, P),  # lcb: the prelude's `open` reads fd 0, empty
    "iterate": (
        stdin_job("import sys\nfor line in sys.stdin:\n    print(sum(map(int, line.split())))", ADD),
        RE,
        P,
    ),  # lcb: the mock is not iterable
    "os_read": (stdin_job("import os\nprint(sum(map(int, os.read(0, 100).split())))", ADD), WA, P),
    "from_sys_import": (
        stdin_job("from sys import stdin, stdout\nstdout.write(str(sum(map(int, stdin.read().split()))) + '\\n')", ADD),
        WA,
        P,
    ),
    "stdin_readline_without_newline": (stdin_job("from sys import stdin\nprint(len(stdin.readline()))", TWO_LINES), P, WA),
    "buffer_readline_twice": (
        stdin_job("import sys\nsys.stdin.buffer.readline()\nprint(len(sys.stdin.buffer.readline()))", [("ab\ncdef\n", "5")]),
        WA,
        P,
    ),
    "read_twice": (stdin_job("import sys\nsys.stdin.read()\nprint(len(sys.stdin.read()))", [("ab\n", "0")]), WA, P),
    "readlines_trailing_empty": (stdin_job("import sys\nprint(len(sys.stdin.readlines()))", TWO_LINES), WA, P),
    "stdout_buffer": (stdin_job("import sys\nsys.stdout.buffer.write(b'3\\n')", ADD[:1]), RE, P),
    "os_write": (stdin_job("import os\nos.write(1, b'3\\n')", ADD[:1]), WA, P),
    "eof_loop": (
        stdin_job(
            "t = 0\nwhile True:\n    try:\n        t += sum(map(int, input().split()))\n    except EOFError:\n        break\nprint(t)", ADD
        ),
        P,
        P,
    ),
    "exit_after_print": (stdin_job("print(3)\nexit()\nprint(4)", ADD[:1]), P, P),
    "sys_exit_1_after_print": (stdin_job("import sys\nprint(3)\nsys.exit(1)", ADD[:1]), P, RE),  # a judge reads a non-zero exit as an error
    "main_block": (
        stdin_job("def main():\n    print(sum(map(int, input().split())))\n\nif __name__ == '__main__':\n    main()", ADD),
        P,
        P,
    ),
    "thread_main_joined": (
        stdin_job(
            "import threading\ndef main():\n    print(sum(map(int, input().split())))\nthreading.stack_size(1 << 26)\nt = threading.Thread(target=main)\nt.start()\nt.join()",
            ADD,
        ),
        P,
        P,
    ),
    "stderr_ignored": (stdin_job("import sys\nprint('noise', file=sys.stderr)\nprint(3)", ADD[:1]), P, P),
    "stderr_past_the_output_cap": (
        stdin_job("import sys\nfor _ in range(40):\n    sys.stderr.write('e' * 65536)\nprint(3)", ADD[:1]),
        P,
        P,
    ),  # stderr is never judged
    "big_input": (stdin_job("import sys\nprint(len(sys.stdin.read()))", [("x" * 3_000_000, "3000000")]), P, P),
    "prelude_names": (
        stdin_job("print(gcd(12, 18), Counter('aab')['a'], bisect_left([1, 2], 2), List.__name__)", [("", "6 2 1 List")]),
        P,
        RE,
    ),
    "numpy_available": (stdin_job("import numpy as np\nprint(int(np.arange(5).sum()))", [("", "10")]), P, P),
    "import_multiprocessing": (stdin_job("import multiprocessing\nprint(3)", ADD[:1]), P, P),
    "int_digits_50000": (stdin_job("print(len(str(10 ** 40000)))", [("", "40001")]), P, RE),  # judge: Python's default limit
    "int_digits_over": (stdin_job("print(len(str(10 ** 60000)))", [("", "60001")]), RE, RE),
    "recursion_20000": (stdin_job("def f(n):\n    return 0 if n == 0 else 1 + f(n - 1)\nprint(f(20000))", [("", "20000")]), P, RE),
    "quit_is_disabled": (stdin_job("print(3)\nquit()", ADD[:1]), RE, P),  # LiveCodeBench's reliability_guard
    "getcwd_is_disabled": (stdin_job("import os\nos.getcwd()\nprint(3)", ADD[:1]), RE, P),
    "global_read_modify_write": (stdin_job("n = 1\ndef bump():\n    global n\n    n += 1\nbump()\nprint(n)", [("", "2")]), RE, P),
    "wrong_answer": (stdin_job("print(4)", ADD), WA, WA),
    "runtime_error": (stdin_job("print(1 // 0)", ADD), RE, RE),
    "syntax_error": (stdin_job("print(1 +)", ADD), SE, SE),
    "sleep_past_limit": (stdin_job("import time\ntime.sleep(5)", ADD), TLE, TLE),
    "memory_error": (stdin_job("x = bytearray(10 ** 11)", ADD), MLE, MLE),
    "output_limit": (stdin_job("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)", ADD), OLE, OLE),
    "mode_all_runs_every_test": (stdin_job("print(3)", ADD + [("1 1\n", "2\n")], mode="all"), WA, WA),
    "tle_then_next_tests_in_mode_all": (
        stdin_job("import time\nif input() == '0':\n    time.sleep(5)\nprint(1)", [("1", "1"), ("0", "1"), ("1", "1")], mode="all"),
        TLE,
        TLE,
    ),
    # functional: one JSON value per argument line; lcb: Solution() once per program, judge: once per test
    "functional": (
        functional_job(
            "class Solution:\n    def add(self, a: int, b: int) -> int:\n        return a + b",
            "add",
            [("1\n2", "3"), ("[1]\n[2]", "[1, 2]")],
        ),
        P,
        P,
    ),
    "functional_tuple": (functional_job("class Solution:\n    def pair(self, a):\n        return (a, a)", "pair", [("1", "[1, 1]")]), P, P),
    "functional_nested_tuple": (
        functional_job("class Solution:\n    def pairs(self, a):\n        return [(a, a)]", "pairs", [("1", "[[1, 1]]")]),
        WA,
        P,
    ),
    "functional_numpy_scalar": (
        functional_job("import numpy as np\nclass Solution:\n    def f(self, a):\n        return np.int64(a) + 1", "f", [("1", "2")]),
        P,
        P,
    ),
    "functional_state_persists": (functional_job(SOLUTION_COUNTS, "count", [("0", "1"), ("0", "2")]), P, WA),
    "functional_plain_function": (functional_job("def add(a, b):\n    return a + b", "add", [("1\n2", "3")]), P, P),
    "functional_prints_are_ignored": (
        functional_job("class Solution:\n    def one(self, x):\n        print('noise')\n        return 1", "one", [("0", "1")]),
        P,
        P,
    ),
    "functional_missing_method": (functional_job("class Solution:\n    def other(self):\n        return 1", "one", [("0", "1")]), RE, RE),
    "functional_module_error": (functional_job("raise ValueError('at import')\nclass Solution:\n    pass", "one", [("0", "1")]), RE, RE),
    "functional_wrong": (functional_job("class Solution:\n    def one(self, x):\n        return [x]", "one", [("0", "[1]")]), WA, WA),
    "functional_set_is_not_a_list": (
        functional_job("class Solution:\n    def one(self, x):\n        return {1}", "one", [("0", "[1]")]),
        WA,
        WA,
    ),
    "functional_sys_exit": (
        functional_job("import sys\nclass Solution:\n    def one(self, x):\n        sys.exit(0)", "one", [("0", "1")]),
        RE,
        RE,
    ),
}
# Where the backends' walls differ (see sandbox/local_backend.py): an untouched 3 GB
# allocation is within the container's memory (as in LiveCodeBench, which sets no
# address-space limit) but past the local backend's address-space limit.
BACKEND_CASES = {
    "untouched_three_gigabytes": (stdin_job("x = bytes(3 * 10 ** 9)\nprint(3)", ADD[:1]), {"docker": P, "local": MLE}),
}
DOCKER_ONLY = {  # LiveCodeBench's environment, in the image (the local backend has this machine's packages)
    # threads count against the pids limit; locally their stacks (8 MiB each) count as address space
    "eighty_six_threads": (
        stdin_job(
            "import threading, time\nts = [threading.Thread(target=time.sleep, args=(0.2,)) for _ in range(86)]\nfor t in ts:\n    t.start()\nfor t in ts:\n    t.join()\nprint(3)",
            ADD[:1],
        ),
        P,
    ),
    "sympy_scipy_networkx_pandas_sortedcontainers": (
        stdin_job(
            "import sympy, scipy, networkx, pandas, sortedcontainers\nprint(sympy.isprime(7), sortedcontainers.SortedList([2, 1])[0])",
            [("", "True 1")],
        ),
        P,
    ),
}


def _with(job, semantics):
    return dataclasses.replace(job, semantics=semantics)


@pytest.fixture(scope="module", params=["local", pytest.param("docker", marks=pytest.mark.docker)])
def results(request):
    """Every case in both semantics, and the backend's own cases, in one batch."""
    backend = request.param
    jobs = {(name, sem): _with(case[0], sem) for name, case in CASES.items() for sem in SEMANTICS}
    jobs |= {(name, "lcb"): case[0] for name, case in BACKEND_CASES.items()}
    if backend == "docker":
        jobs |= {(name, sem): _with(case[0], sem) for name, case in DOCKER_ONLY.items() for sem in SEMANTICS}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sandbox = make_sandbox(backend, Limits(test_seconds=2, memory_mb=1024, output_bytes=1 << 20))
    try:
        graded = dict(zip(jobs, sandbox.run(list(jobs.values()))))
    finally:
        sandbox.close()
    return {"backend": backend, **graded}


def _explain(result):
    return (result.verdict, result.detail, [(t.verdict, t.detail) for t in result.tests])


@pytest.mark.parametrize("semantics", SEMANTICS)
@pytest.mark.parametrize("name", list(CASES))
def test_verdict(results, name, semantics):
    result, expected = results[(name, semantics)], CASES[name][1 if semantics == "lcb" else 2]
    assert result.verdict is expected, _explain(result)


@pytest.mark.parametrize("name", list(BACKEND_CASES))
def test_verdict_where_the_walls_differ(results, name):
    result = results[(name, "lcb")]
    assert result.verdict is BACKEND_CASES[name][1][results["backend"]], _explain(result)


@pytest.mark.docker
@pytest.mark.parametrize("semantics", SEMANTICS)
@pytest.mark.parametrize("name", list(DOCKER_ONLY))
def test_livecodebench_packages_in_the_image(results, name, semantics):
    if results["backend"] != "docker":
        return
    result = results[(name, semantics)]
    assert result.verdict is DOCKER_ONLY[name][1], _explain(result)


def test_first_failure_stops_and_all_runs_on(results):
    assert [t.verdict for t in results[("wrong_answer", "lcb")].tests] == [WA]
    assert [t.verdict for t in results[("mode_all_runs_every_test", "lcb")].tests] == [P, WA, WA]
    assert [t.verdict for t in results[("tle_then_next_tests_in_mode_all", "lcb")].tests] == [P, TLE, P]
    assert results[("wrong_answer", "lcb")].total == 2


def test_details(results):
    wrong = results[("wrong_answer", "lcb")].tests[0]
    assert "expected '3', got '4'" in wrong.detail
    assert "ZeroDivisionError" in results[("runtime_error", "lcb")].tests[0].detail
    assert 'File "<program>", line 1' in results[("runtime_error", "lcb")].tests[0].detail
    assert "harness" not in results[("runtime_error", "lcb")].tests[0].detail
    assert "line 1" in results[("syntax_error", "lcb")].detail and results[("syntax_error", "lcb")].tests == ()
    assert "ran past 2 s" in results[("sleep_past_limit", "lcb")].tests[0].detail
    assert "no Solution.one" in results[("functional_missing_method", "lcb")].tests[0].detail
    assert "before the tests ran" in results[("functional_module_error", "lcb")].tests[0].detail
    assert "got: [0]" in results[("functional_wrong", "lcb")].tests[0].detail
    assert "got: [(1, 1)]" in results[("functional_nested_tuple", "lcb")].tests[0].detail
    assert "not plain data" in results[("functional_set_is_not_a_list", "lcb")].tests[0].detail


def test_time_memory_and_digests(results):
    passed = results[("input", "lcb")].tests
    assert all(0 <= t.seconds < 1 for t in passed)
    assert all(t.memory_kb and 1000 < t.memory_kb < 200_000 for t in passed)
    assert results[("sleep_past_limit", "lcb")].tests[0].seconds >= 2
    # The digest is the output's, whatever the expected output: equal outputs, equal digests.
    assert results[("input", "lcb")].tests[0].output_digest == results[("read", "lcb")].tests[0].output_digest
    passing_three, failing_three = results[("exit_after_print", "lcb")].tests[0], results[("mode_all_runs_every_test", "lcb")].tests[2]
    assert (passing_three.verdict, failing_three.verdict) == (P, WA)
    assert passing_three.output_digest == failing_three.output_digest
    assert results[("runtime_error", "lcb")].tests[0].output_digest is None
    assert results[("functional_tuple", "lcb")].tests[0].output_digest is not None
