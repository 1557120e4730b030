"""The sandbox options every grading command shares (`--sandbox --timeout --memory-mb
--workers --image --semantics`), as one config whose field descriptions are the help text."""

from __future__ import annotations

from dataclasses import asdict
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from runners.ray_pool import RayConfig, connect
from sandbox import DEFAULT_IMAGE, MIN_MEMORY_MB, Limits, Sandbox, Semantics, make_sandbox

SandboxKind = Literal["docker", "local", "auto"]
_DEFAULT_LIMITS = Limits()


class SandboxConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: SandboxKind = Field(
        "auto", description="docker (isolated), local (no isolation: trusted code only), or auto (docker, saying how to get it if missing)."
    )
    test_seconds: float = Field(
        _DEFAULT_LIMITS.test_seconds, gt=0, allow_inf_nan=False, description="Seconds per test (wall time), as LiveCodeBench grades."
    )
    # Below MIN_MEMORY_MB the harness itself cannot start: refused here, not an infra error later.
    memory_mb: int = Field(
        _DEFAULT_LIMITS.memory_mb, ge=MIN_MEMORY_MB, description=f"Memory per program in MiB (at least {MIN_MEMORY_MB})."
    )
    workers: int | None = Field(None, ge=1, description="Programs graded at once (default: the cores).")
    image: str = Field(DEFAULT_IMAGE, min_length=1, description="Sandbox image (Docker).")
    semantics: Semantics = Field(
        "lcb",
        description="lcb: the verdicts LiveCodeBench's grader gives (scores compare with published ones); "
        "judge: programs run as a real judge runs a script (verified data loses no correct program).",
    )

    @property
    def limits(self) -> Limits:
        return Limits(test_seconds=self.test_seconds, memory_mb=self.memory_mb)

    def results_record(self) -> dict:
        """What changes verdicts (a run's config hashes it)."""
        return {"limits": asdict(self.limits), "semantics": self.semantics}

    def runtime_record(self) -> dict:
        """What does not (a resumed run may change it)."""
        return {"sandbox": self.kind, "workers": self.workers, "image": self.image}

    def open(self, ray: RayConfig | None = None) -> Sandbox:
        """The sandbox on this machine or (with --ray) grading actors on the cluster's nodes."""
        if ray is not None:
            from sandbox.ray_pool import RaySandbox

            connect(ray.address)
            return RaySandbox(self.kind, self.limits, image=self.image, workers=self.workers, actors=ray.graders)
        return make_sandbox(self.kind, self.limits, image=self.image, workers=self.workers)
