"""`rsa-code sandbox build` and `rsa-code sandbox check`."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import Annotated

import typer
from rich.console import Console

from problems import Problem, TestCase
from sandbox import DEFAULT_IMAGE, Verdict, job_for, make_sandbox
from solver.app import sandbox_app
from solver.grading import SandboxConfig
from solver.options import sandbox_options

out = Console(highlight=False, markup=False, soft_wrap=True)

# The self-test: one program that must pass and one that must fail, of each kind of problem.
SELF_TEST = (
    (
        Problem(
            id="self-test-stdin",
            statement="Print a + b.",
            kind="stdin",
            public_tests=(TestCase(input="1 2\n", output="3\n"), TestCase(input="20 22\n", output="42\n")),
        ),
        "a, b = map(int, input().split())\nprint(a + b)",
        Verdict.PASSED,
    ),
    (
        Problem(
            id="self-test-functional",
            statement="Add a and b.",
            kind="functional",
            func_name="add",
            public_tests=(TestCase(input="2\n0", output="2"), TestCase(input="1\n2", output="3")),
        ),
        "class Solution:\n    def add(self, a, b):\n        return a - b\n",
        Verdict.WRONG_ANSWER,
    ),
)


@sandbox_app.command("build")
def build_command(
    base_image: Annotated[
        str | None,
        typer.Option(
            "--base-image",
            help="Build on this image (it needs python3). Default: python:3.11-slim where a registry answers, "
            "else a Debian base made with debootstrap.",
        ),
    ] = None,
    tag: Annotated[str, typer.Option("--tag", help="Name of the image to build.")] = DEFAULT_IMAGE,
    mirror: Annotated[
        str | None,
        typer.Option("--mirror", help="Debian mirror for debootstrap (default: this machine's apt source, else deb.debian.org)."),
    ] = None,
) -> None:
    """Build the sandbox image, from a registry's Python image or, with none, from Debian packages; then check it."""
    from sandbox.image import build_image

    built = build_image(tag, base_image, mirror, log=out.print)
    with make_sandbox("docker", image=built.tag, workers=1) as sandbox:
        python = sandbox.hello["python"]
    out.print(f"built {built.tag} in {built.seconds:.0f} s from {built.base} ({built.how}); it runs Python {python} and this harness")


@sandbox_app.command("check")
@sandbox_options(semantics="lcb")
def check_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    *,
    sandbox: SandboxConfig,
) -> None:
    """Show the engine, the image and the limits in force, and run a passing and a failing program."""
    report: dict = {"sandbox": sandbox.kind if sandbox.kind != "auto" else "docker", "semantics": sandbox.semantics}
    started = time.monotonic()
    box = sandbox.open()
    try:
        report["startup_seconds"] = round(time.monotonic() - started, 2)
        report["workers"] = box.workers
        report["limits"] = asdict(box.limits)  # the values in force, as the sandbox holds them
        if report["sandbox"] == "docker":
            report.update(_docker_facts(box))
        results = box.run([job_for(problem, code, mode="first_failure", semantics=sandbox.semantics) for problem, code, _ in SELF_TEST])
        report["self_test"] = [
            {
                "kind": problem.kind,
                "expected": want.value,
                "got": r.verdict.value,
                "tests": f"{r.passed}/{r.total}",
                "seconds": round(sum(t.seconds for t in r.tests), 4),
                "ok": r.verdict is want,
            }
            for (problem, _, want), r in zip(SELF_TEST, results, strict=True)
        ]
        if report["sandbox"] == "local":
            report["network_isolated"] = getattr(box, "network_isolated", None)
    finally:
        box.close()
    report["ok"] = all(t["ok"] for t in report["self_test"])
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        _print(report)
    if not report["ok"]:
        raise typer.Exit(1)


def _docker_facts(box) -> dict:
    """The engine, the image, and one warm container's settings as the engine reports them."""
    from sandbox.docker_backend import LABEL

    version = box.client.version()
    info = box.client.info()
    image = box.client.api.inspect_image(box.image)
    facts: dict = {
        "engine": {
            "version": version.get("Version"),
            "api": version.get("ApiVersion"),
            "host": box.client.api.base_url,
            "cpus": info.get("NCPU"),
            "cgroup": info.get("CgroupVersion", "1"),
            "os": info.get("OperatingSystem"),
        },
        "image": {
            "name": box.image,
            "id": image["Id"][7:19],
            "created": image["Created"][:19],
            "python": box.hello.get("python") if isinstance(box.hello, dict) else None,
            "harness": "matches this rsa-code",
        },
        "stale_containers_removed": getattr(box, "stale_removed", None),
    }
    mine = box.client.api.containers(filters={"label": LABEL})
    if mine:
        inspected = box.client.api.inspect_container(mine[0]["Id"])
        host = inspected["HostConfig"]
        facts["container"] = {
            "user": inspected["Config"].get("User"),
            "network": host.get("NetworkMode"),
            "memory_mb": (host.get("Memory") or 0) >> 20,
            "swap_mb": max(0, ((host.get("MemorySwap") or 0) - (host.get("Memory") or 0)) >> 20),
            "pids": host.get("PidsLimit"),
            "cpus": (host.get("NanoCpus") or 0) / 1e9,
            "read_only_root": host.get("ReadonlyRootfs"),
            "tmpfs": host.get("Tmpfs"),
            "shm_mb": (host.get("ShmSize") or 0) >> 20,
            "ipc": host.get("IpcMode"),
            "capabilities_dropped": host.get("CapDrop"),
            "security": host.get("SecurityOpt"),
        }
    return facts


def _print(report: dict) -> None:
    if "engine" in report:
        e, i = report["engine"], report["image"]
        out.print(f"engine: Docker {e['version']} (API {e['api']}) at {e['host']}, {e['cpus']} CPUs, cgroup v{e['cgroup']}, {e['os']}")
        out.print(f"image: {i['name']} ({i['id']}, built {i['created']}), Python {i['python']}, harness {i['harness']}")
        out.print(
            f"containers: {report['workers']} warm, first started in {report['startup_seconds']} s; "
            f"stale ones removed: {report['stale_containers_removed']}"
        )
        for name, value in report.get("container", {}).items():
            out.print(f"  {name}: {value}")
    else:
        out.print(f"local sandbox: {report['workers']} workers; network isolated: {report.get('network_isolated')}")
    out.print(f"limits ({report['semantics']} semantics):")
    for name, value in report["limits"].items():
        out.print(f"  {name}: {value}")
    for t in report["self_test"]:
        mark = "ok" if t["ok"] else "FAILED"
        out.print(f"self-test ({t['kind']}): expected {t['expected']}, got {t['got']} ({t['tests']} tests) {mark}")
    out.print("sandbox ok" if report["ok"] else "sandbox NOT ok")
