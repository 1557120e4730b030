"""A solver bound to a run directory: finished rounds are restored, new ones persisted."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict

from problems import Problem
from solver.rsa import Feedback, ProblemRun, RoundStats, Solver
from solver.rundir import Round, RunDir


class Session:
    def __init__(
        self,
        solver: Solver,
        problems: Sequence[Problem],
        rundir: RunDir | None = None,
        saved: Sequence[Round] | None = None,
    ):
        """`saved`: the rundir's rounds when the caller has read them already."""
        self.solver = solver
        self.rundir = rundir
        self.runs = solver.start(problems)
        self.stats: list[RoundStats] = []
        if rundir is not None:
            self._restore(rundir.rounds(repair=True) if saved is None else saved)

    def _restore(self, rounds: Sequence[Round]) -> None:
        by_id = {run.problem.id: run for run in self.runs}
        for saved in rounds:
            grouped: dict[str, list] = {pid: [] for pid in by_id}
            for c in saved.candidates:
                grouped[c.problem_id].append(c)
            for pid, run in by_id.items():
                run.rounds.append(grouped[pid])
                run.rng.bit_generator.state = saved.header["rng"][pid]
            self.stats.append(RoundStats(**saved.header["stats"]))

    @property
    def rounds_done(self) -> int:
        return len(self.stats)

    @property
    def finished(self) -> bool:
        return self.rounds_done > self.solver.config.t

    def next_round(self, feedback: Feedback | None = None, active: Callable[[ProblemRun], bool] | None = None) -> RoundStats:
        stats = self.solver.step(self.runs, feedback=feedback, active=active)
        if self.rundir is not None:
            header = {
                "model": self.solver.runner.model,
                "stats": asdict(stats),
                "rng": {run.problem.id: run.rng.bit_generator.state for run in self.runs},
            }
            self.rundir.write_round(stats.round, header, (c for run in self.runs for c in run.population))
        self.stats.append(stats)
        return stats
