"""The Docker backend: warm containers, each running the supervisor (inside/supervisor.py)
as PID 1 and grading one program after another through its attached stdin and stdout.

Every container: no network, memory with swap equal to it, a pids limit, a read-only root
with a small tmpfs for scratch, no capabilities, no new privileges, one CPU, a non-root
user. A container that may be tainted (a kill, an OOM, stray processes, full scratch) is
replaced. None is left behind: removed on close, at exit, on SIGTERM/SIGHUP; after a
crash of this process its containers see their stdin close and remove themselves
(auto-remove), and any still there are removed by the next start (found by label, their
owner process gone). The engine comes from the environment (DOCKER_HOST is honoured).
"""

from __future__ import annotations

import logging
import os
import socket
import struct
import threading
import time

import docker
from docker.errors import APIError, DockerException, ImageNotFound, NotFound
from docker.types import LogConfig, Ulimit

from sandbox.pool import PooledSandbox
from sandbox.protocol import MAX_LINE_BYTES, InfraError, check_hello, exchange
from sandbox.types import DEFAULT_IMAGE, Job, Limits, ProgramResult, SandboxUnavailable

LABEL = "rsa-code.sandbox"  # every container we make carries it
OWNER_LABEL = "rsa-code.owner"  # host:pid:start-time of the process that made it
SANDBOX_USER = "10001:10001"  # the image's user, named again so no image can run us as root
START_SECONDS = 60.0
SUPERVISOR_MB = 160  # the supervisor with the prelude and numpy imported, and its buffers
API_SECONDS = 120
log = logging.getLogger("sandbox")


def docker_client() -> docker.DockerClient:
    """A client for the engine the environment names (DOCKER_HOST, DOCKER_TLS_VERIFY, ...)."""
    try:
        client = docker.from_env(timeout=API_SECONDS)
        client.ping()
    except DockerException as e:
        where = os.environ.get("DOCKER_HOST", "the local socket")
        raise SandboxUnavailable(
            f"no Docker engine answers at {where} ({e}); start one or set DOCKER_HOST, or grade with --sandbox local (no isolation)"
        ) from None
    return client


class DockerSandbox(PooledSandbox):
    """`workers` warm containers (default: the engine's cores), each grading one program at a time."""

    def __init__(self, limits: Limits = Limits(), image: str = DEFAULT_IMAGE, workers: int | None = None):
        self.image = image
        self.client = docker_client()
        self._limits = limits
        try:
            first = self._first_container()
        except BaseException:
            self.client.close()
            raise
        self.hello = first.hello
        slots = [_ContainerSlot(self, first if n == 0 else None) for n in range(workers or self.engine_cpus)]
        super().__init__(limits, slots)

    def _first_container(self) -> _Container:
        """Check the image, remove stale containers, start one container (so a bad image
        fails here, not in a worker)."""
        try:
            self.client.api.inspect_image(self.image)
        except ImageNotFound:
            raise SandboxUnavailable(
                f"no sandbox image {self.image!r} on the engine: build it with `rsa-code sandbox build`, "
                "or grade with --sandbox local (no isolation)"
            ) from None
        self.stale_removed = remove_stale_containers(self.client)
        self.engine_cpus = int(self.client.info().get("NCPU") or os.cpu_count() or 1)
        try:
            return self.start_container()
        except InfraError as e:
            raise SandboxUnavailable(
                f"the sandbox image {self.image!r} does not run this harness: {e}; rebuild it with `rsa-code sandbox build`"
            ) from None

    def start_container(self) -> _Container:
        api = docker.from_env(timeout=API_SECONDS).api  # one connection pool per container
        limits = self._limits
        host_config = api.create_host_config(
            network_mode="none",
            mem_limit=f"{container_memory_mb(limits)}m",
            memswap_limit=f"{container_memory_mb(limits)}m",  # equal: no swap
            pids_limit=limits.pids,
            read_only=True,
            tmpfs={"/tmp": f"rw,nosuid,nodev,noexec,size={limits.scratch_mb}m,mode=1777"},
            shm_size=f"{limits.scratch_mb}m",
            ipc_mode="private",
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            nano_cpus=1_000_000_000,  # one core each
            ulimits=[Ulimit(name="core", soft=0, hard=0)],
            log_config=LogConfig(type="none"),
            auto_remove=True,  # gone once the harness exits, which it does when our end closes
        )
        try:
            created = api.create_container(
                self.image,
                user=SANDBOX_USER,
                working_dir="/tmp",
                stdin_open=True,  # with detach=False: stdin closes when we detach (StdinOnce)
                detach=False,
                labels={LABEL: "1", OWNER_LABEL: _owner()},
                host_config=host_config,
            )
            container = _Container(api, created["Id"], MAX_LINE_BYTES)
            try:
                container.attach()
                api.start(created["Id"])
                container.hello = check_hello(container.read_line(time.monotonic() + START_SECONDS))
            except BaseException:
                container.remove()
                raise
        except DockerException as e:
            api.close()
            raise InfraError(f"could not start a container: {e}") from None
        return container

    def _closed_hook(self) -> None:
        self.client.close()


class _ContainerSlot:
    def __init__(self, sandbox: DockerSandbox, container: _Container | None):
        self.sandbox = sandbox
        self.container = container
        self.lock = threading.Lock()

    def grade(self, job: Job) -> ProgramResult:
        with self.lock:
            if self.container is None:
                self.container = self.sandbox.start_container()
            container = self.container
        result, taint, _ = exchange(container, job, self.sandbox.limits)
        if taint:
            log.debug("replacing container %s: %s", container.id[:12], taint)
            self.discard()
        return result

    def discard(self) -> None:
        with self.lock:
            container, self.container = self.container, None
        if container is not None:
            container.remove()


class _Container:
    """A started container and the attached stream to its harness (stdout and stderr
    multiplexed in frames: an 8-byte header, stream and length, then the data)."""

    def __init__(self, api: docker.APIClient, container_id: str, line_bytes: int):
        self.api = api
        self.id = container_id
        self.line_bytes = line_bytes
        self.sock: socket.socket | None = None
        self._attached: object = None  # docker-py's wrapper: its response keeps TLS sockets open
        self.hello: dict = {}
        self._raw = bytearray()  # frames not yet parsed
        self._out = bytearray()  # the harness's stdout: protocol lines
        self._err = bytearray()  # its stderr: shown when it fails
        self._removed = False

    def attach(self) -> None:
        attached = self.api.attach_socket(self.id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
        self.sock = getattr(attached, "_sock", attached)  # the socket under docker-py's SocketIO
        self._attached = attached

    def send(self, data: bytes, deadline: float) -> None:
        try:
            self.sock.settimeout(max(0.001, deadline - time.monotonic()))
            self.sock.sendall(data)
        except OSError as e:
            raise InfraError(f"writing to container {self.id[:12]} failed: {e}") from None

    def read_line(self, deadline: float) -> bytes:
        while b"\n" not in self._out:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise InfraError(f"container {self.id[:12]} did not answer in time")
            try:
                self.sock.settimeout(remaining)
                chunk = self.sock.recv(1 << 20)
            except OSError as e:
                raise InfraError(f"reading from container {self.id[:12]} failed: {e}") from None
            if not chunk:
                raise InfraError(f"container {self.id[:12]} stopped; its stderr: {bytes(self._err[-1500:]).decode(errors='replace')}")
            self._raw += chunk
            self._split_frames()
            if len(self._out) > self.line_bytes and b"\n" not in self._out:
                raise InfraError(f"container {self.id[:12]} wrote a line longer than {self.line_bytes} bytes")
        line, _, rest = bytes(self._out).partition(b"\n")
        self._out = bytearray(rest)
        return line

    def _split_frames(self) -> None:
        while len(self._raw) >= 8:
            stream, size = struct.unpack(">BxxxL", self._raw[:8])
            if len(self._raw) < 8 + size:
                return
            payload = self._raw[8 : 8 + size]
            del self._raw[: 8 + size]
            if stream == 1:
                self._out += payload
            else:
                self._err += payload
                del self._err[:-4096]

    def remove(self) -> None:
        if self._removed:
            return
        self._removed = True
        try:
            if self.sock is not None:
                self.sock.close()
            self.api.remove_container(self.id, force=True)
        except NotFound:
            pass
        except APIError as e:
            if e.status_code != 409:  # 409: auto-remove is already at it
                log.warning("could not remove container %s: %s", self.id[:12], e)
        except DockerException as e:
            log.warning("could not remove container %s: %s", self.id[:12], e)
        finally:
            self.api.close()


def container_memory_mb(limits: Limits) -> int:
    """The container's memory: the program's limit, plus room for the supervisor, what it
    holds for a test (the input, the result files) and the scratch tmpfs (bounded by its own
    size), so nothing the program leaves can starve the supervisor. Everything the program
    holds counts within it: its processes, memory files, scratch and /dev/shm."""
    return limits.memory_mb + 2 * limits.scratch_mb + 2 * -(-limits.output_bytes // (1 << 20)) + SUPERVISOR_MB


def remove_stale_containers(client: docker.DockerClient) -> int:
    """Remove containers this host made for a process that is gone (a crash, a kill -9)."""
    removed = 0
    host = socket.gethostname()
    for found in client.api.containers(all=True, filters={"label": LABEL}):
        owner_host, _, rest = (found.get("Labels") or {}).get(OWNER_LABEL, "").partition(":")
        pid, _, started = rest.partition(":")
        if owner_host != host or not pid.isdigit() or _alive(int(pid), started):
            continue
        try:
            client.api.remove_container(found["Id"], force=True)
            removed += 1
        except NotFound:
            pass
        except APIError as e:
            if e.status_code != 409:
                raise
    return removed


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{_start_time(os.getpid())}"


def _start_time(pid: int) -> str:
    """The process's start time (so a reused pid is not mistaken for the owner), or ""."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[19]
    except (OSError, IndexError):
        return ""


def _alive(pid: int, started: str) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return not started or _start_time(pid) in ("", started)
