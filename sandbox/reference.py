"""Assertion tests run with plain Python, as the datasets' own harnesses run them: no
sandbox, no isolation, the program and its test code in one namespace of one process.
For trusted code only (the datasets' reference solutions): the yardstick our sandbox's
verdicts are checked against (tests/sandbox/test_assertion_references.py,
benchmarks/reference_solutions.py).

HumanEval (openai/human-eval's check_program): `prompt + completion`, the `test` text,
then `check(<entry_point>)`. MBPP: the code, test_setup_code, then each assert. Each piece
after the program runs under a wall-clock limit (SIGALRM, as human-eval's time_limit).
A driver process reads the scripts and forks a child per script, so a script costs a fork,
not an interpreter's start.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from problems import Problem

_DRIVER = r"""
import json, os, signal, sys
class _Timeout(BaseException):
    pass
def _alarm(signum, frame):
    raise _Timeout()
signal.signal(signal.SIGALRM, _alarm)
for line in sys.stdin:
    job = json.loads(line)
    pid = os.fork()
    if pid == 0:
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0); os.dup2(null, 1); os.dup2(null, 2)
        status = 0
        namespace = {"__name__": "__main__"}
        try:
            for number, piece in enumerate(job["pieces"]):
                signal.setitimer(signal.ITIMER_REAL, job["seconds"] if number else job["seconds"] * 4)
                exec(compile(piece, "<piece %d>" % number, "exec"), namespace)
                signal.setitimer(signal.ITIMER_REAL, 0)
        except _Timeout:
            status = 3
        except AssertionError:
            status = 1
        except BaseException:
            status = 2
        os._exit(status)
    _, status = os.waitpid(pid, 0)
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 2
    sys.stdout.write(json.dumps(["passed", "wrong_answer", "error", "time_limit"][code if code < 4 else 2]) + "\n")
    sys.stdout.flush()
"""


@dataclass(frozen=True, slots=True)
class PlainScript:
    """What a dataset's harness runs: the program, then each piece of test code."""

    program: str
    tests: tuple[str, ...]


def humaneval_script(problem: Problem, program: str, test_text: str) -> PlainScript:
    return PlainScript(program, (test_text + "\n" + f"check({problem.func_name})",))


def mbpp_script(problem: Problem, program: str) -> PlainScript:
    return PlainScript(program, (problem.setup_code, *(t.input for t in problem.all_tests)))


def run_plain(scripts: Sequence[PlainScript], seconds: float = 3.0) -> list[str]:
    """The verdict of each script run with plain Python (this interpreter): passed,
    wrong_answer (an assert failed), error (anything else raised), time_limit (a piece ran
    past `seconds` of wall time; the program itself gets four times that)."""
    lines = "".join(json.dumps({"pieces": [s.program, *s.tests], "seconds": seconds}) + "\n" for s in scripts)
    timeout = 60 + sum((len(s.tests) + 4) * seconds for s in scripts)
    done = subprocess.run([sys.executable, "-c", _DRIVER], input=lines, capture_output=True, text=True, timeout=timeout, cwd="/tmp")
    verdicts = [json.loads(line) for line in done.stdout.splitlines()]
    if len(verdicts) != len(scripts):
        raise RuntimeError(f"the plain-Python driver answered {len(verdicts)} of {len(scripts)} scripts: {done.stderr[-1000:]}")
    return verdicts
