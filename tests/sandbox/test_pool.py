"""The worker pool both backends share, with fake slots: retries of infrastructure
failures, infra_error when they persist, job validation, closing."""

from __future__ import annotations

import base64
import json
import threading

import pytest

from problems import TestCase
from sandbox import Job, Limits, ProgramResult, Verdict
from sandbox.image import apt_mirror
from sandbox.pool import ATTEMPTS, PooledSandbox
from sandbox.protocol import InfraError, exchange
from tests.sandbox.conftest import functional_job, stdin_job

JOB = stdin_job("print(1)", [("", "1")])


class FakeSlot:
    """Fails the first `failures` grades with InfraError, then passes every job."""

    def __init__(self, failures: int = 0, block: threading.Event | None = None):
        self.failures = failures
        self.block = block
        self.grades = self.discards = 0

    def grade(self, job: Job) -> ProgramResult:
        self.grades += 1
        if self.block is not None:
            self.block.wait()
        if self.grades <= self.failures:
            raise InfraError(f"fake failure {self.grades}")
        return ProgramResult(Verdict.PASSED, (), len(job.tests))

    def discard(self) -> None:
        self.discards += 1


def test_a_passing_failure_is_retried():
    slot = FakeSlot(failures=ATTEMPTS - 1)
    with PooledSandbox(Limits(), [slot]) as sandbox:
        assert sandbox.run([JOB])[0].verdict is Verdict.PASSED
    assert slot.discards >= ATTEMPTS - 1


def test_a_lasting_failure_is_an_infra_error_with_its_causes():
    with PooledSandbox(Limits(), [FakeSlot(failures=100)]) as sandbox:
        result = sandbox.run([JOB])[0]
    assert result.verdict is Verdict.INFRA_ERROR and result.total == 1
    assert all(f"fake failure {n}" in result.detail for n in range(1, ATTEMPTS + 1))


def test_results_keep_job_order_across_slots():
    jobs = [stdin_job("print(1)", [("", "1")] * n) for n in range(1, 9)]
    with PooledSandbox(Limits(), [FakeSlot(), FakeSlot(), FakeSlot()]) as sandbox:
        assert [r.total for r in sandbox.run(jobs)] == list(range(1, 9))


@pytest.mark.parametrize(
    "job, message",
    [
        (Job("print(1)", "stdin", ()), "at least one test"),
        (functional_job("x", "f", [("not json", "1")]), "must be JSON"),
        (functional_job("x", "f", [("1", "[1,")]), "must be JSON"),
        (Job("x", "functional", (TestCase(input="1", output="1"),)), "func_name"),
    ],
)
def test_jobs_the_harness_could_not_grade_fairly_are_refused(job, message):
    with PooledSandbox(Limits(), [FakeSlot()]) as sandbox, pytest.raises(ValueError, match=message):
        sandbox.run([JOB, job])


def test_closing_fails_waiting_jobs_and_refuses_new_ones():
    gate = threading.Event()
    sandbox = PooledSandbox(Limits(), [FakeSlot(block=gate)])
    errors: list[BaseException] = []

    def run() -> None:
        try:
            sandbox.run([JOB, JOB])
        except RuntimeError as e:
            errors.append(e)

    caller = threading.Thread(target=run)
    caller.start()
    sandbox.close()
    gate.set()
    caller.join(timeout=5)
    assert errors and "closed" in str(errors[0])
    with pytest.raises(RuntimeError, match="closed"):
        sandbox.run([JOB])


class FakeSupervisorChannel:
    """A supervisor that answers the job it is sent with scripted records (a fake, for the
    host's side of the protocol); keeps what the host sent."""

    def __init__(self, records: list[dict], done: dict | None = None):
        self.records, self.done, self.sent, self.replies = records, done or {}, [], []

    def send(self, data: bytes, deadline: float) -> None:
        message = json.loads(data)
        self.sent.append(message)
        if "job" in message:
            job_id = message["job"]["id"]
            self.replies = []
            for record in self.records:  # a test's output goes ahead of its record, in base64 chunks
                record = dict(record)
                if "body" in record:
                    self.replies.append(json.dumps({"body": base64.b64encode(record.pop("body").encode()).decode()}).encode())
                self.replies.append(json.dumps({"test": record}).encode())
            self.replies.append(json.dumps({"done": {"job": job_id, "tainted": None, **self.done}}).encode())

    def read_line(self, deadline: float) -> bytes:
        return self.replies.pop(0)


def _ran(index: int, body: str, **extra) -> dict:
    return {"index": index, "seconds": 0.1, "memory_kb": 9000, "result": {"kind": "stdout"}, "body": body, **extra}


def test_expected_outputs_never_leave_the_host():
    job = stdin_job("x", [("1", "SECRET-ONE"), ("2", "SECRET-TWO")])
    channel = FakeSupervisorChannel([_ran(0, "SECRET-ONE"), _ran(1, "SECRET-TWO")])
    result, _, _ = exchange(channel, job, Limits())
    assert result.verdict is Verdict.PASSED and result.passed == 2
    assert "SECRET" not in json.dumps(channel.sent) and channel.sent[0]["job"]["inputs"] == ["1", "2"]


def test_the_host_judges_and_stops_the_rest_after_a_failure():
    job = stdin_job("x", [("", "1")] * 3)
    channel = FakeSupervisorChannel([_ran(0, "1"), _ran(1, "2"), _ran(2, "1")])  # the third ran before the stop arrived
    result, _, _ = exchange(channel, job, Limits())
    assert result.verdict is Verdict.WRONG_ANSWER and [t.verdict for t in result.tests] == [Verdict.PASSED, Verdict.WRONG_ANSWER]
    assert channel.sent[1] == {"stop": channel.sent[0]["job"]["id"]}


@pytest.mark.parametrize(
    "result, body",
    [({"kind": "value"}, "1"), ({"kind": "?"}, "1"), ({"kind": "stdout", "verdict": "passed"}, "0"), ({}, "")],
)
def test_whatever_the_program_wrote_is_judged_never_believed(result, body):
    job = stdin_job("x", [("", "1")])
    verdict = exchange(FakeSupervisorChannel([{**_ran(0, body), "result": result}]), job, Limits())[0].verdict
    assert verdict in (Verdict.RUNTIME_ERROR, Verdict.WRONG_ANSWER)


def test_observed_limits_and_broken_records():
    job = stdin_job("x", [("", "1")] * 3)
    observed = {"index": 1, "seconds": 6.0, "memory_kb": None, "observed": "time_limit", "detail": "ran past 6 s"}
    result, _, _ = exchange(FakeSupervisorChannel([_ran(0, "1"), observed]), job, Limits())
    assert result.verdict is Verdict.TIME_LIMIT and result.passed == 1 and result.total == 3
    with pytest.raises(InfraError):  # stopped early without a failure
        exchange(FakeSupervisorChannel([_ran(0, "1")]), job, Limits())
    with pytest.raises(InfraError):  # a verdict only the host may give
        exchange(FakeSupervisorChannel([{**observed, "observed": "passed"}]), job, Limits())
    with pytest.raises(InfraError):  # a record out of order
        exchange(FakeSupervisorChannel([_ran(1, "1")]), job, Limits())


def test_apt_mirror_is_read_from_both_source_formats(tmp_path):
    (tmp_path / "a.sources").write_text(
        "Types: deb\nURIs: http://deb.debian.org/debian-security\n\nTypes: deb\nURIs: http://mirror.example/debian/\n"
    )
    assert apt_mirror((str(tmp_path),)) == "http://mirror.example/debian"
    legacy = tmp_path / "sources.list"
    legacy.write_text("# deb http://commented/debian bookworm main\ndeb [arch=amd64] http://other.example/debian bookworm main\n")
    assert apt_mirror((str(legacy),)) == "http://other.example/debian"
    assert apt_mirror((str(tmp_path / "none"),)) == "http://deb.debian.org/debian"
