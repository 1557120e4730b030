"""`rsa-code sweep`: RSA over a grid of N and K (and baselines at each N) with T rounds, in one
folder, resumable like one evaluation, with the paper's figures.

    SWEEP/config.json        the grid and every shared setting (hashed: another grid is refused)
    SWEEP/rsa-n4-k2/         one evaluation run directory per config (`rsa-code report` and
    SWEEP/sample-n4/         `compare` read them as they read any run)
    SWEEP/sweep.md           the table; sweep.json its figures; *.png the figures

Configs that would draw their first rounds identically share them: every method here starts
with N independent samples per problem, their seeds drawn from the problem's generator
(solver/rsa.py problem_rng) the same way whatever K or the method, so at one N (same seed,
sampling, model, prompts and problems) round 0 is generated and graded once, by the first
config of that N, and copied (candidates, grades and the generator's state after the round,
which is what a resumed run restarts from) into the others before they go on from round 1.
`sample`, `majority` and `self-verify` draw every round identically (they differ in
selection; self-verify's judge runs on the copied rounds, its own cost), so they copy all of
the first one's rounds. A copy is a file copy, not a
link: a config that grades a copied round again (an infrastructure error) appends to its own
file only. Configs run one after another on one runner and one sandbox.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import get_args

from problems import Problem, ProblemFilter, UsageError
from prompts import Templates
from runners.config import RunnerConfig
from runners.ray_pool import RayConfig, runner_for
from sandbox import Sandbox
from solver.evaluate import EvalJob, GradedRound, evaluate, job_problems, open_run, run_record
from solver.grading import SandboxConfig
from solver.options import rsa_config
from solver.plots import line_plot
from solver.population import round_points
from solver.report import summarize
from solver.rsa import AGGREGATING, Method, RoundStats, RSAConfig
from solver.rundir import RunDir, write_atomic
from solver.runs import RESUME_NEUTRAL, EvalConfig, load_run
from solver.selection import method_policy

BASELINES: tuple[str, ...] = tuple(m for m in get_args(Method) if m != "rsa")
# Methods whose round 0 is N plain samples, seeded from the problem's generator and nothing
# else drawn from it (solver/rsa.py Solver._plan), so equal at one N whatever the method and K.
# A method not listed (a new one) shares nothing until it is checked and added here.
ROUND_ZERO_ALIKE = frozenset({"rsa", "refine", "sample", "majority", "rejection", "self-verify"})
# Methods that draw every round identically: independent samples, seeds from the same stream.
# self-verify's candidates are sample's (its judge's seeds come from the candidates' own): a
# copied round has no judgements, and the run judges it when it opens (solver/session.py).
EVERY_ROUND_ALIKE = frozenset({"sample", "majority", "self-verify"})
TABLE, SUMMARY = "sweep.md", "sweep.json"


@dataclass(frozen=True)
class Member:
    """One config of the grid: its run directory's name, its config, and the earlier member
    whose first `shared` rounds it copies (None, 0: it generates every round itself)."""

    name: str
    config: EvalConfig
    source: str | None = None
    shared: int = 0

    @property
    def rsa(self) -> RSAConfig:
        return self.config.rsa


def shared_rounds(a: RSAConfig, b: RSAConfig) -> int:
    """How many leading rounds configs `a` and `b` draw identically (candidates, grades and
    the generator's state after them), from the rules above."""
    if a.model_dump(exclude={"method", "k"}) != b.model_dump(exclude={"method", "k"}):
        return 0
    every = min(a.t, b.t) + 1
    if a.method == b.method and (a.k == b.k or a.method not in AGGREGATING):
        return every
    if a.method in EVERY_ROUND_ALIKE and b.method in EVERY_ROUND_ALIKE:
        return every
    return 1 if a.method in ROUND_ZERO_ALIKE and b.method in ROUND_ZERO_ALIKE else 0


def member_name(config: RSAConfig) -> str:
    return f"rsa-n{config.n}-k{config.k}" if config.method == "rsa" else f"{config.method}-n{config.n}"


def plan_members(ns: Sequence[int], ks: Sequence[int], baselines: Sequence[str], generation: dict, feedback: bool = False) -> list[Member]:
    """The grid's configs in the order they run (each N: RSA for each K, then the baselines),
    each with the earlier member it copies most rounds from. `generation`: the other RSAConfig
    fields. A bad value is a UsageError naming its option."""
    if not ns:
        raise UsageError("-n: give at least one population size")
    if not ks:
        raise UsageError("-k: give at least one subset size")
    unknown = [b for b in baselines if b not in BASELINES]
    if unknown:
        raise UsageError(f"--baselines: expected some of {', '.join(BASELINES)}, got {unknown[0]!r}")
    for flag, values in (("n", ns), ("k", ks)):  # each value checked alone first, naming its option
        for value in values:
            rsa_config("sample", **{**generation, flag: value})
    members: list[Member] = []
    for n in ns:
        configs = []
        for k in ks:
            if k > n:
                raise UsageError(f"-k {k} exceeds -n {n}: an RSA subset holds K distinct members of the population of N")
            configs.append(rsa_config("rsa", **{**generation, "n": n, "k": k}))
        for method in baselines:
            k = 1 if method == "refine" else RSAConfig.model_fields["k"].default  # K plays no part in the others
            configs.append(rsa_config(method, **{**generation, "n": n, "k": k}))  # type: ignore[arg-type]
        for config in configs:
            shares = [(shared_rounds(config, m.rsa), -i) for i, m in enumerate(members)]
            best = max(shares, default=(0, 0))
            source = members[-best[1]].name if best[0] else None
            members.append(Member(member_name(config), EvalConfig(rsa=config, feedback=feedback), source, best[0]))
    return members


@dataclass(frozen=True)
class SweepJob:
    """A sweep as a user asks for it: the problems' files, the folder, the grid and everything
    the configs share."""

    data: tuple[str, ...]
    out: Path
    ns: tuple[int, ...]
    ks: tuple[int, ...]
    baselines: tuple[str, ...]
    generation: dict  # the other RSAConfig fields (t, sampling, seed)
    runner: RunnerConfig
    sandbox: SandboxConfig
    filters: ProblemFilter = ProblemFilter()
    templates: Templates | None = None
    ray: RayConfig | None = None
    feedback: bool = False
    members: list[Member] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "members", plan_members(self.ns, self.ks, self.baselines, self.generation, self.feedback))

    def member_job(self, member: Member) -> EvalJob:
        return EvalJob(
            self.data, self.out / member.name, member.config, self.runner, self.sandbox, self.filters, None, self.templates, self.ray
        )

    def record(self, problems: Sequence[Problem]) -> dict:
        """What the sweep's config.json holds: a member's record with the grid in place of N, K and the method."""
        record = run_record(self.member_job(self.members[0]), problems)
        common = {k: v for k, v in record["rsa"].items() if k not in ("method", "n", "k")}
        return {**record, "command": "sweep", "rsa": common, "n": list(self.ns), "k": list(self.ks), "baselines": list(self.baselines)}


@dataclass
class SweepEvents:
    """What a sweep tells its caller as it goes (each a no-op by default)."""

    member: Callable[[Member, bool, int], None] = lambda member, resumed, copied: None  # starting: resumed? rounds copied now
    generated: Callable[[Member, RoundStats], None] = lambda member, stats: None
    graded: Callable[[Member, GradedRound], None] = lambda member, graded: None


def copy_rounds(source: RunDir, target: RunDir, count: int) -> int:
    """Copy the source's first `count` round files the target lacks (they are contiguous from
    0, so a kill mid-copy leaves a prefix the next call completes); the number copied."""
    have = 0
    while have < count and target.round_path(have).exists():
        have += 1
    for index in range(have, count):
        path = source.round_path(index)
        if not path.exists():
            raise RuntimeError(f"{source.path} lacks round {index}, which {target.path} shares")
        write_atomic(target.round_path(index), path.read_text(encoding="utf-8"))
    return count - have


@dataclass
class Prepared:
    """A sweep's problems and its opened (and locked) folders: the sweep's, and each member's with whether it resumes."""

    problems: list[Problem]
    folders: list[RunDir]
    dirs: dict[str, tuple[RunDir, bool]]

    def release(self) -> None:
        for rundir in self.folders:
            rundir.release()


def prepare_sweep(job: SweepJob) -> Prepared:
    """Load the problems, open (or resume) the sweep's folder and every member's run
    directory: each config is checked before any work, and a sweep with other settings refused."""
    problems = job_problems(job.member_job(job.members[0]))
    if job.out.exists() and not job.out.is_dir():
        raise UsageError(f"--out {job.out}: is a file, not a sweep folder")
    prepared = Prepared(problems, [RunDir(job.out)], {})
    try:
        prepared.folders[0].open(job.record(problems), resume_neutral=RESUME_NEUTRAL)
        for member in job.members:
            rundir, resumed = open_run(job.member_job(member), problems)
            prepared.folders.append(rundir)
            prepared.dirs[member.name] = (rundir, resumed)
    except BaseException:
        prepared.release()
        raise
    return prepared


def run_sweep(
    job: SweepJob, events: SweepEvents | None = None, prepared: Prepared | None = None, sandbox: Sandbox | None = None
) -> list[Member]:
    """Run every member of `job` to the end, resuming what the folder holds, then write the
    table and the figures; the members. `prepared`: what prepare_sweep(job) returned, when
    the caller called it; `sandbox`: an open sandbox of the caller's (which the caller
    closes), else one made from job.sandbox. One runner serves every member."""
    events = events or SweepEvents()
    prepared = prepared or prepare_sweep(job)
    try:
        box = job.sandbox.open(job.ray) if sandbox is None else sandbox
        try:
            backend = runner_for(job.runner, job.ray)
            try:
                for member in job.members:
                    rundir, resumed = prepared.dirs[member.name]
                    copied = copy_rounds(prepared.dirs[member.source][0], rundir, member.shared) if member.source else 0
                    events.member(member, resumed, copied)
                    evaluate(
                        prepared.problems,
                        backend,
                        box,
                        member.config,
                        rundir,
                        lambda stats, m=member: events.generated(m, stats),
                        lambda graded, m=member: events.graded(m, graded),
                        job.sandbox.semantics,
                        job.templates,
                    )
            finally:
                backend.close()
        finally:
            if sandbox is None:
                box.close()
    finally:
        prepared.release()
    write_outputs(job.out, job.members)
    return job.members


def answer_key(method: str) -> str:
    """The metric that is a method's answer: its own pick (majority, rejection, verified: the
    report's key is the policy's name), or for a uniform pick pass@1, its expected score."""
    policy = method_policy(method)
    return "pass@1" if policy == "uniform" else policy


def member_curves(out: Path, members: Sequence[Member]) -> list[dict]:
    """Per member, per round: pass@1, pass@N, pass@N - pass@1, its answer's accuracy and the
    compute per problem up to that round (as a standalone run of the config would have spent)."""
    curves = []
    for member in members:
        run = load_run(out / member.name)
        entries = {e["round"]: e for e in summarize(run)["metrics"]["overall"]}
        key = answer_key(member.rsa.method)
        rounds = []
        for point in round_points(run):
            entry = entries.get(point.round, {})
            rounds.append(
                {
                    "round": point.round,
                    "pass@1": point.pass_at_1,
                    "pass@N": point.pass_at_n,
                    "gain_left": point.gain_left,
                    "answer": entry.get(key),
                    "answer_metric": key,
                    "completions_per_problem": point.completions_per_problem,
                    "total_tokens_per_problem": point.total_tokens_per_problem,
                    "generated": point.round >= member.shared,  # False: copied from member.source
                    "completions": run.rounds[point.round].header["stats"]["completions"],
                    "verify_requests": run.rounds[point.round].header["stats"].get("verify_requests", 0),
                }
            )
        curves.append(
            {
                "run": member.name,
                "method": member.config.label,
                "n": member.rsa.n,
                "k": member.rsa.k,
                "t": member.rsa.t,
                "source": member.source,
                "shared_rounds": member.shared,
                "rounds": rounds,
            }
        )
    return curves


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def markdown(curves: Sequence[dict]) -> str:
    depth = max(len(c["rounds"]) for c in curves)
    head = [
        "run",
        "method",
        "N",
        "K",
        *[f"pass@1 r{t}" for t in range(depth)],
        "final pass@N",
        "final answer",
        "tokens / problem",
        "shared",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in curves:
        by_round = {r["round"]: r for r in c["rounds"]}
        last = c["rounds"][-1]
        shared = f"rounds 0–{c['shared_rounds'] - 1} from {c['source']}" if c["source"] else "–"
        cells = [
            c["run"],
            c["method"],
            str(c["n"]),
            str(c["k"]) if c["method"] in AGGREGATING else "–",
            *[_pct(by_round[t]["pass@1"]) if t in by_round else "–" for t in range(depth)],
            _pct(last["pass@N"]),
            f"{_pct(last['answer'])} ({last['answer_metric']})",
            f"{last['total_tokens_per_problem']:,.0f}",
            shared,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    made = sum(r["completions"] for c in curves for r in c["rounds"] if r["generated"])
    standalone = sum(r["completions"] for c in curves for r in c["rounds"])
    judged = sum(r["verify_requests"] for c in curves for r in c["rounds"])
    lines += [
        "",
        "Accuracies in %. pass@1: mean accuracy over the population; final answer: the method's own pick "
        "(pass@1 for RSA and sample, the majority pick for majority, the verified pick for self-verify); "
        "tokens / problem: prompt + completion tokens of every request (self-verify's judge included) up to "
        "the last round, as a standalone run of the config spends them.",
        f"Completions generated: {made:,} (standalone runs of these configs: {standalone:,}; the rest were shared)"
        + (f"; self-verification judge requests: {judged:,}." if judged else "."),
    ]
    return "\n".join(lines) + "\n"


def figures(out: Path, curves: Sequence[dict]) -> list[Path]:
    """The paper's figures: pass@1 by round for each K (a figure per N), pass@N - pass@1 by
    round for each N (a figure per K), and every config's answer against total tokens."""
    rsa = [c for c in curves if c["method"] == "rsa"]
    written = []

    def plot(name: str, series: dict, **labels) -> None:
        if series:
            line_plot(out / name, series, **labels)
            written.append(out / name)

    for n in sorted({c["n"] for c in rsa}):
        series = {f"K={c['k']}": [(r["round"], r["pass@1"]) for r in c["rounds"]] for c in rsa if c["n"] == n}
        plot(f"pass1-by-round-n{n}.png", series, x_label="round", y_label="pass@1", title=f"RSA pass@1 by round, N={n}",
             integer_x=True, y_percent=True)  # fmt: skip
    for k in sorted({c["k"] for c in rsa}):
        series = {f"N={c['n']}": [(r["round"], r["gain_left"]) for r in c["rounds"]] for c in rsa if c["k"] == k}
        plot(f"gain-by-round-k{k}.png", series, x_label="round", y_label="pass@N - pass@1",
             title=f"What aggregation can still gain, K={k}", integer_x=True, y_percent=True)  # fmt: skip
    series = {c["run"]: [(r["total_tokens_per_problem"], r["answer"]) for r in c["rounds"]] for c in curves}
    plot("tokens.png", series, x_label="total tokens per problem (prompt + completion)", y_label="accuracy of the answer",
         title="RSA and baselines against compute", y_percent=True)  # fmt: skip
    return written


def write_outputs(out: Path, members: Sequence[Member]) -> str:
    """Write sweep.md, sweep.json and the figures into the sweep folder; the table."""
    curves = member_curves(out, members)
    text = markdown(curves)
    written = figures(out, curves)
    write_atomic(out / TABLE, text)
    write_atomic(out / SUMMARY, json.dumps({"members": curves, "figures": [p.name for p in written]}, indent=2) + "\n")
    return text
