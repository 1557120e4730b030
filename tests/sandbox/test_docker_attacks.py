"""The attack suite against the Docker backend: each attack gets its verdict, the containers
and the host are unaffected afterwards (the next programs pass, nothing is left running),
and closing leaves no container behind."""

from __future__ import annotations

import ipaddress
import os
import socket

import pytest

from sandbox import Verdict, make_sandbox
from sandbox.docker_backend import OWNER_LABEL, _owner
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
from tests.sandbox.conftest import stdin_job

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def listener():
    """A TCP port on every address of this machine: no program may reach it."""
    server = socket.create_server(("0.0.0.0", 0))
    server.settimeout(0)
    yield server
    server.close()


@pytest.fixture(scope="module")
def outcome(listener):
    os.environ["RSA_CODE_TEST_SECRET"] = SECRET
    sandbox = make_sandbox("docker", ATTACK_LIMITS, workers=2)
    try:
        bridge = sandbox.client.api.inspect_network("bridge")["IPAM"]["Config"][0]
        gateway = bridge.get("Gateway") or str(next(ipaddress.ip_network(bridge["Subnet"]).hosts()))
        addresses = [gateway, socket.gethostbyname(socket.gethostname())]
        cases = attacks(
            docker=True, host_port=listener.getsockname()[1], host_addresses=addresses, harness_path="/opt/rsa-code/supervisor.py"
        )
        names = list(cases)
        results = dict(zip(names, sandbox.run([cases[n][0] for n in names])))
        left_state = sandbox.run([LEAVE_STATE_JOB] * sandbox.workers)
        found_state = sandbox.run([FIND_STATE_JOB] * sandbox.workers)
        lowered = [
            sandbox.run([job])[0] for job in [LOWER_THE_SUPERVISORS_LIMITS_JOB] * sandbox.workers + [NEEDS_100_MIB_JOB] * sandbox.workers
        ]
        after = sandbox.run([stdin_job("print(sum(map(int, input().split())))", [("1 2", "3")])] * 4)
        processes = [
            len(sandbox.client.api.top(c["Id"])["Processes"])
            for c in sandbox.client.api.containers(filters={"label": f"{OWNER_LABEL}={_owner()}"})
        ]
        scratch_after = sandbox.run(
            [stdin_job("import os\nprint(len(os.listdir('/tmp')), len(os.listdir('/dev/shm')))", [("", "0 0")])] * 2
        )
    finally:
        sandbox.close()
        del os.environ["RSA_CODE_TEST_SECRET"]
    left = sandbox.client.api.containers(all=True, filters={"label": f"{OWNER_LABEL}={_owner()}"})
    return {
        "cases": cases,
        "results": results,
        "after": after,
        "left_state": left_state,
        "lowered": lowered,
        "found_state": found_state,
        "processes": processes,
        "scratch_after": scratch_after,
        "left": left,
    }


CASE_NAMES = list(attacks(docker=True, host_port=1, host_addresses=[], harness_path="").keys())


@pytest.mark.parametrize("name", CASE_NAMES)
def test_attack_gets_its_verdict(outcome, name):
    result, expected = outcome["results"][name], outcome["cases"][name][1]
    assert result.verdict is expected, (result.verdict, result.detail, [(t.verdict, t.detail) for t in result.tests])


def test_limits_say_which_bit(outcome):
    results = outcome["results"]
    assert "ran past 3 s" in results["infinite_loop"].tests[0].detail
    assert "256 MiB" in results["memory_bomb"].tests[0].detail  # the cgroup, as LiveCodeBench sets no address-space limit
    assert "256 MiB" in results["memory_in_memfds"].tests[0].detail
    assert "256 MiB" in results["memory_bomb_in_children"].tests[0].detail  # the OOM killer, seen in the cgroup
    assert "bytes to stdout" in results["gigabyte_to_stdout"].tests[0].detail
    assert (
        "SIGSEGV" in results["recursion_past_the_stack"].tests[0].detail
        or "Recursion" in results["recursion_past_the_stack"].tests[0].detail
    )


def test_later_runs_are_unaffected(outcome, listener):
    assert all(r.verdict is Verdict.PASSED for r in outcome["after"]), outcome["after"]
    assert all(r.verdict is Verdict.PASSED for r in outcome["scratch_after"]), outcome["scratch_after"]  # scratch emptied
    assert outcome["processes"] and all(n == 1 for n in outcome["processes"])  # only each harness: nothing outlived its run
    with pytest.raises(BlockingIOError):
        listener.accept()  # no program reached the host


def test_nothing_is_left_behind(outcome):
    assert outcome["left"] == []
