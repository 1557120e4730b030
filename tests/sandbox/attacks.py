"""Hostile programs and the verdict each must get. They reach for what LiveCodeBench's
reliability_guard removes from `os` through `posix` and `ctypes`, so the sandbox's own
walls are what stop them; and they try to forge a verdict, each class of forgery an
adversarial model could learn: an `__eq__` that always says yes, a patched comparison, a
forged report to the supervisor, the expected output read from memory, a clock restarted
or patched, a malformed report, memory outside the program's count, state left for the
next program. Expected outputs here are secrets no program can compute."""

from __future__ import annotations

import os

from problems import TestCase
from sandbox import Job, Limits, Verdict
from tests.sandbox.conftest import functional_job, stdin_job

SECRET = "rsa-code-test-s3cr3t-7f1c"  # put in this process's environment by the tests
ATTACK_LIMITS = Limits(test_seconds=3, memory_mb=256, pids=32, output_bytes=1 << 20, scratch_mb=16)
P, WA, RE, TLE = Verdict.PASSED, Verdict.WRONG_ANSWER, Verdict.RUNTIME_ERROR, Verdict.TIME_LIMIT

FORK_BOMB = """
import posix
while True:
    try:
        posix.fork()
    except OSError:
        pass
"""
MEMORY_BOMB = """
chunks = []
while True:
    chunks.append(bytearray(1 << 24))
"""
# Each process stays under the address-space limit; together they pass the container's
# memory. The program process holds the most, so the OOM killer picks it.
MEMORY_BOMB_IN_CHILDREN = """
import posix, time
for _ in range(2):
    if posix.fork() == 0:
        theirs = b"1" * (100 << 20)
        time.sleep(100)
time.sleep(1)
mine = [b"1" * (10 << 20) for _ in range(22)]
time.sleep(100)
"""
GIGABYTE_TO_STDOUT = """
import sys
block = "x" * (1 << 20)
for _ in range(1024):
    sys.stdout.write(block)
"""
SOCKETS = """
import socket
outcomes = []
for host, port in {targets!r}:
    s = socket.socket()
    s.settimeout(1)
    try:
        s.connect((host, port))
        outcomes.append("open")
    except OSError:
        outcomes.append("blocked")
try:
    socket.getaddrinfo("example.com", 80)
    outcomes.append("resolved")
except OSError:
    outcomes.append("blocked")
print(" ".join(outcomes))
"""
WRITE_OUTSIDE_SCRATCH = """
import os
written = []
for path in {paths!r}:
    try:
        with open(path, "a") as f:
            f.write("x")
        written.append(path)
    except OSError:
        pass
with open(os.path.join(os.environ["TMPDIR"], "mine"), "w") as f:
    f.write("scratch works")
print("denied" if not written else written)
"""
FILL_SCRATCH = """
import errno, os
i = 0
try:
    while True:
        with open(os.path.join(os.environ["TMPDIR"], f"fill{i}"), "wb") as f:
            f.write(b"x" * 500_000)
        i += 1
except OSError as e:
    print("full" if e.errno == errno.ENOSPC else repr(e))
"""
READ_HOST_ENVIRONMENT = """
import glob, os
seen = " ".join(f"{k}={v}" for k, v in os.environ.items())
for path in glob.glob("/proc/*/environ"):
    try:
        with open(path, "rb") as f:
            seen += f.read().decode(errors="replace")
    except OSError:
        pass
print("leak" if "s3cr3t" in seen else "clean", " ".join(sorted(os.environ)))
"""
OUTLIVE_THE_RUN = """
import posix, time
if posix.fork() == 0:
    posix.setsid()
    if posix.fork() == 0:
        time.sleep(1000)
    posix._exit(0)
print("started")
"""
KILL_PID1_AND_PARENT = """
import posix, signal
for target in (1, posix.getppid()):
    try:
        posix.kill(target, signal.SIGKILL)
    except OSError:
        pass
print("alive")
"""
CLOSE_STDOUT = "import sys\nsys.stdout.close()\nprint(3)\n"
CLOSE_FD_1 = "import posix\nposix.close(1)\nprint(3)\n"
HUGE_RECURSION = "def f(n):\n    return f(n + 1) + 1\nf(0)\n"
RECURSION_PAST_THE_STACK = (
    "import sys\nsys.setrecursionlimit(10 ** 8)\nimport functools\n@functools.lru_cache(None)\ndef f(n):\n    return f(n + 1) + 1\nf(0)\n"
)
STDIN_PAST_ITS_END = "input()\ninput()\n"
NOT_UTF8 = 'import sys\nsys.stdout.buffer.write(b"\\xff\\xfe\\n")\n'
LONE_SURROGATE = 'print("\\udcff")\n'

# -- forging a verdict. EXPECTED is in no input: only reading it from memory could pass.
EXPECTED = "forged-7d3e1b"
ALWAYS_EQUAL_OBJECT = """
class Yes:
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
class Solution:
    def f(self, x):
        return Yes()
"""
ALWAYS_EQUAL_INT = """
class Yes(int):
    def __eq__(self, other):
        return True
    __hash__ = int.__hash__
class Solution:
    def f(self, x):
        return Yes(0)
"""
ALWAYS_EQUAL_LIST = """
class Yes(list):
    def __eq__(self, other):
        return True
class Solution:
    def f(self, x):
        return Yes()
"""
PATCH_THE_COMPARISON = """
import builtins, decimal, gc, json, sys
yes = lambda *a, **k: True
for module in list(sys.modules.values()):
    for name in ("compare_stdout", "same_value", "_same_decimals", "stripped_lines", "judge", "judge_result"):
        try:
            setattr(module, name, yes)
        except Exception:
            pass
for o in gc.get_objects():
    if isinstance(o, dict):
        for name in ("compare_stdout", "same_value", "dumps", "canonical", "write_value"):
            if name in o and callable(o[name]):
                o[name] = lambda *a, **k: '"' + "forged" + '"'
json.loads = lambda *a, **k: "forged"
decimal.Decimal = lambda *a, **k: 0
builtins.bool = lambda *a: True
class Solution:
    def f(self, x):
        return "forged"
"""
FORGE_REPORTS = """
import json, os, socket
lines = [json.dumps({"test": {"index": i, "verdict": "passed", "seconds": 0.0}}) for i in range(3)]
for fd in range(3, 64):
    for data in [b"T0", b"T1", b"T2", b"M", b"S"] + [(l + "\\n").encode() for l in lines]:
        try:
            socket.socket(fileno=os.dup(fd)).send(data)
        except OSError:
            try:
                os.write(fd, data)
            except OSError:
                pass
os._exit(0)
"""
READ_THE_EXPECTED_OUTPUT = """
import gc, sys
seen = set()
frame = sys._getframe()
while frame is not None:
    for scope in (frame.f_locals, frame.f_globals):
        for value in list(scope.values()):
            if isinstance(value, (str, bytes, list, tuple, dict)):
                seen.add(repr(value))
    frame = frame.f_back
for o in gc.get_objects():
    if isinstance(o, (list, tuple, dict)):
        seen.add(repr(o)[:10000])
found = [s for s in seen if "forged-" in s]
import re
match = re.search(r"forged-[0-9a-f]{6}", " ".join(found))
print(match.group(0) if match else "nothing")
"""
RESTART_THE_CLOCK = """
import os, socket, threading, time
def chatter():
    while True:
        for fd in range(3, 64):
            try:
                socket.socket(fileno=os.dup(fd)).send(b"T0")
            except OSError:
                pass
        time.sleep(0.5)
threading.Thread(target=chatter, daemon=True).start()
end = time.time() + 5
while time.time() < end:
    pass
print(3)
"""
IGNORE_SIGXCPU = """
import signal, time
signal.signal(signal.SIGXCPU, signal.SIG_IGN)
end = time.process_time() + 5
while time.process_time() < end:
    pass
print(3)
"""
PATCH_THE_CLOCK = """
import time
real_sleep = time.sleep
for name in ("perf_counter", "monotonic", "time", "process_time"):
    setattr(time, name, lambda: 0.0)
real_sleep(1.5)
print(3)
"""
MALFORMED_RESULT = """
import os
for fd in range(3, 64):
    try:
        if "memfd:result" in os.readlink(f"/proc/self/fd/{fd}"):
            os.lseek(fd, 0, 0)
            os.write(fd, b"\\xff\\xfe{not json\\n" * 10)
    except OSError:
        pass
print(3)
"""
MEMORY_IN_MEMFDS = """
import os
fds = []
block = b"x" * (1 << 20)  # each file within the file-size limit
for i in range(1000):
    fd = os.memfd_create(f"hoard{i}")
    os.write(fd, block)
    fds.append(fd)
print("held")
"""
LEAVE_STATE = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.mq_open.restype = ctypes.c_int
q = libc.mq_open(b"/rsa-code-left", os.O_CREAT | os.O_RDWR, 0o600, None)
libc.mq_send(q, b"left", 4, 0)
libc.shmget(0x5eed, 4096, 0o1600)
for d in ("/tmp", "/dev/shm", "/var/tmp"):
    try:
        open(os.path.join(d, "rsa-code-left"), "w").write("left")
    except OSError:
        pass
print("left")
"""
FIND_STATE = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.mq_open.restype = ctypes.c_int
found = []
if libc.mq_open(b"/rsa-code-left", os.O_RDONLY, 0, None) >= 0:
    found.append("mqueue")
if libc.shmget(0x5eed, 0, 0) >= 0:
    found.append("sysv")
for d in ("/tmp", "/dev/shm", "/var/tmp"):
    if os.path.exists(os.path.join(d, "rsa-code-left")):
        found.append(d)
print("clean" if not found else " ".join(found))
"""
REACH_THE_SUPERVISOR = """
import ctypes, os, posix
libc = ctypes.CDLL(None, use_errno=True)
reached = []
for pid in {1, posix.getppid()}:
    if libc.ptrace(16, pid, None, None) == 0:  # PTRACE_ATTACH
        reached.append(f"ptrace {pid}")
    for path in (f"/proc/{pid}/mem", f"/proc/{pid}/fd/0", f"/proc/{pid}/fd/1", f"/proc/{pid}/environ"):
        try:
            open(path, "rb").close()
            reached.append(path)
        except OSError:
            pass
print("denied" if not reached else reached)
"""

# -- found by a red team against the first version of this grader
DEEP_RESULT_HEADER = """
import os
result = answer = None
for fd in map(int, os.listdir("/proc/self/fd")):
    try:
        link = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        continue
    if link.startswith("/memfd:result"):
        result = fd
    elif link.startswith("pipe:") and fd > 2:
        answer = fd
deep = "[" * 2000 + "]" * 2000
os.write(result, ('{"kind": "error", "type": "X", "deep": ' + deep + '}\\n').encode())
if answer is not None:
    try:
        os.write(answer, b"T0\\n")
    except OSError:
        pass
os._exit(1)
"""
DEEP_DIRECTORIES = """
import os
fd = os.open("/tmp", os.O_RDONLY)
for i in range(3000):
    os.mkdir("a" * 255, dir_fd=fd)
    inner = os.open("a" * 255, os.O_RDONLY, dir_fd=fd)
    os.close(fd)
    fd = inner
print("deep")
"""
READ_LATER_INPUTS = """
import sys
frame, seen = sys._getframe(), []
while frame is not None:
    for value in list(frame.f_locals.values()):
        if isinstance(value, dict) and "inputs" in value:
            seen += value["inputs"]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            seen += value
    frame = frame.f_back
print("later-input-seen" if any("later-input" in v for v in seen) else "none")
"""
LOWER_THE_SUPERVISORS_LIMITS = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
class Limit(ctypes.Structure):
    _fields_ = [("cur", ctypes.c_ulong), ("max", ctypes.c_ulong)]
for pid in {1, os.getppid()}:
    libc.prlimit(pid, 9, ctypes.byref(Limit(64 << 20, 64 << 20)), None)  # RLIMIT_AS: less than an interpreter holds
print("lowered")
"""
NEEDS_100_MIB = "x = bytearray(100 << 20)\nprint('ok')\n"

ENV_KEYS = "HOME LANG OMP_NUM_THREADS PATH PYTHONHASHSEED TMPDIR"
ROOT_OWNED = ["/x", "/etc/passwd", "/usr/lib/x", "/root/x", "/var/x"]


def attacks(*, docker: bool, host_port: int, host_addresses: list[str], harness_path: str) -> dict[str, tuple[Job, Verdict]]:
    """name -> (job, verdict). The backend-specific ones apply where their wall exists:
    the memory cgroup and the scratch tmpfs in Docker only."""
    targets = [("1.1.1.1", 53), ("8.8.8.8", 443)] + [(a, host_port) for a in host_addresses]
    network_answer = " ".join(["blocked"] * (len(targets) + 1))
    found = {
        "fork_bomb": (stdin_job(FORK_BOMB, [("", "x")]), TLE),
        "memory_bomb": (stdin_job(MEMORY_BOMB, [("", "x")]), Verdict.MEMORY_LIMIT),
        "infinite_loop": (stdin_job("while True:\n    pass\n", [("", "x")]), TLE),
        "sleep_forever": (stdin_job("import time\ntime.sleep(10 ** 6)\n", [("", "x")]), TLE),
        "gigabyte_to_stdout": (stdin_job(GIGABYTE_TO_STDOUT, [("", "x")]), Verdict.OUTPUT_LIMIT),
        "sockets_outside_and_to_host": (stdin_job(SOCKETS.format(targets=targets), [("", network_answer)]), P),
        "write_outside_scratch": (stdin_job(WRITE_OUTSIDE_SCRATCH.format(paths=ROOT_OWNED + [harness_path]), [("", "denied")]), P),
        "read_host_environment": (stdin_job(READ_HOST_ENVIRONMENT, [("", f"clean {ENV_KEYS}")]), P),
        "outlive_the_run": (stdin_job(OUTLIVE_THE_RUN, [("", "started")]), P),
        "kill_pid1_and_parent": (stdin_job(KILL_PID1_AND_PARENT, [("", "alive")]), P),
        "close_stdout": (stdin_job(CLOSE_STDOUT, [("", "3")]), RE),
        "close_fd_1": (stdin_job(CLOSE_FD_1, [("", "3")]), P),  # lcb: print goes to the capture, as in lcb_runner
        "huge_recursion": (stdin_job(HUGE_RECURSION, [("", "x")]), RE),
        "recursion_past_the_stack": (stdin_job(RECURSION_PAST_THE_STACK, [("", "x")]), RE),
        "stdin_past_its_end": (stdin_job(STDIN_PAST_ITS_END, [("1\n", "x")]), RE),
        "not_utf8_output": (stdin_job(NOT_UTF8, [("", "x")]), RE),  # lcb: the capture has no buffer
        "not_utf8_output_judge": (stdin_job(NOT_UTF8, [("", "x")], semantics="judge"), WA),
        "lone_surrogate_output": (stdin_job(LONE_SURROGATE, [("", "x")]), WA),
        "lone_surrogate_output_judge": (stdin_job(LONE_SURROGATE, [("", "x")], semantics="judge"), RE),  # a real UTF-8 stream refuses it
    }
    forged = [("1", f'"{EXPECTED}"'), ("2", f'"{EXPECTED}"')]
    for semantics in ("lcb", "judge"):
        found |= {
            f"always_equal_object_{semantics}": (functional_job(ALWAYS_EQUAL_OBJECT, "f", forged, semantics=semantics), WA),
            f"always_equal_int_{semantics}": (functional_job(ALWAYS_EQUAL_INT, "f", forged, semantics=semantics), WA),
            f"always_equal_list_{semantics}": (functional_job(ALWAYS_EQUAL_LIST, "f", forged, semantics=semantics), WA),
            f"patch_the_comparison_{semantics}": (functional_job(PATCH_THE_COMPARISON, "f", forged, semantics=semantics), RE),
            f"forge_reports_{semantics}": (
                stdin_job(FORGE_REPORTS, [("", EXPECTED)] * 3, semantics=semantics),
                RE if semantics == "lcb" else WA,
            ),
            f"read_the_expected_output_{semantics}": (stdin_job(READ_THE_EXPECTED_OUTPUT, [("", EXPECTED)], semantics=semantics), WA),
            f"restart_the_clock_{semantics}": (
                stdin_job(RESTART_THE_CLOCK, [("", "3")], semantics=semantics),
                TLE,
            ),
            f"ignore_sigxcpu_{semantics}": (stdin_job(IGNORE_SIGXCPU, [("", "3")], semantics=semantics), TLE),
            f"patch_the_clock_{semantics}": (
                stdin_job(PATCH_THE_CLOCK, [("", "3")], semantics=semantics),
                P,
            ),  # passes, timed truly (checked below)
            f"malformed_result_{semantics}": (
                stdin_job(MALFORMED_RESULT, [("", "3")], semantics=semantics),
                P if semantics == "judge" else RE,
            ),
            f"reach_the_supervisor_{semantics}": (stdin_job(REACH_THE_SUPERVISOR, [("", "denied")], semantics=semantics), P),
        }
    for semantics in ("lcb", "judge"):
        found |= {
            f"deep_result_header_{semantics}": (stdin_job(DEEP_RESULT_HEADER, [("", EXPECTED)], semantics=semantics), RE),
            f"deep_directories_{semantics}": (stdin_job(DEEP_DIRECTORIES, [("", EXPECTED)], semantics=semantics), WA),
            f"read_later_inputs_{semantics}": (
                stdin_job(READ_LATER_INPUTS, [("first", "none"), ("later-input", "none")], semantics=semantics),
                P,
            ),
        }
    # 1000 MiB in memory files: the container's cgroup counts them (the OOM killer takes the
    # program, not the supervisor). The local backend does not count them (its warning says
    # so): each is bounded by the file-size limit and their number by the open-file limit.
    found["memory_in_memfds"] = (stdin_job(MEMORY_IN_MEMFDS, [("", "held")]), Verdict.MEMORY_LIMIT if docker else P)
    if docker:
        found["memory_bomb_in_children"] = (stdin_job(MEMORY_BOMB_IN_CHILDREN, [("", "x")]), Verdict.MEMORY_LIMIT)
        found["fill_scratch"] = (stdin_job(FILL_SCRATCH, [("", "full")]), P)
    found |= assertion_attacks(docker=docker)
    return found


# Run one after the other on one worker: the second must pass as in a fresh sandbox.
LOWER_THE_SUPERVISORS_LIMITS_JOB = stdin_job(LOWER_THE_SUPERVISORS_LIMITS, [("", "lowered")])
NEEDS_100_MIB_JOB = stdin_job(NEEDS_100_MIB, [("", "ok")])
# Run in a first batch; FIND_STATE in the next must find nothing they left.
LEAVE_STATE_JOB = stdin_job(LEAVE_STATE, [("", "left")])
FIND_STATE_JOB = stdin_job(FIND_STATE, [("", "clean")])


# ---------------------------------------------------------------- assertion tests (HumanEval, MBPP)
# The test code holds the expected value; it runs in the checker, a process the program cannot
# reach, and the program's results reach it as plain data only. SECRET_ANSWER is a value no
# program can compute: only the test code has it.

SECRET_ANSWER = "q9x8w7v6u5t4s3r2"
SECRET_CHECK = f"def check(candidate):\n    assert candidate(2) == 'MARKER:' + '{SECRET_ANSWER}'\n"

# Scans its own readable memory (every region of /proc/self/maps, read through /proc/self/mem)
# for the test's text "'MARKER:' + '<16 chars>'" and returns what it finds there. The needle
# is built at run time, so the program's own text does not hold it. CONTROL plants such a
# text in the program's own memory first: finding it shows the scan works.
MEMORY_SCAN = r"""
import re
PLANTED = {planted}
def scan():
    needle = re.compile(("'MARK" + "ER:' \\+ '") .encode() + rb"([a-z0-9]{{16}})'")
    found = []
    with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", buffering=0) as mem:
        for row in maps:
            fields = row.split()
            if "r" not in fields[1] or (len(fields) > 5 and fields[5] in ("[vvar]", "[vsyscall]", "[vvar_vclock]")):
                continue
            start, end = (int(x, 16) for x in fields[0].split("-"))
            try:
                mem.seek(start)
                data = mem.read(end - start)
            except (OSError, ValueError, OverflowError):
                continue
            found += [m.group(1).decode() for m in needle.finditer(data)]
    return found
def f(x):
    found = [v for v in scan() if not v.startswith("control")]
    return "MARKER:" + found[0] if found else {fallback}
"""
MEMORY_SCAN_CONTROL_CHECK = "def check(candidate):\n    assert candidate(2) == 'control012345678'\n"

ALWAYS_EQUAL_RESULT = """
class Yes:
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
def f(x):
    return Yes()
"""
SUBCLASS_RESULT = """
class Yes({base}):
    def __eq__(self, other):
        return True
    __hash__ = {base}.__hash__
def f(x):
    return Yes({value})
"""
EXIT_AT_IMPORT = "import {module}\n{module}.{call}(0)\ndef f(x):\n    return 0\n"
EXIT_IN_CALL = "import {module}\ndef f(x):\n    {module}.{call}(0)\n"
RAISE_IN_CALL = "def f(x):\n    raise {error}\n"
REDEFINE_THE_TEST = """
import builtins, sys
def check(candidate):
    return None
candidate = check
class AssertionError(Exception):
    pass
builtins.AssertionError = AssertionError
builtins.check = builtins.candidate = check
sys.modules["builtins"].__dict__["Exception"] = BaseException
def f(x):
    return "MARKER:not-it"
"""
# Breaks its own process's builtins: our code there breaks with it (its failure), the checker's does not.
PATCH_BUILTINS = """
import builtins
builtins.__build_class__ = None
builtins.isinstance = lambda *a: True
builtins.len = lambda *a: 0
builtins.print = None
def f(x):
    return "MARKER:not-it"
"""
KILL_THE_CHECKER = """
import os, signal
def f(x):
    me, parents = os.getpid(), set()
    pid = me
    while pid > 1:
        with open(f"/proc/{{pid}}/stat") as s:
            pid = int(s.read().rpartition(")")[2].split()[1])
        parents.add(pid)
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != me and int(entry) not in parents:
            try:
                os.kill(int(entry), signal.{sig})
            except OSError:
                pass
    return "MARKER:not-it"
"""
FORGE_ON_EVERY_DESCRIPTOR = r"""
import os, struct, sys
def f(x):
    verdict = b'{"verdict": "passed", "detail": ""}'
    lines = [b'{"test": {"index": 0, "module": false, "checked": "passed", "seconds": 0.1, "memory_kb": 1}}\n',
             b'{"done": {"job": 1, "tainted": null}}\n', struct.pack("!cI", b"R", len(verdict)) + verdict,
             b"C1\n", b"T0\n"]
    print(lines[0].decode(), end="")
    sys.stderr.write(lines[0].decode())
    for fd in range(1024):
        for line in lines:
            try:
                os.write(fd, line)
            except OSError:
                pass
    return "MARKER:not-it"
"""
FAKE_PROTOCOL_LINE = (
    'def f(x):\n    print(\'{"test": {"index": 0, "checked": "passed", "seconds": 0, "memory_kb": 1}}\')\n    return None\n'
)
HUGE_RESULT = "def f(x):\n    return 'x' * (4 << 20)\n"
DEEP_RESULT = "def f(x):\n    v = []\n    for _ in range(100000):\n        v = [v]\n    return v\n"
GENERATOR_RESULT = "def f(x):\n    return (c for c in 'MARKER:')\n"
SLOW_CALL = "import time\ndef f(x):\n    time.sleep(100)\n"
PROGRAM_OBJECT_RESULT = "class Node:\n    pass\ndef f(x):\n    return Node()\n"
# A test that swallows every exception: a failed call still fails it (the supervisor and the
# checker record the failure whatever the test code does).
SWALLOWING_CHECK = "def check(candidate):\n    try:\n        candidate(2)\n    except BaseException:\n        pass\n"
# The program side is the program's: it replaces our writer and forges a result the checker
# cannot decode (an object description, which only arguments may hold).
FORGE_A_MALFORMED_RESULT = """
import os, sys
def forged(fd, value, output_bytes):
    os.write(fd, b'{"kind": "value"}\\n{"o": [0, "X", [], [], []]}')
sys.modules["program"].write_call_result = forged
def f(x):
    return 1
"""


def assertion_job(
    code: str, setup: str = SECRET_CHECK, tests: tuple[str, ...] = ("check(candidate)",), classes: tuple[str, ...] = ()
) -> Job:
    return Job(code, "assertion", tuple(TestCase(input=t, output="") for t in tests), "f", setup_code=setup, test_classes=classes)


def assertion_attacks(*, docker: bool) -> dict[str, tuple[Job, Verdict]]:
    """name -> (job, verdict): none of them may pass but the scan's control."""
    reaches = docker or os.geteuid() != 0  # the program can signal the checker: the same user
    found = {
        "assertion_memory_scan_control": (
            assertion_job(
                MEMORY_SCAN.format(planted='"\'MARK" + "ER:\' + \'" + "control012345678" + "\'"', fallback="None")
                .replace('if not v.startswith("control")', "if v")
                .replace('"MARKER:" + found[0]', "found[0]"),
                MEMORY_SCAN_CONTROL_CHECK,
            ),
            P,
        ),
        "assertion_memory_scan_for_the_expected_value": (assertion_job(MEMORY_SCAN.format(planted="None", fallback="None")), WA),
        "assertion_always_equal_result": (assertion_job(ALWAYS_EQUAL_RESULT), RE),
        "assertion_exit_at_import": (assertion_job(EXIT_AT_IMPORT.format(module="sys", call="exit")), RE),
        "assertion_os_exit_at_import": (assertion_job(EXIT_AT_IMPORT.format(module="os", call="_exit")), RE),
        "assertion_exit_in_call": (assertion_job(EXIT_IN_CALL.format(module="sys", call="exit")), RE),
        "assertion_os_exit_in_call": (assertion_job(EXIT_IN_CALL.format(module="os", call="_exit")), RE),
        "assertion_raise_system_exit": (assertion_job(RAISE_IN_CALL.format(error="SystemExit(0)")), RE),
        "assertion_raise_keyboard_interrupt": (assertion_job(RAISE_IN_CALL.format(error="KeyboardInterrupt")), RE),
        "assertion_redefine_the_test": (assertion_job(REDEFINE_THE_TEST), WA),
        "assertion_patch_builtins": (assertion_job(PATCH_BUILTINS), RE),
        # Docker: the checker is the program's user, so it can be killed, never believed dead-and-passed;
        # locally as root the program is a user of its own and cannot signal it.
        "assertion_kill_the_checker": (assertion_job(KILL_THE_CHECKER.format(sig="SIGKILL")), RE if reaches else WA),
        "assertion_stop_the_checker": (assertion_job(KILL_THE_CHECKER.format(sig="SIGSTOP")), TLE if reaches else WA),
        "assertion_forge_on_every_descriptor": (assertion_job(FORGE_ON_EVERY_DESCRIPTOR), RE),
        "assertion_fake_protocol_line": (assertion_job(FAKE_PROTOCOL_LINE), WA),
        "assertion_huge_result": (assertion_job(HUGE_RESULT), Verdict.OUTPUT_LIMIT),
        "assertion_deep_result": (assertion_job(DEEP_RESULT), RE),
        "assertion_generator_result": (assertion_job(GENERATOR_RESULT), RE),
        "assertion_slow_call": (assertion_job(SLOW_CALL), TLE),
        "assertion_program_object_result": (assertion_job(PROGRAM_OBJECT_RESULT), RE),
        "assertion_failed_call_in_a_swallowing_test": (assertion_job(RAISE_IN_CALL.format(error="ValueError"), SWALLOWING_CHECK), RE),
        "assertion_forge_a_malformed_result": (assertion_job(FORGE_A_MALFORMED_RESULT, SWALLOWING_CHECK), RE),
        "assertion_swallowing_test_control": (assertion_job("def f(x):\n    return 1\n", SWALLOWING_CHECK), P),
    }
    for base, value in (("int", "3"), ("str", "'MARKER:'"), ("list", "[1]")):
        found[f"assertion_{base}_subclass_result"] = (assertion_job(SUBCLASS_RESULT.format(base=base, value=value)), RE)
    return found
