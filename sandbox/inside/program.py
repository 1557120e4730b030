"""The program process: what runs in the process that runs the graded program, after the
supervisor forks it. Everything here is within the program's reach, so nothing here is
trusted: it only runs the program and writes down what the program produced. It never
sees an expected output, and what it writes is checked and judged on the host.

A result is written into a memory file the supervisor made: one JSON header line, then the
body. Headers: {"kind": "stdout"} (body: what the program printed), {"kind": "value"}
(body: the functional result in the canonical form below), {"kind": "error", "type": ...,
"detail": ...} (the program raised), {"kind": "unplain", "type": ...} (the result is not
plain data), {"kind": "ready"} (the module ran).

Canonical form of a functional result: JSON where only None, bool, int, float, str and list
appear as themselves; a tuple is {"t": [...]} and a dict {"d": [[key, value], ...]}, so the
host can rebuild exactly the plain value (tuples and non-string keys included) and compare
it by LiveCodeBench's rule without ever calling the program's objects. Exact types only:
a subclass of int whose __eq__ always says yes is not plain data.

Standard library only (numpy is used if the program has imported it), Python 3.10+, Linux.
"""

from __future__ import annotations

import builtins
import io
import json
import math
import os
import random
import resource
import signal
import socket
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any, TypedDict

if __package__:  # imported on the host, by tests and benchmarks
    from . import canon
else:  # in the sandbox: beside this file
    import canon

HEADER_ROOM = 64 * 1024  # a header line at most; the body's cap is the output limit
INLINE_INPUT_BYTES = 60 * 1024  # a test input up to this comes in the stage's message, else in a memory file
DETAIL_CHARS = 1200
TRACEBACK_LINES = 12
MODULE_NAME = "tmp_sol"  # LiveCodeBench's module name
PROGRAM_FILE = "<program>"
PROGRAM_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
MAX_DEPTH = 200  # nesting of a functional result
DEFAULT_RECURSION_LIMIT, DEFAULT_INT_MAX_STR_DIGITS = 1000, 4300  # a fresh interpreter's, as a judge runs it


class JobLimits(TypedDict):
    test_seconds: float
    memory_mb: int
    output_bytes: int
    pids: int
    scratch_mb: int
    program_seconds: float


class JobSpec(TypedDict):
    """A job as the host sends it (sandbox/protocol.py: job_line). No expected output."""

    id: int
    code: str
    kind: str  # stdin | functional
    func_name: str | None
    mode: str  # first_failure | all
    semantics: str  # lcb | judge
    inputs: list[str]
    limits: JobLimits


class Setup(TypedDict):
    """What the supervisor hands a program process it forks (Supervisor._setup)."""

    libc: Any
    job: JobSpec
    limits: JobLimits
    cpu_soft: int  # seconds: the first test's CPU limit (raised per test by the program side)
    cpu_hard: int  # seconds: the whole program's, a SIGKILL
    nproc: int | None  # RLIMIT_NPROC, local only
    address_space: bool  # RLIMIT_AS at memory_mb (local; a container's cgroup bounds memory)
    scratch: str
    isolate: Callable[[Setup], None] | None  # the local backend's namespaces and user


class OutputLimit(BaseException):
    """The program printed more than the output limit (a BaseException: `except Exception`
    in the program does not swallow it)."""


# ---------------------------------------------------------------- writing results


def write_result(fd: int, header: dict, body: bytes = b"") -> None:
    data = memoryview(json.dumps(header).encode() + b"\n" + body)
    while data:
        data = data[os.write(fd, data) :]


def error_header(error: BaseException) -> dict:
    return {"kind": "error", "type": type(error).__name__, "detail": traceback_tail(error)}


def traceback_tail(error: BaseException) -> str:
    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != PROGRAM_FILE:
        tb = tb.tb_next  # our own frames say nothing about the program
    try:
        lines = "".join(traceback.format_exception(type(error), error, tb)).rstrip().splitlines()
        text = "\n".join(lines[-TRACEBACK_LINES:])
    except Exception:  # noqa: BLE001 -- a str() that raises, a recursion: say what we can
        text = type(error).__name__
    return text if len(text) <= DETAIL_CHARS else text[: DETAIL_CHARS // 2] + "...(truncated)..." + text[-DETAIL_CHARS // 2 :]


Unplain = canon.Unplain


def canonical(value: object) -> object:
    """`value` as canonical JSON data in the functional (LiveCodeBench) form; Unplain when
    it is not plain data. (sandbox/inside/canon.py: the one implementation.)"""
    return canon.encode(value, extended=False)


def write_value(fd: int, value: object, extended: bool = False) -> None:
    try:
        body = canon.dumps(value, extended)
    except (Unplain, ValueError, RecursionError) as e:  # ValueError: an int past the digit limit
        write_result(fd, {"kind": "unplain", "type": str(e) or type(value).__name__})
        return
    write_result(fd, {"kind": "value"}, body)


# ---------------------------------------------------------------- limits


def _set_limit(which: int, soft: int, hard: int) -> None:
    """Lower a limit; never above the hard limit already in force (only root may raise it)."""
    current = resource.getrlimit(which)[1]
    if current != resource.RLIM_INFINITY:
        hard = min(hard, current)
    resource.setrlimit(which, (min(soft, hard), hard))


def enter_limits(setup: Setup, keep: tuple[int, ...]) -> None:
    """Everything a program process needs before the program runs: its own process group,
    no descriptor of the supervisor's but `keep`, the limits, a clean environment, the local
    backend's isolation. Raises on failure (the supervisor reports a sandbox failure)."""
    os.setpgid(0, 0)  # its own group, so the supervisor can kill it with its descendants
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    keep = tuple(sorted(keep))
    os.closerange(3, keep[0])
    for low, high in zip(keep, keep[1:] + (1 << 16,)):
        os.closerange(low + 1, high)
    _prefer_me_for_the_oom_killer(setup["libc"])
    limits = setup["limits"]
    _set_limit(resource.RLIMIT_CPU, setup["cpu_soft"], setup["cpu_hard"])
    _set_limit(resource.RLIMIT_FSIZE, limits["output_bytes"] + HEADER_ROOM, limits["output_bytes"] + HEADER_ROOM)
    _set_limit(resource.RLIMIT_CORE, 0, 0)
    _set_limit(resource.RLIMIT_NOFILE, 1024, 1024)
    if setup.get("nproc"):
        _set_limit(resource.RLIMIT_NPROC, setup["nproc"], setup["nproc"])
    if setup.get("address_space"):  # local only: in a container the cgroup bounds memory, as LiveCodeBench has no RLIMIT_AS
        _set_limit(resource.RLIMIT_AS, limits["memory_mb"] << 20, limits["memory_mb"] << 20)
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)  # Python ignores it; the output cap must kill
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for name in ("SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGPIPE"):
        signal.signal(getattr(signal, name), signal.SIG_DFL)
    if setup.get("isolate") is not None:
        setup["isolate"](setup)  # may give it a private /tmp as scratch
    os.environ.clear()
    os.environ.update(PROGRAM_ENV, HOME=setup["scratch"], TMPDIR=setup["scratch"])
    os.chdir(setup["scratch"])
    random.seed()  # not the supervisor's state, copied by fork into every program


def _prefer_me_for_the_oom_killer(libc) -> None:
    """An OOM in the container kills the program, never the supervisor. The file is
    root-owned while the process is not dumpable (as forked from the supervisor): dumpable
    for the write, then not again."""
    libc.prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE
    try:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")
    finally:
        libc.prctl(4, 0, 0, 0, 0)


def reliability_guard() -> None:
    """What LiveCodeBench's reliability_guard disables, disabled here too, so a program that
    calls them fails as it does there. Not a defence: the sandbox is. What LiveCodeBench's
    grading process has imported before (numpy, multiprocessing) is imported by the
    supervisor, so importing it again works here as there."""
    builtins.quit = None
    builtins.help = None
    for name in (
        "kill",
        "system",
        "putenv",
        "remove",
        "removedirs",
        "rmdir",
        "fchdir",
        "setuid",
        "fork",
        "forkpty",
        "killpg",
        "rename",
        "renames",
        "truncate",
        "replace",
        "unlink",
        "fchmod",
        "fchown",
        "chmod",
        "chown",
        "chroot",
        "lchflags",
        "lchmod",
        "lchown",
        "getcwd",
        "chdir",
    ):
        setattr(os, name, None)
    import shutil
    import subprocess

    shutil.rmtree = shutil.move = shutil.chown = None
    subprocess.Popen = None
    for name in ("ipdb", "joblib", "resource", "psutil", "tkinter"):
        sys.modules[name] = None


def reset_peak_memory(clear_refs: int | None) -> None:
    if clear_refs is not None:
        try:
            os.write(clear_refs, b"5")
        except OSError:
            pass


def open_clear_refs(libc) -> int | None:
    """A descriptor on /proc/self/clear_refs (opening needs the process dumpable)."""
    libc.prctl(4, 1, 0, 0, 0)
    try:
        return os.open("/proc/self/clear_refs", os.O_WRONLY)
    except OSError:
        return None
    finally:
        libc.prctl(4, 0, 0, 0, 0)


def read_all(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


# ---------------------------------------------------------------- LiveCodeBench's streams


class _LcbStdin:
    """sys.stdin during a test, as lcb_runner's mock: read() gives the whole input at every
    call, readline() reads lines with their newline, readlines() is the input split on
    newlines, buffer.read() the bytes, buffer.readline() the first line; the rest as a
    StringIO. Not iterable (lcb_runner's mock is not)."""

    def __init__(self, text: str):
        self._text = text
        self._io = io.StringIO(text)
        self.buffer = _LcbBuffer(text)

    def read(self, *args):
        return self._text

    def readline(self, *args):
        return self._io.readline(*args)

    def readlines(self, *args):
        return self._text.split("\n")

    def __getattr__(self, name):
        return getattr(self._io, name)


class _LcbBuffer:
    def __init__(self, text: str):
        self._data = text.encode("utf-8", "surrogatepass")

    def read(self, *args):
        return self._data

    def readline(self, *args):
        return self._data.split(b"\n")[0] + b"\n"


class _Capture(io.StringIO):
    """sys.stdout during a test, as lcb_runner's capture (a StringIO whose close() takes an
    argument), stopping the program once it passes the output limit."""

    def __init__(self, cap: int):
        super().__init__()
        self.cap = cap
        self.close = lambda x: 1

    def write(self, text):
        written = super().write(text)
        if self.tell() > self.cap:
            raise OutputLimit()
        return written


class LcbStreams:
    """What lcb_runner does around each stdin test, on the process's own streams: the
    streams the module saw when it ran (what `from sys import stdin` and the prelude bound)
    get read/readline/readlines patched to the input (readline without newlines); sys.stdin
    becomes the mock above, sys.stdout a capture, builtins.open a mock_open of the input;
    the real descriptors 0 and 1 are /dev/null (what open(0) and os.write(1, ...) reach)."""

    def __init__(self):
        self.stdin = open(0, encoding="utf-8", closefd=False)
        self.stdout = open(1, "w", encoding="utf-8", closefd=False)
        self.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
        sys.stdin, sys.stdout, sys.stderr = self.stdin, self.stdout, self.stderr
        self.open = builtins.open

    def run(self, target, text: str, cap: int) -> str:
        lines = iter(text.split("\n"))
        patched = {"read": lambda *a: text, "readline": lambda *a: next(lines), "readlines": lambda *a: text.split("\n")}
        for name, function in patched.items():
            setattr(self.stdin, name, function)
        import unittest.mock  # imported by the supervisor already: free here

        capture = _Capture(cap)
        sys.stdin, sys.stdout = _LcbStdin(text), capture
        builtins.open = unittest.mock.mock_open(read_data=text)
        try:
            try:
                target()
            except SystemExit:
                pass
        finally:
            sys.stdin, sys.stdout = self.stdin, self.stdout
            builtins.open = self.open
            for name in patched:
                self.stdin.__dict__.pop(name, None)
        return capture.getvalue()


# ---------------------------------------------------------------- the program process


def serve_tests(setup: Setup, sock, answer_fd: int, compiled, code: str) -> None:
    """A program process that runs the module once, then tests in order as the supervisor
    sends them (lcb semantics, and functional problems in judge semantics). Messages from
    the supervisor: (b"M", [result]) run the module, the result file kept for every stage;
    (b"T<i>\\0" + input, []), or for a large input (b"T<i>", [input]), run test i.
    Each is answered on `answer_fd` with the same bytes and a newline once the result is written."""
    streams = LcbStreams()
    clear_refs = open_clear_refs(setup["libc"])
    reliability_guard()
    job = setup["job"]
    cap = job["limits"]["output_bytes"]
    namespace = {"__name__": MODULE_NAME, "__builtins__": builtins}
    target = None
    while True:
        message, fds, _, _ = socket.recv_fds(sock, INLINE_INPUT_BYTES + 64, 4)
        if not message:
            return
        message, inline, data = message.partition(b"\0")  # a small input rides in the message
        if message == b"M":
            result_fd = fds[0]  # kept: the supervisor empties it before each stage
            try:
                exec(compiled, namespace)
                target = entry_point(job, namespace, code)
                write_result(result_fd, {"kind": "ready"})
            except BaseException as e:  # noqa: BLE001 -- the program's failure, reported
                write_result(result_fd, error_header(e))
        else:
            text = (data if inline else read_all(fds[0])).decode("utf-8", "surrogatepass")
            for fd in fds:
                os.close(fd)
            _set_limit(resource.RLIMIT_CPU, math.ceil(cpu_seconds() + job["limits"]["test_seconds"]) + 1, setup["cpu_hard"])
            reset_peak_memory(clear_refs)
            run_test(job, target, text, result_fd, cap, streams, namespace, code)
        os.write(answer_fd, message + b"\n")


def run_test(job: JobSpec, target, text: str, result_fd: int, cap: int, streams: LcbStreams, namespace: dict, code: str) -> None:
    try:
        if job["kind"] == "stdin":
            out = streams.run(target, text, cap)
        else:
            args = [json.loads(line) for line in text.split("\n")]
            if job["semantics"] == "judge" and "class Solution" in code:
                target = entry_point(job, namespace, code)  # a fresh Solution per test, as LeetCode
            value = target(*args)
    except OutputLimit:
        write_result(result_fd, {"kind": "output_limit"})
        return
    except BaseException as e:  # noqa: BLE001 -- whatever the program raises is its failure
        write_result(result_fd, error_header(e))
        return
    if job["kind"] == "stdin":
        write_result(result_fd, {"kind": "stdout"}, out.encode("utf-8", "surrogatepass"))
    else:
        write_value(result_fd, value)


class NoEntryPoint(Exception):
    pass


def entry_point(job: JobSpec, namespace: dict, code: str):
    """What each test calls: wrapped_function (stdin), else, as LiveCodeBench decides on the
    text, Solution().<func_name> when the code says `class Solution`, or a function."""
    if job["kind"] == "stdin":
        return namespace["wrapped_function"]
    name = job["func_name"]
    if "class Solution" in code:
        if not callable(namespace.get("Solution")):
            raise NoEntryPoint("the program defines no class Solution")
        target = getattr(namespace["Solution"](), name, None)
    else:
        target = namespace.get(name)
    if not callable(target):
        raise NoEntryPoint(f"the program defines no {'Solution.' if 'class Solution' in code else ''}{name} to call")
    return target


def run_as_script(setup: Setup, compiled, result_fd: int) -> None:
    """Judge semantics, stdin problems: one process per test, the program run as a script
    is (`__main__`, no wrapping, no prelude) on real descriptors: 0 the input, 1 a memory
    file the supervisor reads, 2 /dev/null. Exits as the interpreter would: 0, the
    SystemExit's code, or 1 after an uncaught exception (its traceback in the result)."""
    sys.stdin = open(0, encoding="utf-8", closefd=False)
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
    sys.argv = ["main.py"]
    sys.setrecursionlimit(DEFAULT_RECURSION_LIMIT)  # Python's own, not the prelude's
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(DEFAULT_INT_MAX_STR_DIGITS)
    status = 0
    try:
        exec(compiled, {"__name__": "__main__", "__builtins__": builtins})
    except SystemExit as e:
        status = _exit_status(e.code)
    except BaseException as e:  # noqa: BLE001 -- the program's failure, reported
        write_result(result_fd, error_header(e))
        status = 1
    for thread in threading.enumerate():  # non-daemon threads, as the interpreter at exit
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    try:
        sys.stdout.flush()
    except BaseException as e:  # noqa: BLE001 -- a failed flush at exit is the program's error
        write_result(result_fd, error_header(e))
        status = status or 1
    os._exit(status)


def _exit_status(code: object) -> int:
    if code is None:
        return 0
    if type(code) is int:
        return code & 0xFF
    return 1  # sys.exit("message"): the interpreter prints it and exits with 1


def cpu_seconds() -> float:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


# ---------------------------------------------------------------- assertion jobs


def serve_calls(sock_fd: int, answer_fd: int, params: dict) -> None:
    """The program process of an assertion job: a freshly exec'd interpreter (nothing of the
    supervisor's memory, where an assertion job's test code is, reaches it). It runs the
    module once, then calls the entry point as the checker's calls come. Messages:
    (b"M", [result]) run the module; (b"C<n>\\0" + args, []), or (b"C<n>", [args]) for
    large arguments, call it with the arguments (canonical form: the checker's objects
    rebuilt with the program's own classes). Each is answered as in serve_tests."""
    sock = socket.socket(fileno=sock_fd)
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)  # a fresh interpreter ignores them again: as enter_limits
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    os.write(answer_fd, b"S\n")
    clear_refs = _open_clear_refs()
    cpu_hard, test_seconds = params["cpu_hard"], params["test_seconds"]
    namespace = {"__name__": MODULE_NAME, "__builtins__": builtins}
    target, classes, result_fd = None, {}, -1
    while True:
        message, fds, _, _ = socket.recv_fds(sock, INLINE_INPUT_BYTES + 64, 4)
        if not message:
            return
        message, inline, data = message.partition(b"\0")
        if message == b"M":
            result_fd = fds[0]
            try:
                code = params["code"]
                compiled = compile(code, PROGRAM_FILE, "exec")
                linecache_lines(code)
                exec(compiled, namespace)
                target = namespace.get(params["func_name"])
                if not callable(target):
                    raise NoEntryPoint(f"the program defines no function {params['func_name']} to call")
                for name in params["classes"]:
                    if not callable(namespace.get(name)):
                        raise NoEntryPoint(f"the program defines no class {name}, which the tests construct")
                    classes[name] = namespace[name]
                write_result(result_fd, {"kind": "ready"})
            except BaseException as e:  # noqa: BLE001 -- the program's failure, reported
                write_result(result_fd, error_header(e))
        else:
            text = data if inline else read_all(fds[0])
            for fd in fds:
                os.close(fd)
            _set_limit(resource.RLIMIT_CPU, math.ceil(cpu_seconds() + test_seconds) + 1, cpu_hard)
            reset_peak_memory(clear_refs)
            try:
                args, kwargs = canon.loads(text, classes=classes)
                value = target(*args, **kwargs)
            except BaseException as e:  # noqa: BLE001 -- SystemExit, KeyboardInterrupt included: the program's failure
                write_result(result_fd, error_header(e))
            else:
                write_call_result(result_fd, value, params["output_bytes"])
        os.write(answer_fd, message + b"\n")


def write_call_result(fd: int, value: object, output_bytes: int) -> None:
    """A call's result in the extended canonical form, long integers included; past the
    output limit, an output_limit header (the supervisor bounds the file anyway)."""
    digits = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else None
    if digits is not None:
        sys.set_int_max_str_digits(0)
    try:
        body = canon.dumps(value, extended=True)
    except (Unplain, ValueError, RecursionError) as e:
        write_result(fd, {"kind": "unplain", "type": str(e) or type(value).__name__})
        return
    finally:
        if digits is not None:
            sys.set_int_max_str_digits(digits)
    if len(body) > output_bytes:
        write_result(fd, {"kind": "output_limit"})
    else:
        write_result(fd, {"kind": "value"}, body)


def linecache_lines(code: str) -> None:
    import linecache

    linecache.cache[PROGRAM_FILE] = (len(code), None, code.splitlines(True), PROGRAM_FILE)


def _open_clear_refs() -> int | None:
    try:
        return os.open("/proc/self/clear_refs", os.O_WRONLY)
    except OSError:
        return None
