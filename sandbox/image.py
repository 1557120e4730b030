"""Building the sandbox image from Dockerfile.sandbox and the files of inside/ (shipped in
this package, so an installed rsa-code can build its own image).

The base is the first of: the base the user names; python:3.11-slim, already on the engine
or pulled from a registry; a Debian base made earlier; a Debian base made now with
debootstrap from the machine's apt mirror and `docker import` (needs root and debootstrap:
this is how it builds with no registry, as in CI).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
from docker.errors import DockerException, ImageNotFound

from sandbox.docker_backend import docker_client
from sandbox.protocol import INSIDE_FILES
from sandbox.types import DEFAULT_IMAGE, SandboxUnavailable

REGISTRY_BASE = "python:3.11-slim"
DEBIAN_SUITE = "bookworm"  # Python 3.11, as LiveCodeBench
# Python and what LiveCodeBench's environment has: numpy, sympy, scipy, networkx, pandas, sortedcontainers.
DEBIAN_PACKAGES = (
    "python3",
    "python3-numpy",
    "python3-sympy",
    "python3-scipy",
    "python3-networkx",
    "python3-pandas",
    "python3-sortedcontainers",
)
# Named by its packages, so a base made before the list changed is not taken for this one.
DEBIAN_BASE = f"rsa-code-sandbox-base:{DEBIAN_SUITE}-{hashlib.sha256(' '.join(DEBIAN_PACKAGES).encode()).hexdigest()[:8]}"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
DOCKERFILE = Path(__file__).with_name("Dockerfile.sandbox")
INSIDE = Path(__file__).with_name("inside")


@dataclass(frozen=True)
class BuiltImage:
    tag: str
    base: str
    how: str  # where the base came from, in words
    seconds: float


def build_image(
    tag: str = DEFAULT_IMAGE,
    base_image: str | None = None,
    mirror: str | None = None,
    log: Callable[[str], None] = print,
) -> BuiltImage:
    started = time.monotonic()
    client = docker_client()
    if base_image:
        if not _present(client, base_image) and not _pull(client, base_image, log):
            raise SandboxUnavailable(f"base image {base_image!r} is neither on the engine nor pullable")
        base, how = base_image, "the base image given"
    else:
        base, how = _pick_base(client, mirror, log)
    log(f"building {tag} from {base} ({how})")
    previous = _image_id(client, tag)
    with tempfile.TemporaryDirectory(prefix="rsa-code-image-") as context:
        shutil.copy(DOCKERFILE, Path(context) / "Dockerfile.sandbox")  # copies the file a symlink names
        for name in INSIDE_FILES:
            shutil.copy(INSIDE / name, Path(context) / name)
        try:
            for chunk in client.api.build(
                path=context,
                dockerfile="Dockerfile.sandbox",
                tag=tag,
                buildargs={"BASE_IMAGE": base},
                rm=True,
                forcerm=True,
                pull=False,
                decode=True,
            ):
                if "error" in chunk:
                    raise SandboxUnavailable(f"building {tag} failed: {chunk['error'].strip()}")
                for line in chunk.get("stream", "").splitlines():
                    if line.strip():
                        log(f"  {line.strip()}")
        except DockerException as e:
            raise SandboxUnavailable(f"building {tag} failed: {e}") from None
    if previous and previous != _image_id(client, tag):
        try:
            client.api.remove_image(previous)  # the image this one replaces, now untagged
        except DockerException:
            pass  # still used by a container, or by another tag: leave it
    return BuiltImage(tag, base, how, time.monotonic() - started)


def _image_id(client: docker.DockerClient, image: str) -> str | None:
    try:
        return client.api.inspect_image(image)["Id"]
    except ImageNotFound:
        return None


def _pick_base(client: docker.DockerClient, mirror: str | None, log: Callable[[str], None]) -> tuple[str, str]:
    if _present(client, REGISTRY_BASE):
        return REGISTRY_BASE, "already on the engine"
    if _pull(client, REGISTRY_BASE, log):
        return REGISTRY_BASE, "pulled from the registry"
    if _present(client, DEBIAN_BASE):
        return DEBIAN_BASE, "no registry answered; Debian base made earlier with debootstrap"
    build_debian_base(client, mirror or apt_mirror(), log)
    return DEBIAN_BASE, "no registry answered; Debian base made now with debootstrap + docker import"


def _present(client: docker.DockerClient, image: str) -> bool:
    return _image_id(client, image) is not None


def _pull(client: docker.DockerClient, image: str, log: Callable[[str], None]) -> bool:
    repository, _, tag = image.partition(":")
    try:
        client.api.pull(repository, tag=tag or "latest")
        return True
    except DockerException as e:
        log(f"cannot pull {image}: {getattr(e, 'explanation', None) or e}")
        return False


def build_debian_base(client: docker.DockerClient, mirror: str, log: Callable[[str], None]) -> None:
    """Debian minbase with Python, made by debootstrap and imported as DEBIAN_BASE."""
    if os.geteuid() != 0:
        raise SandboxUnavailable(
            "no registry answers, and making a Debian base with debootstrap needs root: "
            "run `rsa-code sandbox build` as root, or pass --base-image"
        )
    if shutil.which("debootstrap") is None:
        raise SandboxUnavailable("no registry answers, and debootstrap is not installed (apt-get install debootstrap)")
    log(f"making a Debian {DEBIAN_SUITE} base with debootstrap from {mirror}")
    with tempfile.TemporaryDirectory(prefix="rsa-code-rootfs-") as root:
        command = ["debootstrap", "--variant=minbase", f"--include={','.join(DEBIAN_PACKAGES)}", DEBIAN_SUITE, root, mirror]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise SandboxUnavailable(f"debootstrap failed ({done.returncode}): {(done.stderr or done.stdout)[-1500:]}")
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for entry in (Path(root) / cache).glob("*.deb" if cache.endswith("archives") else "*_*"):
                entry.unlink()
        log(f"importing it as {DEBIAN_BASE}")
        tar = subprocess.Popen(["tar", "-C", root, "--numeric-owner", "-c", "."], stdout=subprocess.PIPE)
        repository, _, tag = DEBIAN_BASE.partition(":")
        try:
            client.api.import_image_from_data(_chunks(tar.stdout), repository=repository, tag=tag)
        finally:
            tar.stdout.close()
            tar.wait()
        if tar.returncode != 0:
            raise SandboxUnavailable(f"tar of the Debian root failed ({tar.returncode})")


def _chunks(stream) -> Iterator[bytes]:
    while chunk := stream.read(1 << 20):
        yield chunk


def apt_mirror(sources: tuple[str, ...] = ("/etc/apt/sources.list", "/etc/apt/sources.list.d")) -> str:
    """The first Debian archive (not security) this machine's apt uses, else deb.debian.org."""
    files: list[Path] = []
    for source in map(Path, sources):
        files += sorted(source.glob("*")) if source.is_dir() else [source] if source.is_file() else []
    for file in files:
        try:
            text = file.read_text()
        except OSError:
            continue
        # one-line format (`deb URI suite ...`) and deb822 (`URIs: URI`)
        for uri in re.findall(r"^\s*(?:deb\s+(?:\[[^\]]*\]\s+)?|URIs:\s*)(\S+)", text, re.MULTILINE):
            if re.search(r"/debian/?$", uri) and "security" not in uri:
                return uri.rstrip("/")
    return DEFAULT_MIRROR
