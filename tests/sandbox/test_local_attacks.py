"""The attack suite against the local backend, where its walls exist: rlimits, a session of
its own, a network namespace, and (as root) a user of its own. Memory across processes and
the scratch size have no wall here (no cgroup, no tmpfs): those attacks are Docker's."""

from __future__ import annotations

import os
import socket
import warnings

import pytest

from sandbox import Verdict, make_sandbox
from tests.sandbox.attack_checks import (  # noqa: F401 -- tests collected here, on this backend's outcome
    test_a_program_that_lowers_the_supervisors_limits_harms_no_later_program,
    test_no_state_outlives_a_program,
    test_time_is_the_supervisors_not_the_programs,
)
from tests.sandbox.attacks import (
    ATTACK_LIMITS,
    FIND_STATE_JOB,
    LEAVE_STATE_JOB,
    LOWER_THE_SUPERVISORS_LIMITS_JOB,
    NEEDS_100_MIB_JOB,
    SECRET,
    attacks,
)
from tests.sandbox.conftest import harness_processes, stdin_job

AS_ROOT = os.geteuid() == 0  # then programs run as users of their own
NEEDS_OWN_USER = ("write_outside_scratch", "read_host_environment", "kill_pid1_and_parent")


@pytest.fixture(scope="module")
def outcome():
    server = socket.create_server(("0.0.0.0", 0))
    server.settimeout(0)
    os.environ["RSA_CODE_TEST_SECRET"] = SECRET
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sandbox = make_sandbox("local", ATTACK_LIMITS, workers=2)
    try:
        cases = attacks(docker=False, host_port=server.getsockname()[1], host_addresses=["127.0.0.1"], harness_path=sandbox.harness)
        if not AS_ROOT:  # the program runs as you: your files, processes and /proc are its
            cases = {n: c for n, c in cases.items() if n not in NEEDS_OWN_USER}
        names = list(cases)
        results = dict(zip(names, sandbox.run([cases[n][0] for n in names])))
        left_state = sandbox.run([LEAVE_STATE_JOB] * sandbox.workers)
        found_state = sandbox.run([FIND_STATE_JOB] * sandbox.workers)
        lowered = [
            sandbox.run([job])[0] for job in [LOWER_THE_SUPERVISORS_LIMITS_JOB] * sandbox.workers + [NEEDS_100_MIB_JOB] * sandbox.workers
        ]
        after = sandbox.run([stdin_job("print(sum(map(int, input().split())))", [("1 2", "3")])] * 2)
        warm = {slot.harness.process.pid for slot in sandbox._slots if slot.harness}
        left = set(harness_processes(sandbox.harness)) - warm  # programs and whatever they started
        try:
            server.accept()
            reached = True
        except BlockingIOError:
            reached = False
    finally:
        sandbox.close()
        server.close()
        del os.environ["RSA_CODE_TEST_SECRET"]
    return {
        "cases": cases,
        "results": results,
        "after": after,
        "left_state": left_state,
        "lowered": lowered,
        "found_state": found_state,
        "left": left,
        "reached": reached,
        "network_isolated": sandbox.network_isolated,
        "left_after_close": harness_processes(sandbox.harness),
    }


@pytest.mark.parametrize("name", list(attacks(docker=False, host_port=1, host_addresses=[], harness_path="")))
def test_attack_gets_its_verdict(outcome, name):
    if name not in outcome["cases"]:
        assert not AS_ROOT and name in NEEDS_OWN_USER
        return
    result, expected = outcome["results"][name], outcome["cases"][name][1]
    if name == "sockets_outside_and_to_host" and not outcome["network_isolated"]:
        expected = Verdict.WRONG_ANSWER  # no network namespace allowed here: the warning said so
    assert result.verdict is expected, (result.verdict, result.detail, [(t.verdict, t.detail) for t in result.tests])


def test_network_is_taken_away_where_the_os_allows(outcome):
    if AS_ROOT:
        assert outcome["network_isolated"] is True
    assert outcome["reached"] is not outcome["network_isolated"]


def test_later_runs_are_unaffected_and_nothing_is_left(outcome):
    assert all(r.verdict is Verdict.PASSED for r in outcome["after"]), outcome["after"]
    assert outcome["left"] == set()
    assert outcome["left_after_close"] == []
