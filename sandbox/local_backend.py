"""The local backend, for machines without Docker: per worker a supervisor subprocess
(inside/supervisor.py, the same as in Docker), which runs each program in a fresh process
of its own, forked, as in a container. Expected outputs stay in this process, as with Docker.

NOT an isolation boundary. The program runs as a process of this machine: in its own
session and process group, with rlimits (CPU, address space, file size, open files,
processes), a clean environment, no setuid gains; where the OS allows (as root, or with
user namespaces), private network, IPC (System V and POSIX queues) and mount namespaces,
with fresh tmpfs on /tmp, /dev/shm and /var/tmp, all gone with the program; when we are
root, a user of its own (which can still read what root can, but not write it). Anything
left behind is killed (the supervisor is a child subreaper).

What it cannot enforce, so verdicts can differ from Docker's: memory is an address-space
limit, not a cgroup (memory files and tmpfs are bounded per file by the file-size limit and
by the scratch size, not against the program's memory; an untouched huge allocation that
Docker allows fails here); the machine's files are readable. Linux only.
"""

from __future__ import annotations

import logging
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

from sandbox.pool import PooledSandbox
from sandbox.protocol import INSIDE, INSIDE_FILES, InfraError, check_hello, exchange
from sandbox.types import Job, Limits, ProgramResult, SandboxUnavailable

DIRECTORY_PREFIX = "rsa-code-local-"
LOCAL_UID_BASE = 1_800_000_000  # when root: slot n runs programs as uid/gid LOCAL_UID_BASE + n
START_SECONDS = 30.0
HARNESS_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}
log = logging.getLogger("sandbox")


class LocalSandboxWarning(UserWarning):
    pass


class LocalSandbox(PooledSandbox):
    def __init__(self, limits: Limits = Limits(), workers: int | None = None, python: str = sys.executable):
        if sys.platform != "linux":
            raise SandboxUnavailable("the local sandbox needs Linux (memory files, /proc, namespaces): use --sandbox docker")
        self.python = python
        remove_stale_directories()
        # A private copy of the harness (run from sandbox/, the script's directory on sys.path
        # would shadow the standard library's `types` with sandbox/types.py), and the
        # workers' scratch directories beside it; named by our pid, to be found if we crash.
        self._dir = tempfile.mkdtemp(prefix=f"{DIRECTORY_PREFIX}{os.getpid()}-")
        os.chmod(self._dir, 0o755)
        for name in INSIDE_FILES:
            shutil.copy(INSIDE / name, self._dir)
        self.harness = os.path.join(self._dir, "supervisor.py")
        self.own_users = os.geteuid() == 0
        slots = [_ProcessSlot(self, n) for n in range(workers or os.cpu_count() or 1)]
        try:
            first = slots[0].harness = _Harness(self, slots[0].uid)  # what isolation this machine allows
        except BaseException:
            shutil.rmtree(self._dir, ignore_errors=True)
            raise
        self.isolation: dict = first.hello.get("isolation", {})
        self.network_isolated = bool(self.isolation.get("network"))
        warnings.warn(local_warning(self.own_users, self.isolation), LocalSandboxWarning, stacklevel=3)
        super().__init__(limits, slots)

    def _closed_hook(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)


class _ProcessSlot:
    """One harness subprocess, kept warm: each program runs in a program process it forks."""

    def __init__(self, sandbox: LocalSandbox, number: int):
        self.sandbox = sandbox
        self.uid = LOCAL_UID_BASE + number if sandbox.own_users else None
        self.harness: _Harness | None = None
        self.lock = threading.Lock()

    def grade(self, job: Job) -> ProgramResult:
        with self.lock:
            if self.harness is None:
                self.harness = _Harness(self.sandbox, self.uid)
            harness = self.harness
        result, taint, _ = exchange(harness.channel, job, self.sandbox.limits)
        if taint:
            log.debug("replacing the local harness: %s", taint)
            self.discard()
        return result

    def discard(self) -> None:
        with self.lock:
            harness, self.harness = self.harness, None
        if harness is not None:
            harness.stop()


class _Harness:
    """A harness subprocess in a session of its own, with its scratch directory."""

    def __init__(self, sandbox: LocalSandbox, uid: int | None):
        self.scratch = tempfile.mkdtemp(prefix="scratch-", dir=os.path.dirname(sandbox.harness))
        if uid is not None:
            os.chown(self.scratch, uid, uid)
        command = [sandbox.python, "-s", sandbox.harness, "serve", "--local", "--scratch", self.scratch]
        command += ["--uid", str(uid)] if uid is not None else []
        self.stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            env=HARNESS_ENV,
            cwd=self.scratch,
            start_new_session=True,
            close_fds=True,
        )
        self.channel = _PipeChannel(self.process, self.stderr)
        try:
            self.hello = check_hello(self.channel.read_line(time.monotonic() + START_SECONDS))
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        try:
            self.process.stdin.close()  # the harness cleans up and exits at the end of its input
            self.process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # its session: whatever is still in it
        except ProcessLookupError:
            pass
        self.process.wait()
        self.process.stdout.close()
        self.stderr.close()
        # rm, not shutil.rmtree: a program may leave a tree deep enough that rmtree's paths
        # take gigabytes
        subprocess.run(["rm", "-rf", "--", self.scratch], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


class _PipeChannel:
    def __init__(self, process: subprocess.Popen, stderr):
        self.process = process
        self.stderr = stderr
        self.buffer = bytearray()
        self.selector = selectors.DefaultSelector()
        self.selector.register(process.stdout, selectors.EVENT_READ)

    def send(self, data: bytes, deadline: float) -> None:
        try:
            self.process.stdin.write(data)
            self.process.stdin.flush()
        except OSError as e:
            raise InfraError(f"writing to the harness failed: {e}; {self._stderr()}") from None

    def read_line(self, deadline: float) -> bytes:
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self.selector.select(remaining):
                raise InfraError("the harness did not answer in time")
            chunk = os.read(self.process.stdout.fileno(), 1 << 20)
            if not chunk:
                raise InfraError(f"the harness exited ({self.process.poll()}); {self._stderr()}")
            self.buffer += chunk
        line, _, rest = bytes(self.buffer).partition(b"\n")
        self.buffer = bytearray(rest)
        return line

    def _stderr(self) -> str:
        self.stderr.seek(0)
        return "its stderr: " + self.stderr.read()[-1500:].decode(errors="replace")


TEMPORARY_DIRECTORIES = "/tmp, /dev/shm, /var/tmp, /run/lock"


def local_warning(own_users: bool, isolation: dict) -> str:
    """What the local backend isolates on this machine and what it does not, plainly."""
    walls = (("network", "the network", "network"), ("IPC objects", "IPC objects", "ipc"), (TEMPORARY_DIRECTORIES,) * 2 + ("tmp",))
    private = [name for name, _, key in walls if isolation.get(key)]
    shared = [name for _, name, key in walls if not isolation.get(key)]
    return (
        "the local sandbox is not an isolation boundary: programs run on this machine "
        + ("under users of their own" if own_users else "as you")
        + (f", with private {', '.join(private)}" if private else "")
        + (f"; shared with this machine: {', '.join(shared)}" if shared else "")
        + "; this machine's files are readable; memory is an address-space limit (memory files and tmpfs are not counted); "
        "use it for trusted code or where Docker is unavailable"
    )


def remove_stale_directories() -> None:
    """Directories of local sandboxes whose process is gone (killed before it could close)."""
    for path in Path(tempfile.gettempdir()).glob(f"{DIRECTORY_PREFIX}*"):
        pid = path.name.removeprefix(DIRECTORY_PREFIX).partition("-")[0]
        if not pid.isdigit() or path.stat().st_uid != os.geteuid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except PermissionError:
            pass
