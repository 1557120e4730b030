"""A solver bound to a run directory: finished rounds are restored, new ones persisted.

self-verify: a round is saved once generated and saved again with its judgements; a round
restored without them (killed in between) is judged when the session opens, so the run
goes on from exactly where an uninterrupted one would be."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict

from problems import Problem
from solver.rsa import Candidate, Feedback, Judgement, ProblemRun, RoundStats, Solver
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
            for j in saved.judgements:
                by_id[j.problem_id].judgements[j.key] = j
            self.stats.append(RoundStats(**saved.header["stats"]))
            if self.solver.verifies and len(saved.judgements) < len(saved.candidates):
                self._judge(saved.index, saved.candidates, saved.header, saved.grades)

    @property
    def rounds_done(self) -> int:
        return len(self.stats)

    @property
    def finished(self) -> bool:
        return self.rounds_done > self.solver.config.t

    def next_round(self, feedback: Feedback | None = None, active: Callable[[ProblemRun], bool] | None = None) -> RoundStats:
        stats = self.solver.step(self.runs, feedback=feedback, active=active)
        self.stats.append(stats)
        candidates = [c for run in self.runs for c in run.population]
        header = {
            "model": self.solver.runner.model,
            "stats": asdict(stats),
            "rng": {run.problem.id: run.rng.bit_generator.state for run in self.runs},
        }
        if self.rundir is not None:
            self.rundir.write_round(stats.round, header, candidates)
        if self.solver.verifies:
            self._judge(stats.round, candidates, header)
        return self.stats[-1]

    def _judge(self, round_index: int, candidates: Sequence[Candidate], header: dict, grades: Sequence = ()) -> None:
        """Judge the round's candidates not judged yet, with one runner call, and save the
        round again with its judgements and their cost in the header's stats."""
        judged = {key for run in self.runs for key in run.judgements}
        self.solver.verify(self.runs, [c for c in candidates if c.key not in judged])
        by_id = {run.problem.id: run for run in self.runs}
        judgements: list[Judgement] = [by_id[c.problem_id].judgements[c.key] for c in candidates]
        stats = self.stats[round_index].verified(judgements)
        self.stats[round_index] = stats
        if self.rundir is not None:
            self.rundir.write_round(round_index, {**header, "stats": asdict(stats)}, candidates, judgements, grades)
