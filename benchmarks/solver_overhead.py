"""Solver overhead: what RSA's own bookkeeping costs per round, next to the model's time.

1000 real LiveCodeBench statements (cycled from the shared release_v1 file) x N=16 x T=3,
with the scripted runner (no model), once in memory and once saving every round to a run
directory. The model's time is simulated as 1 ms per completion (a runner that sleeps), so
the share printed is what orchestration adds to a run whose runner takes that long.

    .venv/bin/python benchmarks/solver_overhead.py [--problems 1000] [--n 16] [--t 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from problems import load_problems
from runners.scripted import ScriptedRunner
from solver.rsa import RSAConfig, Solver
from solver.rundir import RunDir
from solver.session import Session

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "lcb" / "release_v1_public.jsonl"
PER_COMPLETION = 0.001  # simulated model seconds per completion


def response(request) -> str:
    """A response of realistic shape: reasoning, then a program (about 600 characters)."""
    seed = request.sampling.seed
    reasoning = f"We read the input and count. Seed {seed}. " * 8
    return f"{reasoning}\n```python\nimport sys\ndata = sys.stdin.read().split()\nprint(len(data) + {seed % 7})\n```\n"


class TimedRunner(ScriptedRunner):
    """Scripted completions; records the time spent inside generate (the 'model')."""

    def __init__(self):
        super().__init__(response)
        self.seconds = 0.0

    def generate(self, requests):
        started = time.perf_counter()
        out = super().generate(requests)
        self.seconds += time.perf_counter() - started
        return out


def problems(count: int):
    base = load_problems([DATA])
    return [p.model_copy(update={"id": f"{p.id}#{i}"}) for i, p in enumerate(base[i % len(base)] for i in range(count))]


def run(problem_list, config: RSAConfig, rundir: RunDir | None) -> list[tuple[float, float, int]]:
    """(round seconds, runner seconds, completions) per round."""
    runner = TimedRunner()
    session = Session(Solver(runner, config), problem_list, rundir)
    rows = []
    while not session.finished:
        before = runner.seconds
        started = time.perf_counter()
        stats = session.next_round()
        rows.append((time.perf_counter() - started, runner.seconds - before, stats.completions))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=1000)
    parser.add_argument("--n", type=int, default=16)
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--t", type=int, default=3)
    args = parser.parse_args()
    config = RSAConfig(n=args.n, k=args.k, t=args.t, max_tokens=1024)
    problem_list = problems(args.problems)
    print(
        f"{args.problems} problems x N={args.n} x K={args.k}, rounds 0..{args.t}; "
        f"model time simulated as {PER_COMPLETION * 1000:.0f} ms per completion"
    )
    print(f"{'setting':<22}{'round':>6}{'completions':>13}{'orchestration s':>17}{'model s (sim.)':>16}{'share':>8}")
    for label, keep in (("in memory", False), ("with run directory", True)):
        with tempfile.TemporaryDirectory() as tmp:
            rundir = RunDir(Path(tmp) / "run") if keep else None
            if rundir:
                rundir.open({"benchmark": True})
            for index, (total, runner_s, completions) in enumerate(run(problem_list, config, rundir)):
                overhead = total - runner_s  # everything but the scripted runner's own time
                model = completions * PER_COMPLETION
                print(f"{label:<22}{index:>6}{completions:>13}{overhead:>17.2f}{model:>16.1f}{overhead / (overhead + model):>8.1%}")


if __name__ == "__main__":
    main()
