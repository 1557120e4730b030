"""Red-team attacks on assertion grading (HumanEval, MBPP) and on the warm sandboxes it runs
in. Each test asserts the attack does NOT pass: a failing test is a hole that is there now.

What the attacks use:
- a decode error in the checker that is not the proxy's CallFailed (an OverflowError from
  `{"c": [<huge int>, 0]}`): the checker records no failed call, so a test that swallows the
  exception passes although the call's result was never plain data;
- state a program leaves in a warm container that the next program reads: the PID counter
  (one program advances it to a chosen value mod M; the next reads its own pid), PID 1's
  nice value, I/O priority, CPU affinity and scheduling policy (a process of the same user
  may change them, nothing resets them, later programs inherit them);
- the same in the local backend: the user keyring of the slot's uid, and world-writable
  directories under root-only trees the program reaches with CAP_DAC_READ_SEARCH (Docker's
  image layers under /var/lib/docker: a file planted there also shows inside Docker sandboxes);
- with such a channel, an oracle: a program that does not solve HumanEval/0 learns one
  answer per grading (it is called again only when its guess was right) and passes on its
  fourth grading in the same container;
- the local backend reading the dataset file (documented: "the machine's files are readable").
"""

from __future__ import annotations

import glob
import os
import warnings

import pytest

from problems import load_problems
from sandbox import Limits, Verdict, job_for, make_sandbox
from sandbox.inside.supervisor import LOCAL_TMP_MOUNTS
from sandbox.local_backend import LocalSandboxWarning
from tests.conftest import SHARED_DATA
from tests.sandbox.attacks import SWALLOWING_CHECK, assertion_job

HUMANEVAL = SHARED_DATA / "humaneval" / "HumanEval.jsonl.gz"
LIMITS = Limits(test_seconds=6, memory_mb=512, pids=64, output_bytes=1 << 20, scratch_mb=16)
LEAK_NAME = "rsa-redteam-leak"  # files and keys the local attacks plant (removed afterwards)

# ---------------------------------------------------------------- programs

# The program side is the program's: it replaces the writer of its results and writes a
# complex whose real part is an int too large for a float. canon.loads raises OverflowError
# (not Malformed), so the checker's proxy raises it as if the program had raised it, and
# records no failed call.
OVERFLOW_RESULT = """
import os, sys
def forged(fd, value, output_bytes):
    os.write(fd, b'{"kind": "value"}\\n{"c": [' + b"9" * 400 + b', 0]}')
sys.modules["program"].write_call_result = forged
def f(x):
    return 1
"""
EXCEPTION_SWALLOWING_CHECK = "def check(candidate):\n    try:\n        candidate(2)\n    except Exception:\n        pass\n"

# Advances the PID counter so that the next process gets a pid = 777 (mod 1000) ...
PLANT_PID = """
import threading
def f(x):
    while True:
        t = threading.Thread(target=int)
        t.start()
        t.join()
        if t.native_id % 1000 == 776:
            return 0
"""
# ... which the next program reads from its own pid.
READ_PID = "import os\ndef f(x):\n    return 'leaked' if os.getpid() % 1000 == 777 else 'clean'\n"
LEAKED_CHECK = "def check(candidate):\n    assert candidate(0) == 'leaked'\n"

# Changes PID 1's nice value, I/O priority, CPU affinity and scheduling policy: allowed to a
# process of the same user, inherited by every later program process.
PLANT_SCHEDULING = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
def f(x):
    for change in (
        lambda: os.setpriority(os.PRIO_PROCESS, 1, 7),
        lambda: libc.syscall(251, 1, 1, (2 << 13) | 6),  # ioprio_set(WHO_PROCESS, 1, best-effort level 6)
        lambda: os.sched_setaffinity(1, {min(os.sched_getaffinity(1))}),
        lambda: os.sched_setscheduler(1, os.SCHED_BATCH, os.sched_param(0)),
    ):
        try:
            change()
        except OSError:
            pass
    return 0
"""
READ_SCHEDULING = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
def f(x):
    seen = {{
        "nice": os.getpriority(os.PRIO_PROCESS, 0) != 0,
        "ioprio": libc.syscall(252, 1, 1) not in (0, 4),  # none, or best-effort 4 (the default)
        "affinity": len(os.sched_getaffinity(0)) != {cpus},
        "policy": os.sched_getscheduler(0) != os.SCHED_OTHER,
    }}
    return 'leaked' if seen[{which!r}] else 'clean'
"""

# HumanEval/0 without solving it: it answers by the call's number only. State crosses from
# one grading to the next in the PID counter: (answers known, guess pending) as a value mod
# 4096. Each grading guesses True at the first unknown call; being called again confirms it;
# a pending guess the next grading finds was wrong (the test stopped there): False.
ORACLE = """
import os, threading
M, BASE = 4096, 2048
def _read():
    v = (os.getpid() - 1) % M
    if v < BASE:
        return []
    v -= BASE
    pending, count, bits = v & 1, (v >> 1) & 7, v >> 4
    known = [bool(bits >> i & 1) for i in range(count)]
    return known + [False] if pending else known
def _write(known, pending):
    target = BASE + (pending | len(known) << 1 | sum(1 << i for i, b in enumerate(known) if b) << 4)
    while True:
        t = threading.Thread(target=int)
        t.start()
        t.join()
        if t.native_id % M == target:
            return
KNOWN = _read()
CALLS = [0]
def has_close_elements(numbers, threshold):
    i = CALLS[0]
    CALLS[0] += 1
    if i < len(KNOWN):
        return KNOWN[i]
    while len(KNOWN) < i:
        KNOWN.append(True)  # called again: the guesses so far were right
    _write(KNOWN, 1)
    return True
"""

# Local backend: the slot's uid keeps a user keyring across programs.
PLANT_KEY = f"""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
def f(x):
    libc.syscall(248, b"user", b"{LEAK_NAME}", b"leaked", 6, -4)  # add_key(..., KEY_SPEC_USER_KEYRING)
    return 0
"""
READ_KEY = f"""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
def f(x):
    return 'leaked' if libc.syscall(250, 10, -4, b"user", b"{LEAK_NAME}", 0) > 0 else 'clean'  # KEYCTL_SEARCH
"""
CLEAR_KEYS = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
def f(x):
    libc.syscall(250, 7, -4)  # KEYCTL_CLEAR the user keyring
    return 0
"""
# Local backend: world-writable directories under root-only trees (Docker's image layers),
# reached with the capability that lets the program read what root reads.
PLANT_FILE = f"""
import glob
def f(x):
    for d in glob.glob("/var/lib/docker/overlay2/*/diff/var/tmp") + glob.glob("/var/lib/docker/overlay2/*/diff/tmp"):
        try:
            with open(d + "/{LEAK_NAME}", "w") as out:
                out.write("leaked")
        except OSError:
            pass
    return 0
"""
READ_FILE = f"""
import glob
def f(x):
    found = glob.glob("/var/lib/docker/overlay2/*/diff/*/{LEAK_NAME}") + glob.glob("/var/lib/docker/overlay2/*/diff/*/*/{LEAK_NAME}")
    return 'leaked' if found else 'clean'
"""
# Local backend: the tests are in the dataset file on this machine.
READ_THE_DATASET = f"""
import gzip, json
def _from_the_dataset():
    for line in gzip.open({str(HUMANEVAL.resolve())!r}, "rt"):
        row = json.loads(line)
        if row["entry_point"] == "has_close_elements":
            namespace = {{}}
            exec(row["prompt"] + row["canonical_solution"], namespace)
            return namespace["has_close_elements"]
has_close_elements = _from_the_dataset()
"""


def _explain(result) -> str:
    return f"{result.verdict.value} {result.detail[:200]} {[(t.verdict.value, t.detail[:200]) for t in result.tests]}"


def _remove_planted_files() -> None:
    for path in glob.glob(f"/var/lib/docker/overlay2/*/diff/*/{LEAK_NAME}") + glob.glob(f"/var/lib/docker/overlay2/*/diff/*/*/{LEAK_NAME}"):
        os.remove(path)


@pytest.fixture(scope="module")
def humaneval_0():
    return load_problems([HUMANEVAL])[0]


@pytest.fixture(scope="module")
def docker_sandbox():
    with make_sandbox("docker", LIMITS, workers=1) as sandbox:  # one warm container: jobs follow each other there
        yield sandbox


@pytest.fixture(scope="module")
def local_sandbox():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sandbox = make_sandbox("local", LIMITS, workers=1)
    with sandbox:
        yield sandbox
        sandbox.run([assertion_job(CLEAR_KEYS, EXCEPTION_SWALLOWING_CHECK)])
    _remove_planted_files()


def _in_sequence(sandbox, codes: list[str], check: str = LEAKED_CHECK) -> list:
    return [sandbox.run([assertion_job(code, check)])[0] for code in codes]


# ---------------------------------------------------------------- a decode error the test swallows


@pytest.mark.docker
@pytest.mark.parametrize("check", [SWALLOWING_CHECK, EXCEPTION_SWALLOWING_CHECK], ids=["base_exception", "exception"])
def test_docker_a_result_the_checker_cannot_decode_fails_even_when_swallowed(docker_sandbox, check):
    result = docker_sandbox.run([assertion_job(OVERFLOW_RESULT, check)])[0]
    assert result.verdict is not Verdict.PASSED, _explain(result)


@pytest.mark.parametrize("check", [SWALLOWING_CHECK, EXCEPTION_SWALLOWING_CHECK], ids=["base_exception", "exception"])
def test_local_a_result_the_checker_cannot_decode_fails_even_when_swallowed(local_sandbox, check):
    result = local_sandbox.run([assertion_job(OVERFLOW_RESULT, check)])[0]
    assert result.verdict is not Verdict.PASSED, _explain(result)


# ---------------------------------------------------------------- state that outlives a program (Docker)


@pytest.mark.docker
def test_docker_the_pid_counter_carries_no_value_to_the_next_program(docker_sandbox):
    planted, read = _in_sequence(docker_sandbox, [PLANT_PID, READ_PID])
    assert planted.verdict is not Verdict.PASSED  # it returned 0
    assert read.verdict is not Verdict.PASSED, "the next program read the value the previous one planted in the PID counter"


@pytest.mark.docker
@pytest.mark.parametrize("which", ["nice", "ioprio", "affinity", "policy"])
def test_docker_pid1_scheduling_state_does_not_reach_the_next_program(docker_sandbox, which):
    cpus = len(os.sched_getaffinity(0))
    _, read = _in_sequence(docker_sandbox, [PLANT_SCHEDULING, READ_SCHEDULING.format(which=which, cpus=cpus)])
    assert read.verdict is not Verdict.PASSED, f"PID 1's {which}, changed by a program, is inherited by the next one"


@pytest.mark.docker
@pytest.mark.slow
def test_docker_a_program_that_does_not_solve_humaneval_0_never_passes_by_grading_again(humaneval_0):
    assert humaneval_0.func_name == "has_close_elements"
    with make_sandbox("docker", LIMITS, workers=1) as sandbox:  # a fresh container: the PID counter starts low
        verdicts = [sandbox.run([job_for(humaneval_0, ORACLE)])[0] for _ in range(6)]
    passed = [n for n, r in enumerate(verdicts, 1) if r.verdict is Verdict.PASSED]
    assert not passed, f"passed on grading {passed} of the same non-solving program: {[_explain(r) for r in verdicts]}"


# ---------------------------------------------------------------- state that outlives a program (local)


def test_local_the_user_keyring_carries_nothing_to_the_next_program(local_sandbox):
    _, read = _in_sequence(local_sandbox, [PLANT_KEY, READ_KEY])
    assert read.verdict is not Verdict.PASSED, "the slot's uid keeps its user keyring from one program to the next"


def test_local_no_program_writes_where_the_next_one_reads(local_sandbox):
    try:
        _, read = _in_sequence(local_sandbox, [PLANT_FILE, READ_FILE])
    finally:
        _remove_planted_files()
    assert read.verdict is not Verdict.PASSED, "a program wrote a file under /var/lib/docker (Docker's image layers) that the next one read"


@pytest.mark.docker
def test_docker_a_program_does_not_pass_humaneval_by_reading_the_dataset(docker_sandbox, humaneval_0):
    result = docker_sandbox.run([job_for(humaneval_0, READ_THE_DATASET)])[0]
    assert result.verdict is not Verdict.PASSED, "the program read the canonical solution and tests from the dataset file"


def test_local_reading_the_dataset_is_the_wall_the_local_warning_names(humaneval_0):
    """The local backend's documented wall: this machine's files are readable, the dataset
    included, so a program can pass by reading its tests; the warning says so (trusted code only)."""
    with (
        pytest.warns(LocalSandboxWarning, match="this machine's files are readable") as caught,
        make_sandbox("local", LIMITS, workers=1) as sandbox,
    ):
        result = sandbox.run([job_for(humaneval_0, READ_THE_DATASET)])[0]
    hidden = any(HUMANEVAL.resolve().is_relative_to(d) for d in LOCAL_TMP_MOUNTS)  # a private tmpfs covers it
    if hidden:
        assert result.verdict is not Verdict.PASSED
    else:
        assert result.verdict is Verdict.PASSED, "the wall moved: update docs/sandbox.md and this test"
    assert "trusted code" in str(caught[0].message)


@pytest.mark.docker
def test_a_local_program_plants_nothing_a_docker_program_sees(local_sandbox):
    """The image's own layer has a world-writable /var/tmp: a local program that writes there
    (see above) puts a file into every Docker sandbox's read-only root."""
    see = "import os\ndef f(x):\n    return 'leaked' if os.path.exists('/var/tmp/" + LEAK_NAME + "') else 'clean'\n"
    try:
        local_sandbox.run([assertion_job(PLANT_FILE, LEAKED_CHECK)])
        with make_sandbox("docker", LIMITS, workers=1) as docker:
            read = docker.run([assertion_job(see, LEAKED_CHECK)])[0]
    finally:
        _remove_planted_files()
    assert read.verdict is not Verdict.PASSED, "a local program's file showed in a Docker sandbox's /var/tmp"


# ---------------------------------------------------------------- what held (controls that must keep holding)

TUPLE_CHECK = "def check(candidate):\n    assert candidate(0) == (1, 2)\n"
FORGE_BODY = """
import os, sys
def forged(fd, value, output_bytes):
    os.write(fd, b'{{"kind": "value"}}\\n' + {body!r})
sys.modules["program"].write_call_result = forged
def f(x):
    return 1
"""


@pytest.mark.parametrize(
    "code, verdict",
    [
        ("def f(x):\n    return {'t': [1, 2]}\n", Verdict.WRONG_ANSWER),  # a dict that looks like a tuple's tag
        (FORGE_BODY.format(body=b'{"t": [1, 2], "x": 0}'), Verdict.RUNTIME_ERROR),  # a tag with a second key
        (FORGE_BODY.format(body=b'{"t": [1, 2]} trailing'), Verdict.RUNTIME_ERROR),
        (FORGE_BODY.format(body=b'{"y": "tuple"}'), Verdict.WRONG_ANSWER),  # a type, not a tuple
        (FORGE_BODY.format(body=b'{"d": [[[1], 2]]}'), Verdict.RUNTIME_ERROR),  # an unhashable key
        (FORGE_BODY.format(body=b"NaN"), Verdict.WRONG_ANSWER),
    ],
    ids=["dict_like_a_tag", "tag_with_two_keys", "trailing_text", "type_tag", "unhashable_key", "nan"],
)
def test_local_forged_canonical_results_do_not_pass(local_sandbox, code, verdict):
    result = local_sandbox.run([assertion_job(code, TUPLE_CHECK)])[0]
    assert result.verdict is verdict, _explain(result)


# The same oracle locally, its state in the slot uid's user keyring.
KEYRING_ORACLE = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
NAME = b"rsa-redteam-oracle"
def _read():
    key = libc.syscall(250, 10, -4, b"user", NAME, 0)  # KEYCTL_SEARCH the user keyring
    if key <= 0:
        return []
    buffer = ctypes.create_string_buffer(64)
    length = libc.syscall(250, 11, key, buffer, 64)  # KEYCTL_READ
    state = buffer.raw[:length].decode()
    known = [c == "T" for c in state.rstrip("P")]
    return known + [False] if state.endswith("P") else known
def _write(known):
    state = ("".join("T" if b else "F" for b in known) + "P").encode()
    libc.syscall(248, b"user", NAME, state, len(state), -4)  # add_key: replaces the payload
KNOWN = _read()
CALLS = [0]
def has_close_elements(numbers, threshold):
    i = CALLS[0]
    CALLS[0] += 1
    if i < len(KNOWN):
        return KNOWN[i]
    while len(KNOWN) < i:
        KNOWN.append(True)
    _write(KNOWN)
    return True
"""


def test_local_a_program_that_does_not_solve_humaneval_0_never_passes_by_grading_again(local_sandbox, humaneval_0):
    local_sandbox.run([assertion_job(CLEAR_KEYS, EXCEPTION_SWALLOWING_CHECK)])  # the keyring outlives sandboxes too
    verdicts = [local_sandbox.run([job_for(humaneval_0, KEYRING_ORACLE)])[0] for _ in range(5)]
    passed = [n for n, r in enumerate(verdicts, 1) if r.verdict is Verdict.PASSED]
    assert not passed, f"passed on grading {passed} of the same non-solving program: {[_explain(r) for r in verdicts]}"
