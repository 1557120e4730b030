"""The Docker backend's containers: warm reuse, replacement when tainted, retries when the
sandbox fails, concurrency from threads, and no container left behind however the
process ends (close, normal exit, Ctrl-C, SIGTERM, a crash)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import docker
import pytest

from sandbox import Limits, SandboxUnavailable, Verdict, make_sandbox
from sandbox.docker_backend import LABEL, OWNER_LABEL
from tests.conftest import REPO_ROOT
from tests.sandbox.conftest import functional_job, stdin_job

pytestmark = pytest.mark.docker
ADD = stdin_job("print(sum(map(int, input().split())))", [("1 2", "3"), ("3 4", "7")])
SLEEPY = stdin_job("import time\ntime.sleep(1000)", [("", "x")])


def containers_of(pid: int) -> list[dict]:
    client = docker.from_env()
    return [
        c
        for c in client.api.containers(all=True, filters={"label": LABEL})
        if c["Labels"].get(OWNER_LABEL, "").split(":")[1:2] == [str(pid)]
    ]


def wait_until(condition, seconds: float = 20.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@pytest.fixture(scope="module")
def sandbox():
    box = make_sandbox("docker", Limits(test_seconds=2), workers=2)
    yield box
    box.close()


def live_ids(sandbox) -> set[str]:
    return {slot.container.id for slot in sandbox._slots if slot.container}


def test_containers_are_warm_and_tainted_ones_replaced(sandbox):
    assert all(r.ok for r in sandbox.run([ADD] * 4))
    warm = live_ids(sandbox)
    assert all(r.ok for r in sandbox.run([ADD] * 4))
    assert live_ids(sandbox) == warm  # reused
    assert sandbox.run([SLEEPY])[0].verdict is Verdict.TIME_LIMIT
    assert len(live_ids(sandbox)) == len(warm) - 1  # the one that had to kill is gone
    assert all(r.ok for r in sandbox.run([ADD] * 4))
    assert len(live_ids(sandbox)) == len(warm) and live_ids(sandbox) != warm  # and replaced
    assert len(containers_of(os.getpid())) == len(warm)


def test_run_from_threads_keeps_order_and_bound(sandbox):
    jobs = [functional_job("class Solution:\n    def f(self, x):\n        return x * 2", "f", [(str(i), str(2 * i))]) for i in range(12)]
    wrong = [functional_job("class Solution:\n    def f(self, x):\n        return x", "f", [("5", "10")])]
    outcomes: dict[str, list] = {}

    def grade(name, batch):
        outcomes[name] = sandbox.run(batch)

    threads = [threading.Thread(target=grade, args=("a", jobs)), threading.Thread(target=grade, args=("b", wrong + jobs))]
    for t in threads:
        t.start()
    peak = 0
    while any(t.is_alive() for t in threads):
        peak = max(peak, len(containers_of(os.getpid())))
        time.sleep(0.05)
    assert all(r.ok for r in outcomes["a"]) and len(outcomes["a"]) == 12
    assert outcomes["b"][0].verdict is Verdict.WRONG_ANSWER and all(r.ok for r in outcomes["b"][1:])
    assert peak <= 2


def test_a_container_killed_from_outside_is_retried(sandbox, caplog):
    slow = stdin_job("import time\ntime.sleep(1)\nprint(1)", [("", "1")])
    result: list = []
    worker = threading.Thread(target=lambda: result.extend(sandbox.run([slow])))
    worker.start()
    api = docker.from_env().api

    def busy() -> list[str]:  # the container whose harness has a program running
        return [i for i in live_ids(sandbox) if len(api.top(i)["Processes"]) > 1]

    assert wait_until(busy, 10)
    api.kill(busy()[0])
    worker.join()
    assert result[0].verdict is Verdict.PASSED  # graded again, on a fresh container
    assert "attempt 1 of 3" in caplog.text


def test_missing_image_and_engine_say_what_to_do(monkeypatch):
    with pytest.raises(SandboxUnavailable, match="rsa-code sandbox build"):
        make_sandbox("docker", image="rsa-code-sandbox:no-such-tag")
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:9")
    with pytest.raises(SandboxUnavailable, match=r"tcp://127.0.0.1:9.*--sandbox local"):
        make_sandbox("auto")


# A process that starts a sandbox, grades a program that sleeps, and then meets its end.
SCRIPT = """
import os, sys, threading, time
from problems import TestCase
from sandbox import Job, Limits, make_sandbox
sandbox = make_sandbox("docker", Limits(test_seconds=30), workers=2)
job = Job("import time\\ntime.sleep(1000)", "stdin", (TestCase(input="", output="x"),))
threading.Thread(target=sandbox.run, args=([job, job],), daemon=True).start()
time.sleep(1)
print("running", flush=True)
if sys.argv[1] == "exit":
    sys.exit(0)
time.sleep(60)
"""


@pytest.mark.parametrize("end", ["exit", "sigint", "sigterm", "sigkill"])
def test_no_container_outlives_its_process(end):
    process = subprocess.Popen([sys.executable, "-c", SCRIPT, end], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline() == "running\n"
    assert len(containers_of(process.pid)) == 2
    if end != "exit":
        process.send_signal({"sigint": signal.SIGINT, "sigterm": signal.SIGTERM, "sigkill": signal.SIGKILL}[end])
    process.wait(timeout=60)
    if end == "sigterm":
        assert process.returncode == -signal.SIGTERM  # it still dies of the signal
    # A crash leaves no time to clean up: each container sees its stdin close and removes itself.
    assert wait_until(lambda: not containers_of(process.pid), 30 if end == "sigkill" else 5), containers_of(process.pid)


def test_stale_containers_are_removed_at_the_next_start():
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
    client = docker.from_env()
    host = os.uname().nodename
    stale = client.api.create_container("rsa-code-sandbox:latest", labels={LABEL: "1", OWNER_LABEL: f"{host}:{dead}:1"})
    try:
        box = make_sandbox("docker", workers=1)
        box.close()
        assert box.stale_removed >= 1
        assert not client.api.containers(all=True, filters={"id": stale["Id"]})
    finally:
        try:
            client.api.remove_container(stale["Id"], force=True)
        except docker.errors.NotFound:
            pass
