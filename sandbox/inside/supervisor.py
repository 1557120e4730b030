"""The supervisor: runs one program after another against test inputs, and tells the host
what each test produced. It never holds an expected output: the host compares.

It runs inside the sandbox and is the same file in both backends: PID 1 of a Docker
container (`serve --container`) or a subprocess per worker (`serve --local`). Standard
library only, Python 3.10+, Linux.

Protocol, JSON lines. The supervisor says {"hello": ...} once. The host sends {"job": ...}
(the code, the test inputs, the limits, the semantics) and may send {"stop": id} at any
time (a test failed: the rest need not run). For each test the supervisor answers
{"test": ...} as it ends, then {"done": ...} for the job. A test record holds either the
program's own result ("result": its header, "body": what it printed or returned; data the
host checks and judges) or what the supervisor saw itself ("observed": a time, memory or
output limit, a death, a broken channel).

Trust: the program process is forked from here and is the program's in every way, so
nothing it writes is believed: the supervisor times each test from the moment it hands
over the input (a message from the program never restarts a clock), reads the program's
CPU time and memory from /proc, classifies deaths from wait4 and the cgroup, and bounds and
parses every result. It is not dumpable, so the program (the same user in a container)
cannot ptrace it or open its descriptors.

Semantics: `lcb` runs as lcb_runner does (the module once with the prelude, stdin programs
wrapped in a function, tests in order, lcb_runner's stdin mocks); `judge` runs as a judge:
stdin programs as scripts, one fresh process per test, on real descriptors; functional
programs as LeetCode (the module once, a fresh Solution per test).
"""

from __future__ import annotations

import ast
import base64
import ctypes
import hashlib
import json
import linecache
import math
import os
import re
import resource
import select
import signal
import socket
import sys
import time
import traceback

if __package__:  # imported on the host, by tests and benchmarks
    from . import checker, program
else:  # run as a script in the sandbox: the program process's side is beside this file
    import checker
    import program

INSIDE_FILES = ("supervisor.py", "program.py", "canon.py", "checker.py")  # as sandbox/protocol.py
# An assertion job's program process: a fresh interpreter that loads the program side from
# the parameters' memory file (the harness's directory may be out of its sight, under a
# private /tmp) and serves the calls.
BOOT = (
    "import json, os, sys, types\n"
    "fd = int(sys.argv[3]); chunks = []\n"
    "while chunk := os.read(fd, 1 << 20): chunks.append(chunk)\n"
    "os.close(fd); params = json.loads(b''.join(chunks)); del chunks, chunk\n"
    "for name in ('canon', 'program'):\n"
    "    module = types.ModuleType(name); module.__file__ = name + '.py'; sys.modules[name] = module\n"
    "    exec(compile(params.pop(name), name + '.py', 'exec'), module.__dict__)\n"
    "status = 70\n"
    "try:\n"
    "    sys.modules['program'].serve_calls(int(sys.argv[1]), int(sys.argv[2]), params); status = 0\n"
    "finally:\n"
    "    os._exit(status)\n"
)

# LiveCodeBench's `import_string`, run before every program in lcb semantics.
PRELUDE = (
    "from string import *\nfrom re import *\nfrom datetime import *\nfrom collections import *\n"
    "from heapq import *\nfrom bisect import *\nfrom copy import *\nfrom math import *\n"
    "from random import *\nfrom statistics import *\nfrom itertools import *\nfrom functools import *\n"
    "from operator import *\nfrom io import *\nfrom sys import *\nfrom json import *\n"
    "from builtins import *\nfrom typing import *\nimport string\nimport re\nimport datetime\n"
    "import collections\nimport heapq\nimport bisect\nimport copy\nimport math\nimport random\n"
    "import statistics\nimport itertools\nimport functools\nimport operator\nimport io\nimport sys\n"
    "import json\nsys.setrecursionlimit(50000)\n"
)
INT_MAX_STR_DIGITS = 50000  # LiveCodeBench's grading process sets this
# What lcb_runner's grading process has imported before a program runs: importing them
# again is free there, and works past the reliability guard.
LCB_PRELOADED = ("numpy", "multiprocessing", "unittest.mock", "faulthandler", "platform", "decimal", "concurrent.futures")
PASSED, WRONG_ANSWER, TIME_LIMIT, MEMORY_LIMIT = "passed", "wrong_answer", "time_limit", "memory_limit"
RUNTIME_ERROR, OUTPUT_LIMIT = "runtime_error", "output_limit"
SETUP_SECONDS = 10.0  # a program process that is not ready by then: the sandbox failed
CLEANUP_SECONDS = 3.0  # a process still there after this: the sandbox is tainted
CLEANUP_DEPTH, CLEANUP_ENTRIES = 64, 100_000  # a scratch tree past these is not walked: the sandbox is replaced
IPC_RMID, MSG_INFO, SHM_INFO, SEM_INFO = 0, 12, 14, 19
CONTAINER_SCRATCH = ("/tmp", "/dev/shm", "/dev/mqueue")  # all a container's user can write
LOCAL_TMP_MOUNTS = ("/tmp", "/dev/shm", "/var/tmp", "/run/lock")  # private tmpfs in the local backend's mount namespace
HOST_LINE_BYTES = 1 << 26
BODY_CHUNK_BYTES = 1 << 20
INLINE_BODY_BYTES = 64 << 10  # a test's output up to this goes in its record
SUPERVISOR_RECURSION_LIMIT = 1000  # Python's own: nothing here recurses on the program's data
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

_PR_SET_DUMPABLE, _PR_SET_KEEPCAPS, _PR_SET_CHILD_SUBREAPER, _PR_SET_NO_NEW_PRIVS = 4, 8, 36, 38
_LINUX_CAPABILITY_VERSION_3, _CAP_DAC_READ_SEARCH = 0x20080522, 2
_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_RAISE = 47, 2
_CLONE_NEWNS, _CLONE_NEWIPC, _CLONE_NEWNET, _CLONE_NEWUSER = 0x00020000, 0x08000000, 0x40000000, 0x10000000
_MS_NOSUID, _MS_NODEV, _MS_REC, _MS_PRIVATE = 2, 4, 0x4000, 1 << 18
_MS_RDONLY, _MS_NOEXEC, _MS_REMOUNT, _MS_BIND = 1, 8, 32, 4096
_MS_NOATIME, _MS_NODIRATIME, _MS_RELATIME = 1024, 2048, 1 << 21
_MOUNT_FLAGS = {"nosuid": _MS_NOSUID, "nodev": _MS_NODEV, "noexec": _MS_NOEXEC, "noatime": _MS_NOATIME}
_MOUNT_FLAGS |= {"nodiratime": _MS_NODIRATIME, "relatime": _MS_RELATIME}
# Kernel file systems keep their own per-file permissions, and /dev/null must stay writable.
_WRITABLE_TREES = ("/proc", "/sys", "/dev")
# Key management syscalls (add_key, request_key, keyctl): the user keyring is per uid, shared by
# a slot's programs one after another. Docker's seccomp profile refuses them; locally a filter does.
_KEY_SYSCALLS = {"x86_64": (0xC000003E, (248, 249, 250)), "aarch64": (0xC00000B7, (217, 218, 219))}
_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 22, 2


def _libc():
    return ctypes.CDLL(None, use_errno=True)


# ---------------------------------------------------------------- compiling (as LiveCodeBench)


def compile_program(code: str, kind: str, semantics: str = "lcb"):
    """The code object to run. lcb, stdin: the last `if __name__ == '__main__':` block
    unwrapped, top-level imports hoisted, everything else the body of `wrapped_function`,
    called once per test, after the prelude. Functional: the prelude then the code. judge,
    stdin: the code as it is. Raises SyntaxError (or ValueError) when it does not compile."""
    body = ast.parse(code, filename=program.PROGRAM_FILE).body
    if kind == "stdin" and semantics == "judge":
        module = ast.Module(body=body, type_ignores=[])
    else:
        if kind == "stdin":
            if body and isinstance(body[-1], ast.If) and ast.unparse(body[-1].test).strip() == "__name__ == '__main__'":
                body = body[:-1] + body[-1].body
            imports = [s for s in body if isinstance(s, (ast.Import, ast.ImportFrom))]
            rest = [s for s in body if not isinstance(s, (ast.Import, ast.ImportFrom))]
            no_args = ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])
            function = ast.FunctionDef(name="wrapped_function", args=no_args, body=rest, decorator_list=[], returns=None, type_comment=None)
            body = imports + [function]
        module = ast.Module(body=ast.parse(PRELUDE).body + body, type_ignores=[])
    ast.fix_missing_locations(module)
    compiled = compile(module, program.PROGRAM_FILE, "exec")
    linecache.cache[program.PROGRAM_FILE] = (len(code), None, code.splitlines(True), program.PROGRAM_FILE)
    return compiled


# ---------------------------------------------------------------- the supervisor


class HarnessError(Exception):
    """The sandbox failed (not the program): the host retries on a fresh sandbox."""


class HostGone(Exception):
    """The host closed our stdin: stop at once."""


class Stopped(Exception):
    """The host said the rest of this job's tests need not run."""


class Supervisor:
    def __init__(self, container: bool, scratch: str, uid: int | None):
        self.container = container
        self.scratch = scratch
        self.uid = uid
        self.libc = _libc()
        # The host's channel moves off 0 and 1, so nothing a child inherits can reach it.
        self.host_in, self.host_out = os.dup(0), os.dup(1)
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        os.close(devnull)
        self.pending = bytearray()
        self.job_id: object = None
        self.stopped = False
        if container:
            # PID 1 ignores signals from inside its namespace unless it handles them: handle none.
            for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"):
                signal.signal(getattr(signal, name), signal.SIG_IGN)
        else:
            self.libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)  # orphans come to us, to be removed
        self.libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)  # no ptrace, no /proc/<us>/fd for the program
        exec(PRELUDE, {})  # imported once here, so each program's prelude is cheap
        sys.setrecursionlimit(SUPERVISOR_RECURSION_LIMIT)  # the prelude's 50000 is for programs, which set it again
        for name in LCB_PRELOADED:
            try:
                __import__(name)
            except ImportError:
                pass
        import platform

        _ = platform.uname().processor  # cached now: pandas asks at import, and the guard leaves no subprocess
        if hasattr(sys, "set_int_max_str_digits"):
            sys.set_int_max_str_digits(INT_MAX_STR_DIGITS)
        self.isolation = {"network": True, "ipc": True, "tmp": True} if container else self._probe_local_isolation()
        self.own_limits = _limits_in_force()
        self.own_scheduling = _scheduling_in_force(self.libc)
        self.last_forked = _last_pid()

    def _fork(self) -> int:
        pid = os.fork()
        if pid:
            self.last_forked = max(self.last_forked, pid)
        return pid

    def program_side(self) -> dict:
        """The sources an exec'd program process loads (read once)."""
        if not hasattr(self, "_program_side"):
            here = os.path.dirname(os.path.abspath(__file__))
            self._program_side = {}
            for name in ("canon", "program"):
                with open(os.path.join(here, name + ".py")) as f:
                    self._program_side[name] = f.read()
        return self._program_side

    # -- the host's channel

    def send(self, message: dict) -> None:
        data = memoryview((json.dumps(message) + "\n").encode())
        while data:
            data = data[os.write(self.host_out, data) :]

    def send_body(self, fd: int, start: int, length: int) -> None:
        """What a test printed or returned, from its file, in chunks the host joins to the
        next test record: the supervisor never holds more than a chunk of it."""
        end = start + length
        while start < end:
            chunk = os.pread(fd, min(BODY_CHUNK_BYTES, end - start), start)
            if not chunk:
                break
            start += len(chunk)
            self.send({"body": base64.b64encode(chunk).decode()})

    def _read_host(self) -> None:
        chunk = os.read(self.host_in, 1 << 20)
        if not chunk:
            raise HostGone()
        self.pending += chunk
        if len(self.pending) > HOST_LINE_BYTES and b"\n" not in self.pending:
            raise HarnessError("a line from the host is too long")

    def _next_host_message(self) -> dict | None:
        end = self.pending.find(b"\n")
        if end < 0:
            return None
        message = json.loads(self.pending[:end])
        del self.pending[: end + 1]
        return message

    def _poll_host(self) -> None:
        """Read what the host sent while a job runs: a stop for this job."""
        self._read_host()
        while (message := self._next_host_message()) is not None:
            if "stop" in message:
                if message["stop"] == self.job_id:
                    self.stopped = True
            else:
                raise HarnessError(f"the host sent {sorted(message)} during a job")

    def read_job(self) -> dict | None:
        while True:
            message = self._next_host_message()
            if message is None:
                try:
                    self._read_host()
                except HostGone:
                    return None
                continue
            if "job" in message:
                return message["job"]
            # a stop for a job already done: nothing to do

    def serve(self) -> None:
        self.send(
            {"hello": {"harness": harness_digest(), "python": sys.version.split()[0], "pid": os.getpid(), "isolation": self.isolation}}
        )
        while (job := self.read_job()) is not None:
            try:
                self.grade(job)
            except HostGone:
                break
            except Exception:  # the sandbox failed, not the program: the host retries elsewhere
                self.kill_all()
                self.send({"done": {"job": job.get("id"), "error": traceback.format_exc()[-2000:], "tainted": "harness error"}})
        self.kill_all()

    # -- one job

    def grade(self, job: program.JobSpec) -> None:
        self.job_id, self.stopped = job["id"], False
        try:
            compiled = compile_program(job["code"], job["kind"], job["semantics"])
        except (SyntaxError, ValueError, OverflowError, RecursionError, MemoryError) as e:
            where = f"line {e.lineno}: " if isinstance(e, SyntaxError) and e.lineno else ""
            message = e.msg if isinstance(e, SyntaxError) else str(e)
            self.send({"syntax": {"detail": f"{where}{type(e).__name__}: {message}"}})
            self.send({"done": {"job": job["id"], "tainted": None}})
            return
        deadline = time.monotonic() + job["limits"]["program_seconds"]
        taints: list[str] = []
        if job["kind"] == "stdin" and job["semantics"] == "judge":
            for index in range(len(job["inputs"])):
                stop, taint = self.run_script(job, compiled, index, deadline)
                taints += ([taint] if taint else []) + self.remove_leftovers()
                if stop:
                    break
        else:
            start = 0
            run = self.run_assertion_process if job["kind"] == "assertion" else self.run_program_process
            while start < len(job["inputs"]):
                start, stop, taint = run(job, compiled, start, deadline)
                taints += ([taint] if taint else []) + self.remove_leftovers()
                if stop:
                    break
        self.send({"done": {"job": job["id"], "tainted": "; ".join(taints) or None, "isolation": self.isolation}})

    def _forget_inputs(self, job: program.JobSpec) -> None:
        """In a forked program process, before the program runs: drop the test inputs the
        supervisor holds (each reaches the program as its test starts, so none can be worked
        on ahead of its clock), and what the host sent."""
        job["inputs"].clear()
        self.pending = bytearray()

    def _setup(self, job: program.JobSpec) -> program.Setup:
        """What a program process needs to enter its limits (see program.enter_limits)."""
        limits = job["limits"]
        return {
            "libc": self.libc,
            "job": job,
            "limits": limits,
            "cpu_soft": math.ceil(limits["test_seconds"]) + 1,
            "cpu_hard": math.ceil(limits["program_seconds"]) + 1,
            "nproc": self.nproc(limits),
            "address_space": not self.container,
            "scratch": self.scratch,
            "isolate": None if self.container else (lambda setup: self._enter_local_isolation(setup, limits)),
        }

    def run_program_process(self, job: program.JobSpec, compiled, start: int, deadline: float) -> tuple[int, bool, str | None]:
        """Fork a program process for the tests from `start`: the module, then each test's
        input handed over as the last ends. Returns (the next test to run, whether to stop,
        why the sandbox may be tainted)."""
        limits, inputs = job["limits"], job["inputs"]
        # Stages go to the program process on a socket (with their memory files); it answers
        # on a pipe, which cannot carry descriptors, and the socket carries nothing back.
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ours.shutdown(socket.SHUT_RD)
        answers, answer_fd = os.pipe()
        pid = self._fork()
        if pid == 0:
            code = 0
            try:
                ours.close()
                os.close(answers)
                theirs.shutdown(socket.SHUT_WR)
                self._forget_inputs(job)
                setup = self._setup(job)
                try:
                    program.enter_limits(setup, keep=(theirs.fileno(), answer_fd))
                except BaseException:  # noqa: BLE001 -- the sandbox failed, not the program
                    os.write(answer_fd, b"E" + json.dumps(traceback.format_exc()[-2000:]).encode() + b"\n")
                    raise
                os.write(answer_fd, b"S\n")
                program.serve_tests(setup, theirs, answer_fd, compiled, job["code"])
            except BaseException:  # noqa: BLE001 -- nothing may return into the supervisor's loop
                code = 70
            finally:
                os._exit(code)
        theirs.close()
        os.close(answer_fd)
        channel = _ProgramChannel(self, ours, answers, pid, limits, deadline)
        index = start
        try:
            channel.expect_setup()
            outcome = channel.stage(b"M", None)
            if outcome.failed_here or outcome.header.get("kind") != "ready":
                self.report(index, outcome.as_record(), module=True)
                return index + 1, True, outcome.taint
            while index < len(inputs):
                outcome = channel.stage(b"T%d" % index, inputs[index])
                self.report(index, outcome.as_record())
                index += 1
                over = self.stopped or time.monotonic() >= deadline
                if outcome.failed_here:  # in mode all, the next tests run in a fresh process
                    return index, over or job["mode"] == "first_failure", outcome.taint
                if over or (job["mode"] == "first_failure" and outcome.header.get("kind") not in ("stdout", "value")):
                    return index, True, None
            return index, True, None
        except Stopped:
            return index, True, None
        finally:
            channel.close()

    def run_assertion_process(self, job: program.JobSpec, compiled, start: int, deadline: float) -> tuple[int, bool, str | None]:
        """An assertion job from test `start`: a program process that is a freshly exec'd
        interpreter (a fork would carry this process's heap, where the test code is, into
        the program's reach), and a checker forked from here that runs the test code, its
        calls of the entry point handed to the program process as stages. Returns as
        run_program_process."""
        limits, inputs = job["limits"], job["inputs"]
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ours.shutdown(socket.SHUT_RD)
        answers, answer_fd = os.pipe()
        params = {
            "code": job["code"],
            "func_name": job["func_name"],
            "classes": job.get("test_classes") or [],
            "test_seconds": limits["test_seconds"],
            "output_bytes": limits["output_bytes"],
            "cpu_hard": math.ceil(limits["program_seconds"]) + 1,
            **self.program_side(),
        }
        params_fd = _memfd("params", json.dumps(params).encode())
        pid = self._fork()
        if pid == 0:
            try:
                ours.close()
                os.close(answers)
                theirs.shutdown(socket.SHUT_WR)
                setup = self._setup(job)
                keep = (theirs.fileno(), answer_fd, params_fd)
                try:
                    program.enter_limits(setup, keep=keep)
                    for fd in keep:
                        os.set_inheritable(fd, True)
                    argv = [sys.executable, "-s", "-B", "-c", BOOT, *map(str, keep)]
                    os.execve(sys.executable, argv, dict(os.environ))
                except BaseException:  # noqa: BLE001 -- the sandbox failed, not the program
                    os.write(answer_fd, b"E" + json.dumps(traceback.format_exc()[-2000:]).encode() + b"\n")
            finally:
                os._exit(70)
        theirs.close()
        os.close(answer_fd)
        os.close(params_fd)
        channel = _ProgramChannel(self, ours, answers, pid, limits, deadline)
        check: _Checker | None = None
        index = start
        try:
            channel.expect_setup()
            outcome = channel.stage(b"M", None)
            if outcome.failed_here or outcome.header.get("kind") != "ready":
                self.report(index, outcome.as_record(), module=True)
                return index + 1, True, outcome.taint
            check = _Checker(
                self, job, [ours.fileno(), answers, channel.result_fd] + ([channel.pidfd] if channel.pidfd is not None else [])
            )
            while index < len(inputs):
                record, failed_here, taint = check.run_test(channel, index, deadline)
                self.report(index, record)
                index += 1
                over = self.stopped or time.monotonic() >= deadline
                if failed_here:  # the program process or the checker is gone: fresh ones for the next test
                    return index, over or job["mode"] == "first_failure", taint
                if over or (job["mode"] == "first_failure" and record.get("checked") != PASSED):
                    return index, True, None
            return index, True, None
        except Stopped:
            return index, True, None
        finally:
            if check is not None:
                check.close()
            channel.close()

    def run_script(self, job: program.JobSpec, compiled, index: int, deadline: float) -> tuple[bool, str | None]:
        """Judge semantics, stdin: test `index` in a fresh process running the program as a
        script. Returns (whether to stop, why the sandbox may be tainted)."""
        limits = job["limits"]
        oom_kills = self.oom_kills()
        input_fd = _memfd("input", job["inputs"][index].encode("utf-8", "surrogatepass"))
        stdout_fd, result_fd = os.memfd_create("stdout"), os.memfd_create("result")
        started = time.monotonic()
        pid = self._fork()
        if pid == 0:
            code = 70
            try:
                self._forget_inputs(job)
                setup = self._setup(job)
                program.enter_limits(setup, keep=(input_fd, stdout_fd, result_fd))
                os.dup2(input_fd, 0)
                os.dup2(stdout_fd, 1)
                os.close(input_fd)
                os.close(stdout_fd)
                program.run_as_script(setup, compiled, result_fd)
            except BaseException:  # noqa: BLE001 -- nothing may return into the supervisor's loop
                pass
            finally:
                os._exit(code)
        os.close(input_fd)
        try:
            status, rusage, killed = self._wait(pid, min(started + limits["test_seconds"], deadline))
            seconds = time.monotonic() - started
            memory_kb = rusage.ru_maxrss if rusage is not None else None
            cpu = rusage.ru_utime + rusage.ru_stime if rusage is not None else 0.0
            record: dict
            if killed or (os.WIFSIGNALED(status) and os.WTERMSIG(status) in (signal.SIGKILL, signal.SIGXCPU, signal.SIGXFSZ)):
                verdict, detail = self.classify(status, killed, oom_kills, limits, time.monotonic() >= deadline)
                record = {"observed": verdict, "detail": detail}
            elif os.WIFSIGNALED(status):
                record = {"observed": RUNTIME_ERROR, "detail": f"killed by {signal.Signals(os.WTERMSIG(status)).name}"}
            elif cpu > limits["test_seconds"] + 1:
                record = {"observed": TIME_LIMIT, "detail": f"used {cpu:.1f} s of CPU time"}
            else:
                size = os.fstat(stdout_fd).st_size
                if size > limits["output_bytes"]:
                    record = {"observed": OUTPUT_LIMIT, "detail": f"wrote more than {limits['output_bytes']} bytes to stdout"}
                else:
                    header = {"kind": "exit", "status": os.WEXITSTATUS(status)}
                    error, ok = _read_result(result_fd, limits["output_bytes"])
                    if ok and error[0]["kind"] == "error":
                        header["error_type"], header["detail"] = str(error[0].get("type", "")), str(error[0].get("detail", ""))
                    self.send_body(stdout_fd, 0, size)  # ahead of the test's record
                    record = {"result": header}
            record.update(seconds=seconds, memory_kb=memory_kb)
            self.report(index, record)
            failed = "observed" in record or record["result"]["status"] != 0
            stop = (failed and job["mode"] == "first_failure") or self.stopped or time.monotonic() >= deadline
            return stop, self._death_taint(status, killed, oom_kills)
        except Stopped:
            return True, None
        finally:
            os.close(stdout_fd)
            os.close(result_fd)

    def _wait(self, pid: int, stage_end: float):
        """Wait for `pid` to end, killing it at `stage_end`; (status, rusage, killed).
        Raises Stopped (after killing it) when the host says stop."""
        pidfd = _pidfd(pid)
        killed = False
        try:
            while True:
                done, status, rusage = os.wait4(pid, os.WNOHANG)
                if done:
                    return status, rusage, killed
                if time.monotonic() >= stage_end and not killed:
                    self.kill_program(pid)
                    killed = True
                wait = 0.02 if pidfd is None or killed else max(0.0, stage_end - time.monotonic())
                watched = [self.host_in] + ([pidfd] if pidfd is not None else [])
                readable, _, _ = select.select(watched, [], [], wait)
                if self.host_in in readable:
                    self._poll_host()
                    if self.stopped and not killed:
                        self.kill_program(pid)
                        os.wait4(pid, 0)
                        raise Stopped()
        finally:
            if pidfd is not None:
                os.close(pidfd)

    def report(self, index: int, record: dict, module: bool = False) -> None:
        """A test's record to the host; `module`: the module failed before the test ran."""
        self.send({"test": {"index": index, "module": module, **record}})

    def classify(self, status: int, killed: bool, oom_kills: int | None, limits: dict, program_over: bool) -> tuple[str, str]:
        if killed:
            if program_over:
                return TIME_LIMIT, f"the program as a whole ran past {limits['program_seconds']:g} s"
            return TIME_LIMIT, f"ran past {limits['test_seconds']:g} s (wall time)"
        if os.WIFEXITED(status):
            return RUNTIME_ERROR, f"the process exited with status {os.WEXITSTATUS(status)} during the test"
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXCPU:
            return TIME_LIMIT, f"ran past {limits['test_seconds']:g} s of CPU time"
        if sig == signal.SIGXFSZ:
            return OUTPUT_LIMIT, f"wrote more than {limits['output_bytes']} bytes to stdout"
        if sig == signal.SIGKILL and oom_kills is not None and (self.oom_kills() or 0) > oom_kills:
            return MEMORY_LIMIT, f"killed for using more than {limits['memory_mb']} MiB"
        if sig == signal.SIGKILL and not self.container:
            return RUNTIME_ERROR, "killed by SIGKILL (the CPU limit of the whole program, or another process)"
        return RUNTIME_ERROR, f"killed by {signal.Signals(sig).name}"

    def _death_taint(self, status: int | None, killed: bool, oom_kills: int | None) -> str | None:
        if killed:
            return "a process was killed"
        if status is not None and os.WIFSIGNALED(status) and oom_kills is not None and (self.oom_kills() or 0) > oom_kills:
            return "out of memory"
        return None

    # -- limits, isolation and cleanup

    def nproc(self, limits: dict) -> int | None:
        """RLIMIT_NPROC counts a user's processes everywhere: only meaningful locally."""
        if self.container:
            return None  # the container's pids cgroup bounds processes
        if self.uid is not None and os.geteuid() == 0:
            return limits["pids"]  # a user of its own
        return sum(1 for _ in _tasks_of(os.getuid())) + limits["pids"]

    def _probe_local_isolation(self) -> dict:
        """What the local backend's program processes get, tried once in a throwaway child:
        network, IPC and mount namespaces (private /tmp, /dev/shm, /var/tmp)."""
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(read_fd)
                found = _unshare_local(self.libc, os.geteuid() == 0, scratch_mb=1)
                os.write(write_fd, json.dumps(found).encode())
            finally:
                os._exit(0)
        os.close(write_fd)
        data = b""
        while chunk := os.read(read_fd, 4096):
            data += chunk
        os.close(read_fd)
        os.waitpid(pid, 0)
        try:
            return json.loads(data)
        except ValueError:
            return {"network": False, "ipc": False, "tmp": False}

    def _enter_local_isolation(self, setup: program.Setup, limits: program.JobLimits) -> None:
        """Local backend only, in the program process: the namespaces the probe found
        (private network, IPC objects and temporary directories, gone with the process);
        no setuid gains; when the supervisor is root, a user of its own (so RLIMIT_NPROC
        holds and the machine's files and processes are out of reach) that keeps one
        capability, reading what root reads, since the interpreter may live where only
        root can look (/root)."""
        found = _unshare_local(self.libc, os.geteuid() == 0, limits["scratch_mb"])
        if found != self.isolation:
            raise OSError(f"isolation differs from the probe's: {found} vs {self.isolation}")
        if found["tmp"]:
            setup["scratch"] = "/tmp"
        uid = self.uid
        if uid is not None and os.geteuid() == 0:
            self.libc.prctl(_PR_SET_KEEPCAPS, 1, 0, 0, 0)
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            header = (ctypes.c_uint32 * 2)(_LINUX_CAPABILITY_VERSION_3, 0)
            keep = 1 << _CAP_DAC_READ_SEARCH
            sets = (ctypes.c_uint32 * 6)(keep, keep, keep, 0, 0, 0)  # effective, permitted, inheritable; x2
            if self.libc.capset(header, sets) != 0:
                raise OSError(ctypes.get_errno(), "capset failed")
            # ambient too, so an exec'd program process (assertion jobs) keeps it
            if self.libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_RAISE, _CAP_DAC_READ_SEARCH, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "raising the ambient capability failed")
        self.libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        _refuse_key_syscalls(self.libc)

    def kill_program(self, pid: int) -> None:
        if self.container:
            _kill(-1)  # every process but PID 1: all of them are the program's
            _remove_ipc_objects(self.libc)  # memory no process holds, before we need any
            return
        _kill(pid)  # before its setpgid, the group is not there yet
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def kill_all(self) -> list[str]:
        """Kill every process the program left, wait for them, say what was found."""
        found = []
        if self.container and _other_pids():
            found.append("stray processes")
            _kill(-1)
        end = time.monotonic() + CLEANUP_SECONDS
        while True:
            children = [] if self.container else _children(os.getpid())
            if children and "stray processes" not in found:
                found.append("stray processes")
            for child in children:
                _kill(child)
            try:
                while os.waitpid(-1, os.WNOHANG)[0] > 0:
                    pass
            except ChildProcessError:
                if not (self.container and _other_pids()):
                    return found
            if time.monotonic() > end:
                return found + ["processes that would not die"]
            if self.container:
                _kill(-1)
            time.sleep(0.002)

    def remove_leftovers(self) -> list[str]:
        """Processes, files and IPC objects the program left; what was wrong, for the taint
        report (a tainted sandbox is replaced)."""
        problems = self.kill_all()
        directories = CONTAINER_SCRATCH if self.container else () if self.isolation.get("tmp") else (self.scratch,)
        for directory in directories:
            if not _empty_directory(directory):
                problems.append(f"could not empty {directory}")
        if self.container and not _remove_ipc_objects(self.libc):
            problems.append("System V IPC objects left")
        if _limits_in_force() != self.own_limits:  # a program of the same user may prlimit us
            problems.append("the supervisor's limits were changed")
        if _scheduling_in_force(self.libc) != self.own_scheduling:  # renice, ionice, taskset, chrt: inherited by later programs
            problems.append("the supervisor's scheduling was changed")
        if self.container and _last_pid() > self.last_forked:  # the program made processes or threads: the
            problems.append("the program advanced the PID counter")  # counter would carry a value to the next program
        return problems

    def oom_kills(self) -> int | None:
        """The memory cgroup's OOM-kill count (cgroup v1 or v2), None where unreadable."""
        if not self.container:
            return None
        for path, key in (("/sys/fs/cgroup/memory.events", "oom_kill"), ("/sys/fs/cgroup/memory/memory.oom_control", "oom_kill")):
            try:
                with open(path) as f:
                    for line in f:
                        name, _, value = line.partition(" ")
                        if name == key:
                            return int(value)
            except OSError:
                continue
        return None


class _Outcome:
    """How one stage of a program process ended: the program's result (header and body,
    for the host to judge), or what the supervisor saw itself (`observed`: a limit, a death,
    a broken channel; then `failed_here`)."""

    def __init__(
        self,
        seconds: float,
        memory_kb: int | None,
        header: dict | None = None,
        body: bytes | None = None,
        observed: tuple[str, str] | None = None,
        taint: str | None = None,
    ):
        self.seconds, self.memory_kb = seconds, memory_kb
        self.header, self.body = header or {}, body
        self.observed, self.taint = observed, taint
        self.body_range = (0, 0)

    @property
    def failed_here(self) -> bool:
        return self.observed is not None

    def as_record(self) -> dict:
        common = {"seconds": self.seconds, "memory_kb": self.memory_kb}
        if self.observed is not None:
            return {"observed": self.observed[0], "detail": self.observed[1], **common}
        if self.body is not None:  # small: in the record itself, not in chunks ahead of it
            return {"result": self.header, "body": base64.b64encode(self.body).decode(), **common}
        return {"result": self.header, **common}


class _ProgramChannel:
    """The supervisor's end of a program process: hands over a stage (the module, or a
    test's input) with a fresh result file, times it from that moment, waits for its
    answer, and turns anything else (a death, a wrong message, a result that breaks the
    rules, too much CPU) into the program's failure."""

    EOF_GRACE_SECONDS = 1.0  # the channel closed: time for the process to end by itself

    ANSWER_BYTES = 64  # "T<index>\n" at most; longer is not an answer

    def __init__(self, supervisor: Supervisor, sock: socket.socket, answers: int, pid: int, limits: dict, deadline: float):
        self.supervisor, self.sock, self.answers, self.pid, self.limits, self.deadline = supervisor, sock, answers, pid, limits, deadline
        os.set_blocking(answers, False)
        self.pending = b""
        self.pidfd = _pidfd(pid)
        self.stats = _ProcessStats(pid)
        self.result_fd = os.memfd_create("result")
        self.oom_kills = supervisor.oom_kills()
        self.status: int | None = None
        self.killed = False
        self.started = time.monotonic()

    def expect_setup(self) -> None:
        message, _ = self._wait(time.monotonic() + SETUP_SECONDS)
        if message == b"S":
            return
        if message and message.startswith(b"E"):
            try:
                cause = json.loads(message[1:])
            except ValueError:
                cause = repr(message[:200])
            raise HarnessError(f"setting up the program process failed:\n{cause}")
        raise HarnessError(f"the program process did not start (status {self._reap()})")

    def stage(self, tag: bytes, text: str | bytes | None, stage_end: float | None = None, hold: bool = False) -> _Outcome:
        """Hand over a stage and wait for its result, until `stage_end` (default: the test's
        time from now). `hold`: the result's body stays in the result file (`body_range`)."""
        # One result file for the process, handed over with the module stage and emptied
        # before each stage: what it holds when the answer comes is the stage's result.
        result_fd = self.result_fd
        os.ftruncate(result_fd, 0)
        os.lseek(result_fd, 0, os.SEEK_SET)
        data = b"" if text is None else text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
        inline = text is None or len(data) <= program.INLINE_INPUT_BYTES  # a small input rides in the message
        fds = [result_fd] if text is None else [] if inline else [_memfd("input", data)]
        # In a container of one CPU a stage's CPU time cannot pass its wall time, which is
        # bounded already: CPU is read only where a program may run on several cores.
        cpu_before = self.stats.cpu_seconds() if not self.supervisor.container else 0.0
        started = time.monotonic()
        try:
            socket.send_fds(self.sock, [tag + b"\0" + data if text is not None and inline else tag], fds)
        except OSError:
            pass  # it is gone: its death is seen below
        finally:
            if text is not None and not inline:
                os.close(fds[0])
        message, eof = self._wait(min(started + self.limits["test_seconds"] if stage_end is None else stage_end, self.deadline))
        seconds, memory_kb = time.monotonic() - started, self.stats.peak_kb()
        if message is None:
            return _Outcome(seconds, memory_kb, observed=self._death(eof), taint=self._taint())
        if message != tag:
            return self._broken(seconds, memory_kb, f"the program process sent {message[:40]!r}, not the answer to {tag.decode()}")
        if self.supervisor.container:
            _remove_ipc_objects(self.supervisor.libc)  # detached segments: memory the OOM killer cannot take back
        cpu = self.stats.cpu_seconds() - cpu_before if not self.supervisor.container else 0.0
        if cpu > self.limits["test_seconds"] + 1:
            self._kill()
            return _Outcome(seconds, memory_kb, observed=(TIME_LIMIT, f"used {cpu:.1f} s of CPU time"), taint=self._taint())
        result, ok = _read_result(result_fd, self.limits["output_bytes"])
        if not ok:
            if result == "too big":
                return _Outcome(seconds, memory_kb, observed=_output_limit(self.limits))
            return self._broken(seconds, memory_kb, f"the program process wrote a malformed result ({result})")
        header, body_start, body_length = result
        if header["kind"] == "output_limit":
            return _Outcome(seconds, memory_kb, observed=_output_limit(self.limits))
        if hold:
            outcome = _Outcome(seconds, memory_kb, header)
            outcome.body_range = (body_start, body_length)
            return outcome
        if body_length <= INLINE_BODY_BYTES:
            return _Outcome(seconds, memory_kb, header, os.pread(result_fd, body_length, body_start))
        self.supervisor.send_body(result_fd, body_start, body_length)  # ahead of the test's record
        return _Outcome(seconds, memory_kb, header)

    def _broken(self, seconds: float, memory_kb: int | None, detail: str) -> _Outcome:
        self._kill()
        return _Outcome(seconds, memory_kb, observed=(RUNTIME_ERROR, detail), taint=self._taint())

    def _wait(self, stage_end: float) -> tuple[bytes | None, bool]:
        """(the next message, False), or (None, whether the channel closed first) once the
        process has died, killed at `stage_end` if it runs past it. Raises Stopped (the
        process killed) when the host says stop."""
        eof = False
        while True:
            line, newline, rest = self.pending.partition(b"\n")
            if newline:  # an answer already there (sent early: it answers nothing yet)
                self.pending = rest
                return line, False
            now = time.monotonic()
            if now >= stage_end and not self.killed:
                self._kill()
            watched = [self.supervisor.host_in] + ([self.answers] if not eof and not self.killed else [])
            watched += [self.pidfd] if self.pidfd is not None else []
            wait = 0.02 if self.pidfd is None or self.killed else max(0.0, stage_end - now)
            readable, _, _ = select.select(watched, [], [], wait)
            if self.supervisor.host_in in readable:
                self.supervisor._poll_host()
                if self.supervisor.stopped:
                    self._kill()
                    raise Stopped()
            if self.answers in readable:
                try:
                    chunk = os.read(self.answers, self.ANSWER_BYTES)
                except BlockingIOError:
                    chunk = None
                if chunk == b"":
                    eof = True  # it is ending, or closed its end: it has a moment to end
                    stage_end = min(stage_end, time.monotonic() + self.EOF_GRACE_SECONDS)
                elif chunk:
                    self.pending += chunk
                    if b"\n" not in self.pending and len(self.pending) > self.ANSWER_BYTES:
                        return self.pending[:40], False  # too long to be an answer: broken
            if self._reaped(block=self.killed):
                return None, eof

    def _reaped(self, block: bool = False) -> bool:
        if self.status is None:
            done, status, _ = os.wait4(self.pid, 0 if block else os.WNOHANG)
            if done:
                self.status = status
        return self.status is not None

    def _reap(self) -> int:
        if self.status is None:
            self._kill()
            self._reaped(block=True)
        return self.status

    def _kill(self) -> None:
        if not self.killed:
            self.supervisor.kill_program(self.pid)
            self.killed = True

    def _death(self, eof: bool) -> tuple[str, str]:
        status = self._reap()
        if eof and self.killed:
            return RUNTIME_ERROR, "the program closed its channel to the supervisor"
        if not self.killed and os.WIFEXITED(status):
            return RUNTIME_ERROR, f"the process exited with status {os.WEXITSTATUS(status)} during the test"
        return self.supervisor.classify(status, self.killed, self.oom_kills, self.limits, time.monotonic() >= self.deadline)

    def _taint(self) -> str | None:
        return self.supervisor._death_taint(self.status, self.killed, self.oom_kills)

    def close(self) -> None:
        """End the program process (done, or failed) and reap it."""
        self.sock.close()
        os.close(self.answers)
        os.close(self.result_fd)
        self.stats.close()
        self._reap()
        if self.pidfd is not None:
            os.close(self.pidfd)


class _Checker:
    """The supervisor's end of a checker process (inside/checker.py), forked from here at
    the start of an assertion job's tests: it runs the setup and each test's code; each
    call of the entry point it makes becomes a stage of the program process. A test's wall
    time covers the whole test, its calls and the checker's work; a checker that dies,
    hangs past it or sends anything unexpected fails the test."""

    CHECKED = (PASSED, WRONG_ANSWER)

    def __init__(self, supervisor: Supervisor, job: program.JobSpec, close_in_child: list[int]):
        self.supervisor = supervisor
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.pid = supervisor._fork()
        if self.pid == 0:
            code = 70
            try:
                ours.close()
                for fd in close_in_child + [supervisor.host_in, supervisor.host_out]:
                    os.close(fd)  # nothing of the host's channel or the program's
                checker.serve(theirs, job)
                code = 0
            except BaseException:  # noqa: BLE001 -- nothing may return into the supervisor's loop
                pass
            finally:
                os._exit(code)
        theirs.close()
        self.sock = ours
        self.sock.setblocking(False)
        self.buffer = bytearray()
        self.alive = True
        self.setup: dict | None = None

    def run_test(self, channel: _ProgramChannel, index: int, deadline: float) -> tuple[dict, bool, str | None]:
        """(the test's record, whether the program process or the checker is gone, taint)."""
        if self.setup is None:  # the data's setup, before any test's clock: the program has no part in it
            frame = self._receive(min(time.monotonic() + SETUP_SECONDS, deadline))
            if frame is None or frame[0] != b"S":
                self.kill()
                return (
                    {"observed": RUNTIME_ERROR, "detail": "the checker did not run the setup code", "seconds": 0.0, "memory_kb": None},
                    True,
                    None,
                )
            self.setup = _json_object(frame[1])
        started = time.monotonic()
        test_end = min(started + channel.limits["test_seconds"], deadline)
        memory = [None]

        def record(verdict: str, detail: str, key: str = "checked", **extra) -> dict:
            peak = max((m for m in memory if m is not None), default=None)
            return {key: verdict, "detail": detail, "seconds": time.monotonic() - started, "memory_kb": peak, **extra}

        def gone(verdict: str, detail: str) -> tuple[dict, bool, str | None]:
            self.kill()
            return record(verdict, detail, key="observed"), True, None

        if not self.setup.get("ok"):
            return record(WRONG_ANSWER, f"the test's setup code failed: {str(self.setup.get('detail', ''))[:1000]}"), False, None
        if not self._send(b"T", b"%d" % index, test_end):
            return gone(*self._why(test_end, channel.limits, "when its test was sent"))
        failure: tuple[str, str] | None = None
        digest, calls = hashlib.sha256(), 0
        while True:
            frame = self._receive(test_end)
            if frame is None:
                return gone(*self._why(test_end, channel.limits, "during the test"))
            kind, payload = frame
            if kind == b"R":
                verdict = _json_object(payload)
                if failure is not None:
                    return record(*failure), False, None
                if verdict.get("verdict") == "call_failed":  # a result the checker could not decode
                    return record(RUNTIME_ERROR, str(verdict.get("detail", ""))[:1200]), False, None
                if verdict.get("verdict") not in self.CHECKED:
                    return gone(RUNTIME_ERROR, f"the checker sent the verdict {str(verdict.get('verdict'))[:40]!r}")
                return record(verdict["verdict"], str(verdict.get("detail", ""))[:2000], digest=digest.hexdigest()[:16]), False, None
            if kind != b"C":
                return gone(RUNTIME_ERROR, f"the checker sent a {kind!r} frame")
            calls += 1
            outcome = channel.stage(b"C%d" % calls, payload, stage_end=test_end, hold=True)
            memory.append(outcome.memory_kb)
            if outcome.failed_here:  # a limit, a death, a broken channel: the supervisor's own verdict
                self.kill()
                verdict, detail = outcome.observed
                return record(verdict, detail, key="observed"), True, outcome.taint
            header = outcome.header
            if header.get("kind") == "value":
                start, length = outcome.body_range
                sent = self._send(b"V", None, test_end, body=(channel.result_fd, start, length), digest=digest)
            else:
                if failure is None:
                    failure = _call_failure(header)
                sent = self._send(b"E", b"", test_end)
            if not sent:
                return gone(*self._why(test_end, channel.limits, "while a call's result was sent"))

    def _why(self, test_end: float, limits: dict, when: str) -> tuple[str, str]:
        if time.monotonic() >= test_end:
            return TIME_LIMIT, f"ran past {limits['test_seconds']:g} s (wall time of the whole test: its calls and its checking)"
        return RUNTIME_ERROR, f"the checker ended or broke its protocol {when} (killed?)"

    def _send(self, kind: bytes, payload: bytes | None, end: float, body: tuple[int, int, int] | None = None, digest=None) -> bool:
        length = len(payload) if payload is not None else body[2]
        if not self._write(checker.FRAME.pack(kind, length) + (payload or b""), end):
            return False
        if body is not None:
            fd, start, left = body
            while left > 0:
                chunk = os.pread(fd, min(BODY_CHUNK_BYTES, left), start)
                if not chunk:
                    return False
                digest.update(chunk)
                if not self._write(chunk, end):
                    return False
                start += len(chunk)
                left -= len(chunk)
        return True

    def _write(self, data: bytes, end: float) -> bool:
        view = memoryview(data)
        while view:
            if time.monotonic() >= end:
                return False
            _, writable, _ = select.select([], [self.sock], [], max(0.0, end - time.monotonic()))
            if writable:
                try:
                    view = view[self.sock.send(view) :]
                except BlockingIOError:
                    continue
                except OSError:
                    return False
        return True

    def _receive(self, end: float) -> tuple[bytes, bytes] | None:
        """The next frame, or None when the checker ends or `end` passes. Raises Stopped
        (the host said stop)."""
        host_in = self.supervisor.host_in
        while True:
            if len(self.buffer) >= checker.FRAME.size:
                kind, length = checker.FRAME.unpack(self.buffer[: checker.FRAME.size])
                if len(self.buffer) >= checker.FRAME.size + length:
                    payload = bytes(self.buffer[checker.FRAME.size : checker.FRAME.size + length])
                    del self.buffer[: checker.FRAME.size + length]
                    return kind, payload
            now = time.monotonic()
            if now >= end:
                return None
            readable, _, _ = select.select([self.sock, host_in], [], [], end - now)
            if host_in in readable:
                self.supervisor._poll_host()
                if self.supervisor.stopped:
                    self.kill()
                    raise Stopped()
            if self.sock in readable:
                try:
                    chunk = self.sock.recv(1 << 20)
                except BlockingIOError:
                    continue
                except OSError:
                    chunk = b""
                if not chunk:
                    return None
                self.buffer += chunk

    def kill(self) -> None:
        if self.alive:
            _kill(self.pid)
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass
            self.alive = False

    def close(self) -> None:
        self.sock.close()
        self.kill()


def _json_object(payload: bytes) -> dict:
    try:
        value = json.loads(payload)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _call_failure(header: dict) -> tuple[str, str]:
    """The verdict of a call the program failed: an exception it raised (a MemoryError is
    the memory limit), a result that is not plain data, a malformed result."""
    kind = header.get("kind")
    if kind == "error":
        name = str(header.get("type", ""))
        return (MEMORY_LIMIT if name == "MemoryError" else RUNTIME_ERROR), str(header.get("detail", ""))[:1200]
    if kind == "unplain":
        return RUNTIME_ERROR, f"returned {str(header.get('type', '?'))[:80]}, which is not plain data"
    return RUNTIME_ERROR, f"malformed result: kind {str(kind)[:40]!r}"


def _output_limit(limits: dict) -> tuple[str, str]:
    return OUTPUT_LIMIT, f"wrote more than {limits['output_bytes']} bytes to stdout"


def _read_result(fd: int | None, output_bytes: int) -> tuple[object, bool]:
    """The program's result file, bounded and parsed: ((header, body start, body length),
    True), or (why not, False). The body stays in the file, sent from there in chunks."""
    if fd is None:
        return "none", False
    size = os.fstat(fd).st_size
    if size == 0:
        return "empty", False
    if size > output_bytes + program.HEADER_ROOM:
        return "too big", False
    line, newline, _ = os.pread(fd, program.HEADER_ROOM + 1, 0).partition(b"\n")
    if not newline:
        return "no header line", False
    if size - len(line) - 1 > output_bytes:
        return "too big", False
    try:
        header = json.loads(line)
    except (ValueError, RecursionError):
        return "the header is not JSON", False
    if not isinstance(header, dict) or not isinstance(header.get("kind"), str):
        return "the header is not an object with a kind", False
    if not all(isinstance(k, str) and (v is None or type(v) in (str, int, float, bool)) for k, v in header.items()):
        return "the header holds more than names and plain values", False
    return (header, len(line) + 1, size - len(line) - 1), True


def _unshare_local(libc, as_root: bool, scratch_mb: int) -> dict:
    """Enter new network, IPC and mount namespaces (a user namespace first when not root),
    with private tmpfs on the temporary directories; what held."""
    user = 0 if as_root else _CLONE_NEWUSER
    if libc.unshare(user | _CLONE_NEWNET | _CLONE_NEWIPC | _CLONE_NEWNS) == 0:
        found = {"network": True, "ipc": True, "tmp": False}
    elif libc.unshare(user | _CLONE_NEWNET) == 0:
        return {"network": True, "ipc": False, "tmp": False}
    else:
        return {"network": False, "ipc": False, "tmp": False}
    if libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None) != 0:
        return found
    # Read-only, so no program leaves a file where the next one (or a Docker sandbox, through
    # its image's layers under /var/lib/docker) reads it; the scratch mounts below are the exception.
    if not _remount_read_only(libc):
        return found
    # The interpreter may live under a directory the scratch mounts hide (a checkout in /tmp):
    # held open now, bound back read-only on top of the new tmpfs, so an exec'd program process starts.
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
    hidden = [p for p in sorted(prefixes) if any(p == d or p.startswith(d + "/") for d in LOCAL_TMP_MOUNTS)]
    held = [(p, os.open(p, os.O_PATH | os.O_DIRECTORY)) for p in hidden]
    options = f"size={scratch_mb}m,mode=1777".encode()
    for directory in LOCAL_TMP_MOUNTS:
        if not os.path.isdir(directory):
            continue
        if libc.mount(b"tmpfs", directory.encode(), b"tmpfs", _MS_NOSUID | _MS_NODEV, options) != 0:
            return found
    for path, fd in held:
        os.makedirs(path, exist_ok=True)
        if libc.mount(f"/proc/self/fd/{fd}".encode(), path.encode(), None, _MS_BIND | _MS_REC, None) != 0:
            return found
        libc.mount(None, path.encode(), None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY, None)  # read-only already, as its source
        os.close(fd)
    found["tmp"] = True
    return found


def _remount_read_only(libc) -> bool:
    """Every mount of this (private) mount namespace read-only but the kernel's trees."""
    try:
        with open("/proc/self/mountinfo", "rb") as f:
            rows = f.read().decode("utf-8", "surrogateescape").splitlines()
    except OSError:
        return False
    for row in rows:
        fields = row.split()
        point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4])  # \040 is a space
        if any(point == tree or point.startswith(tree + "/") for tree in _WRITABLE_TREES):
            continue
        flags = _MS_REMOUNT | _MS_BIND | _MS_RDONLY
        for option in fields[5].split(","):
            flags |= _MOUNT_FLAGS.get(option, 0)  # a locked flag must be kept to remount
        if libc.mount(None, point.encode("utf-8", "surrogateescape"), None, flags, None) != 0 and point == "/":
            return False  # another mount that refuses (a FUSE mount, one gone meanwhile) stays as it is
    return True


def _refuse_key_syscalls(libc) -> None:
    """A seccomp filter: add_key, request_key and keyctl fail with EPERM (needs no_new_privs)."""
    machine = os.uname().machine
    if machine not in _KEY_SYSCALLS:
        return
    arch, numbers = _KEY_SYSCALLS[machine]

    def op(code: int, jt: int, jf: int, k: int) -> tuple:
        return (code, jt, jf, k)

    load, jump_eq, ret, mask = 0x20, 0x15, 0x06, 0x54  # BPF_LD|W|ABS, BPF_JMP|JEQ|K, BPF_RET|K, BPF_ALU|AND|K
    program = [
        op(load, 0, 0, 4),  # seccomp_data.arch
        op(jump_eq, 0, 5, arch),  # another ABI: allow
        op(load, 0, 0, 0),  # seccomp_data.nr
        op(mask, 0, 0, 0xBFFFFFFF),  # the x32 bit off
        op(jump_eq, 3, 0, numbers[0]),
        op(jump_eq, 2, 0, numbers[1]),
        op(jump_eq, 1, 0, numbers[2]),
        op(ret, 0, 0, 0x7FFF0000),  # SECCOMP_RET_ALLOW
        op(ret, 0, 0, 0x00050000 | 1),  # SECCOMP_RET_ERRNO | EPERM
    ]

    class Filter(ctypes.Structure):
        _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]

    class Program(ctypes.Structure):
        _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(Filter))]

    filters = (Filter * len(program))(*(Filter(*row) for row in program))
    fprog = Program(len(program), filters)
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "installing the seccomp filter failed")


def _memfd(name: str, data: bytes) -> int:
    fd = os.memfd_create(name)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None  # an old kernel, or a seccomp profile without it: poll instead


class _ProcessStats:
    """CPU time (all threads) and peak resident memory of a process, read from /proc by the
    supervisor, so the program cannot forge them; the files stay open, read with pread."""

    def __init__(self, pid: int):
        self.fds = []
        for name in ("stat", "status"):
            try:
                self.fds.append(os.open(f"/proc/{pid}/{name}", os.O_RDONLY))
            except OSError:
                self.fds.append(-1)

    def cpu_seconds(self) -> float:
        try:
            fields = os.pread(self.fds[0], 4096, 0).rpartition(b")")[2].split()
            return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        except (OSError, IndexError, ValueError):
            return 0.0

    def peak_kb(self) -> int | None:
        try:
            status = os.pread(self.fds[1], 8192, 0)
            return int(status[status.index(b"VmHWM:") + 6 :].split(None, 1)[0])
        except (OSError, ValueError, IndexError):
            return None

    def close(self) -> None:
        for fd in self.fds:
            if fd >= 0:
                os.close(fd)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _other_pids() -> list[int]:
    """Processes in our PID namespace other than ourselves (PID 1)."""
    me = os.getpid()
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != me]


def _children(parent: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            found.append(int(entry))
    return found


def _tasks_of(uid: int):
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.stat(f"/proc/{entry}").st_uid == uid:
                yield from os.listdir(f"/proc/{entry}/task")
        except OSError:
            continue


def _remove_ipc_objects(libc) -> bool:
    """Remove the System V segments, queues and semaphore sets in our IPC namespace (the
    container's, which outlives programs; a detached segment is memory nobody holds).
    True when none is left. POSIX queues are files in /dev/mqueue, emptied with the scratch."""
    if not _ipc_in_use(libc):
        return True
    left = False
    for name, remove in (
        ("shm", lambda i: libc.shmctl(i, IPC_RMID, None)),
        ("msg", lambda i: libc.msgctl(i, IPC_RMID, None)),
        ("sem", lambda i: libc.semctl(i, 0, IPC_RMID)),
    ):
        try:
            with open(f"/proc/sysvipc/{name}") as f:
                rows = f.readlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) > 1 and fields[1].isdigit() and remove(int(fields[1])) != 0:
                left = True
    return not left


_IPC_INFO_BUFFER = ctypes.create_string_buffer(256)


def _ipc_in_use(libc) -> bool:
    """Whether any System V object exists, in three system calls (cheap enough per test):
    the used-id counts of SHM_INFO, MSG_INFO and SEM_INFO."""
    buffer = _IPC_INFO_BUFFER
    for call, offset in (
        (lambda: libc.shmctl(0, SHM_INFO, buffer), 0),
        (lambda: libc.msgctl(0, MSG_INFO, buffer), 0),
        (lambda: libc.semctl(0, 0, SEM_INFO, buffer), 7 * 4),
    ):
        ctypes.memset(buffer, 0, len(buffer))
        if call() < 0 or int.from_bytes(buffer.raw[offset : offset + 4], sys.byteorder, signed=True) > 0:
            return True  # in use, or cannot tell
    return False


def _empty_directory(path: str) -> bool:
    """Remove everything in `path` (not `path` itself) by descriptors, so a deep tree costs
    no long paths; False when it could not (too deep, too many entries, no permission)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return not os.path.exists(path)
    try:
        return _empty_directory_fd(fd, 0, [CLEANUP_ENTRIES])
    finally:
        os.close(fd)


def _empty_directory_fd(fd: int, depth: int, budget: list[int]) -> bool:
    ok = True
    with os.scandir(fd) as entries:
        names = [(e.name, e.is_dir(follow_symlinks=False)) for e in entries]
    for name, is_directory in names:
        budget[0] -= 1
        if budget[0] < 0:
            return False
        try:
            if not is_directory:
                os.unlink(name, dir_fd=fd)
                continue
            if depth >= CLEANUP_DEPTH:
                return False
            try:
                os.chmod(name, 0o700, dir_fd=fd)  # a program may leave directories we cannot write
            except OSError:
                pass
            inner = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            try:
                if not _empty_directory_fd(inner, depth + 1, budget):
                    return False
            finally:
                os.close(inner)
            os.rmdir(name, dir_fd=fd)
        except OSError:
            ok = False
    return ok


_RLIMITS = tuple(getattr(resource, name) for name in dir(resource) if name.startswith("RLIMIT_"))


def _last_pid() -> int:
    """The PID namespace's last PID given out (0 where unreadable)."""
    try:
        with open("/proc/sys/kernel/ns_last_pid") as f:
            return int(f.read())
    except (OSError, ValueError):
        return 0


def _scheduling_in_force(libc) -> tuple:
    """Our nice value, I/O priority, CPU affinity and scheduling policy: a process of the
    same user may change them (nice only up, which later programs would inherit: a channel
    from one program to the next), so a change taints the sandbox."""
    try:
        ioprio = libc.syscall(252, 1, 0) if os.uname().machine == "x86_64" else None  # ioprio_get(WHO_PROCESS, self)
    except Exception:  # noqa: BLE001
        ioprio = None
    return (
        os.getpriority(os.PRIO_PROCESS, 0),
        ioprio,
        sorted(os.sched_getaffinity(0)),
        os.sched_getscheduler(0),
        os.sched_getparam(0).sched_priority,
    )


def _limits_in_force() -> list:
    return [resource.getrlimit(which) for which in _RLIMITS]


def harness_digest() -> str:
    """The digest of this directory's files, as the host computes it."""
    digest = hashlib.sha256()
    here = os.path.dirname(os.path.abspath(__file__))
    for name in INSIDE_FILES:
        with open(os.path.join(here, name), "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()


def main(argv: list[str]) -> None:
    if not argv or argv[0] != "serve" or not ({"--container", "--local"} & set(argv)):
        sys.exit("usage: supervisor.py serve --container | serve --local --scratch DIR [--uid N]")
    container = "--container" in argv
    scratch = "/tmp" if container else argv[argv.index("--scratch") + 1]
    uid = int(argv[argv.index("--uid") + 1]) if "--uid" in argv else None
    Supervisor(container, scratch, uid).serve()


if __name__ == "__main__":
    main(sys.argv[1:])
