"""The host's side of the supervisor protocol (see inside/supervisor.py), shared by both
backends: the job sent (test inputs only: expected outputs never leave the host), the
records read back, each test judged here (compare.py), and a stop sent once a test fails
when the rest need not run.

Trust: records come from the supervisor, our code, and are checked against their schema
(a broken record is a sandbox failure). What the program produced inside a record is the
program's: checked and judged here, and anything malformed is the program's failure.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import time
from functools import cache
from pathlib import Path
from typing import Protocol

from sandbox.compare import Malformed, compare_stdout, decode_value, output_digest, same_value, shown, truncate, value_digest
from sandbox.types import Job, Limits, ProgramResult, TestResult, Verdict

INSIDE = Path(__file__).with_name("inside")  # the supervisor and the program side, shipped into the sandbox
INSIDE_FILES = ("supervisor.py", "program.py", "canon.py", "checker.py")  # as inside/supervisor.py
# The longest line a supervisor writes: a record with its detail, or a chunk of a test's
# output (1 MiB, base64).
MAX_LINE_BYTES = 4 << 20
REPLY_SLACK_SECONDS = 30.0  # past the program's own time limit, a silent supervisor is broken
_OBSERVED = {Verdict.TIME_LIMIT, Verdict.MEMORY_LIMIT, Verdict.OUTPUT_LIMIT, Verdict.RUNTIME_ERROR}
# An assertion test's verdict from the checker via the supervisor (the test code ran there)
_CHECKED = {Verdict.PASSED, Verdict.WRONG_ANSWER, Verdict.RUNTIME_ERROR, Verdict.MEMORY_LIMIT}
_job_ids = itertools.count(1)


class InfraError(Exception):
    """The sandbox failed, not the program: the job is retried on a fresh sandbox."""


class Channel(Protocol):
    """A running supervisor: lines to it, lines from it."""

    def send(self, data: bytes, deadline: float) -> None: ...

    def read_line(self, deadline: float) -> bytes:
        """One line (without its newline); InfraError when none comes by `deadline`."""
        ...


@cache
def harness_digest() -> str:
    digest = hashlib.sha256()
    for name in INSIDE_FILES:
        digest.update((INSIDE / name).read_bytes())
    return digest.hexdigest()


def check_hello(line: bytes) -> dict:
    """The supervisor's first line: it must run these files."""
    try:
        hello = json.loads(line)["hello"]
    except (ValueError, KeyError, TypeError):
        raise InfraError(f"the harness did not start: {line[:500]!r}") from None
    if hello.get("harness") != harness_digest():
        raise HarnessMismatch(hello.get("python", "?"))
    return hello


class HarnessMismatch(InfraError):
    def __init__(self, python: str):
        super().__init__(f"the sandbox runs another version of the harness (Python {python})")


def validate(job: Job) -> None:
    """Reject a job that could not be graded fairly: no tests, or functional tests whose
    input lines or output are not JSON (a data error, not the program's)."""
    if not job.tests:
        raise ValueError("a job needs at least one test")
    if job.kind == "assertion":
        if not (job.func_name and job.func_name.isidentifier()):
            raise ValueError("an assertion job needs func_name, an identifier")
        if any(t.output for t in job.tests):
            raise ValueError("an assertion test holds its expected values in its code: its output must be empty")
    if job.kind == "functional":
        if not job.func_name:
            raise ValueError("a functional job needs func_name")
        for number, test in enumerate(job.tests):
            try:
                [json.loads(line) for line in test.input.split("\n")]
                json.loads(test.output)
            except ValueError as e:
                raise ValueError(f"test {number}: a functional test's input lines and output must be JSON ({e})") from None


def job_line(job: Job, limits: Limits, job_id: int) -> bytes:
    message = {
        "id": job_id,
        "code": job.code,
        "kind": job.kind,
        "func_name": job.func_name,
        "mode": job.mode,
        "semantics": job.semantics,
        "inputs": [t.input for t in job.tests],
        **({"setup_code": job.setup_code, "test_classes": list(job.test_classes)} if job.kind == "assertion" else {}),
        "limits": {
            "test_seconds": limits.test_seconds,
            "memory_mb": limits.memory_mb,
            "output_bytes": limits.output_bytes,
            "pids": limits.pids,
            "scratch_mb": limits.scratch_mb,
            "program_seconds": limits.seconds_for(len(job.tests)),
        },
    }
    return json.dumps({"job": message}).encode() + b"\n"


def exchange(channel: Channel, job: Job, limits: Limits) -> tuple[ProgramResult, str | None, dict]:
    """Grade one job on a running supervisor: (result, why the sandbox may be tainted, the
    supervisor's closing message)."""
    job_id = next(_job_ids)
    deadline = time.monotonic() + limits.seconds_for(len(job.tests)) + REPLY_SLACK_SECONDS
    channel.send(job_line(job, limits, job_id), deadline)
    tests: list[TestResult] = []
    syntax: str | None = None
    stop_sent, seen = False, 0
    body, body_cap = bytearray(), limits.output_bytes + (64 << 10)
    while True:
        message = _read(channel, deadline)
        if "body" in message:  # a chunk of the next test's output, ahead of its record
            try:
                body += base64.b64decode(message["body"], validate=True)
            except (TypeError, ValueError):
                raise InfraError("the harness sent a malformed output chunk") from None
            if len(body) > body_cap:
                raise InfraError(f"the harness sent more than {body_cap} bytes of output for one test")
        elif "test" in message:
            record = message["test"]
            if isinstance(record, dict) and "body" in record:  # a small output, in the record itself
                try:
                    body = bytearray(base64.b64decode(record["body"], validate=True))
                except (TypeError, ValueError):
                    raise InfraError("the harness sent a malformed output") from None
            result = judge(job, record, seen, body.decode("utf-8", "replace"))
            body = bytearray()
            seen += 1
            if not stop_sent:
                tests.append(result)
                if result.verdict is not Verdict.PASSED and job.mode == "first_failure":
                    channel.send(json.dumps({"stop": job_id}).encode() + b"\n", deadline)
                    stop_sent = True
        elif "syntax" in message:
            syntax = str(message["syntax"].get("detail", ""))
        elif "done" in message:
            done = message["done"]
            break
        else:
            raise InfraError(f"the harness wrote an unknown message: {sorted(message)}")
    if not isinstance(done, dict) or done.get("job") != job_id:
        raise InfraError(f"the harness closed another job: {str(done)[:200]}")
    if done.get("error"):
        raise InfraError(f"the harness failed: {done['error']}")
    total = len(job.tests)
    if syntax is not None:
        return ProgramResult(Verdict.SYNTAX_ERROR, (), total, syntax), done.get("tainted"), done
    failed = next((t for t in tests if t.verdict is not Verdict.PASSED), None)
    if failed is not None:
        return ProgramResult(failed.verdict, tuple(tests), total), done.get("tainted"), done
    if len(tests) != total:
        raise InfraError(f"the harness stopped after {len(tests)} of {total} tests")
    return ProgramResult(Verdict.PASSED, tuple(tests), total), done.get("tainted"), done


def _read(channel: Channel, deadline: float) -> dict:
    line = channel.read_line(deadline)
    try:
        message = json.loads(line)
    except (ValueError, RecursionError):
        raise InfraError(f"the harness wrote something unreadable: {line[:300]!r}") from None
    if not isinstance(message, dict) or len(message) != 1:
        raise InfraError(f"the harness wrote an unknown message: {line[:300]!r}")
    return message


def judge(job: Job, record: object, expected_index: int, body: str = "") -> TestResult:
    """A test's verdict from the supervisor's record of it and what the program printed or
    returned (`body`, sent ahead of the record)."""
    if not isinstance(record, dict) or record.get("index") != expected_index:
        raise InfraError(f"the harness reported test {str(record)[:100]}, expected test {expected_index}")
    try:
        seconds = float(record["seconds"])
        memory = record.get("memory_kb")
        memory_kb = int(memory) if memory is not None else None
    except (KeyError, TypeError, ValueError):
        raise InfraError(f"the harness reported a malformed test record: {str(record)[:200]}") from None
    prefix = "before the tests ran: " if record.get("module") else ""

    def result(verdict: Verdict, detail: str = "", digest: str | None = None) -> TestResult:
        return TestResult(expected_index, verdict, seconds, memory_kb, prefix + detail if detail or prefix else "", digest)

    if "observed" in record:
        try:
            verdict = Verdict(record["observed"])
        except ValueError:
            verdict = None
        if verdict not in _OBSERVED:
            raise InfraError(f"the harness observed {record['observed']!r}")
        return result(verdict, str(record.get("detail", "")))
    if "checked" in record:  # an assertion test: the checker's verdict, the program's failures folded in
        if job.kind != "assertion":
            raise InfraError("the harness sent a checked verdict for a test that is not an assertion")
        try:
            verdict = Verdict(record["checked"])
        except ValueError:
            verdict = None
        if verdict not in _CHECKED:
            raise InfraError(f"the harness checked {record['checked']!r}")
        digest = record.get("digest")
        return result(verdict, str(record.get("detail", "")), digest if isinstance(digest, str) else None)
    if job.kind == "assertion" and not record.get("module"):  # only the module's own failure comes as a result
        raise InfraError(f"the harness reported an assertion test without a verdict: {str(record)[:200]}")
    header = record.get("result")
    if not isinstance(header, dict):
        raise InfraError(f"the harness reported a malformed test record: {str(record)[:200]}")
    return judge_result(job, expected_index, header, body, result)


def judge_result(job: Job, index: int, header: dict, body: str, result) -> TestResult:
    """The program's own account of a test (untrusted), judged: what it printed or
    returned against the expected output, an error it raised, or a malformed result."""
    test = job.tests[index]
    kind = header.get("kind")
    if kind == "exit":  # a script (judge semantics): its exit status and what it printed
        status = header.get("status")
        if type(status) is not int:
            return result(Verdict.RUNTIME_ERROR, "malformed result: no exit status")
        if status != 0:
            if "error_type" in header:
                return _error({"type": header["error_type"], "detail": header.get("detail", "")}, result)
            return result(Verdict.RUNTIME_ERROR, f"exited with status {status}")
        kind = "stdout"
    if kind == "error":
        return _error(header, result)
    if kind == "unplain":
        return result(Verdict.WRONG_ANSWER, f"returned {truncate(str(header.get('type', '?')), 80)}, which is not plain data")
    if kind == "stdout" and job.kind == "stdin":
        difference = compare_stdout(body, test.output)
        if difference is None:
            return result(Verdict.PASSED, digest=output_digest(body))
        return result(
            Verdict.WRONG_ANSWER, f"{difference}\nexpected: {truncate(test.output)!r}\ngot: {truncate(body)!r}", output_digest(body)
        )
    if kind == "value" and job.kind == "functional":
        try:
            value = decode_value(body)
        except Malformed as e:
            return result(Verdict.RUNTIME_ERROR, f"malformed result: {e}")
        expected = json.loads(test.output)
        if same_value(value, expected, job.semantics):
            return result(Verdict.PASSED, digest=value_digest(value))
        return result(
            Verdict.WRONG_ANSWER,
            f"input: {truncate(test.input)!r}\nexpected: {truncate(test.output)}\ngot: {shown(value)}",
            value_digest(value),
        )
    return result(Verdict.RUNTIME_ERROR, f"malformed result: kind {truncate(str(kind), 40)!r}")


def _error(header: dict, result) -> TestResult:
    name, detail = str(header.get("type", "")), str(header.get("detail", ""))
    verdict = Verdict.MEMORY_LIMIT if name == "MemoryError" else Verdict.RUNTIME_ERROR
    return result(verdict, truncate(detail, 1200))


def infra_result(job: Job, cause: str) -> ProgramResult:
    return ProgramResult(Verdict.INFRA_ERROR, (), len(job.tests), cause)
