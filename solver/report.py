"""Reports from run directories: a Markdown table, summary.json and the pass@1 curve.

Several directories that are shards of one run (same config but for the shard) merge into
one report; runs with different configs are put side by side by `compare`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from problems import UsageError
from solver.metrics import metrics_table, problem_rounds
from solver.paths import check_out_dir
from solver.rundir import Round
from solver.runs import RunData, load_run, round_grades

ORDER = {"easy": 0, "medium": 1, "hard": 2}  # difficulties in their natural order, the rest by name
REFINE_NOTE = (
    "refine: each chain rewrites its own previous answer; not the paper's K=1, which is RSA with one random parent (`--method rsa -k 1`)."
)


class ReportError(UsageError):
    pass


def _shardless(config: dict) -> dict:
    return {k: v for k, v in config.items() if k not in ("hash", "shard", "problems", "runtime")}


def merge_shards(runs: Sequence[RunData]) -> RunData:
    """Shards of one run into one: same config but for the shard, disjoint problems."""
    if len(runs) == 1:
        return runs[0]
    first = _shardless(runs[0].config)
    for run in runs[1:]:
        if _shardless(run.config) != first:
            raise ReportError(f"{run.name} is not a shard of the same run as {runs[0].name} (configs differ); use `rsa-code compare`")
    meta: dict[str, dict] = {}
    for run in runs:
        overlap = meta.keys() & run.meta.keys()
        if overlap:
            raise ReportError(f"{run.name} repeats problems of another shard (e.g. {sorted(overlap)[0]})")
        meta.update(run.meta)
    depth = min(len(run.rounds) for run in runs)
    rounds = []
    for t in range(depth):
        parts = [run.rounds[t] for run in runs]
        stats = {key: sum(p.header["stats"][key] for p in parts) for key in parts[0].header["stats"]}
        stats["round"] = t
        stats["seconds"] = max(p.header["stats"]["seconds"] for p in parts)  # shards run side by side
        header = {"stats": stats, "model": parts[0].header.get("model")}
        rounds.append(Round(t, header, [c for p in parts for c in p.candidates], [g for p in parts for g in p.grades]))
    config = {**runs[0].config, "shard": f"merged from {len(runs)} shards"}
    return RunData("+".join(run.name for run in runs), config, meta, rounds)


def summarize(run: RunData, ks: Sequence[int] = (1,)) -> dict:
    config = run.eval_config
    rsa = config.rsa
    table = metrics_table(problem_rounds(run), ks)
    for entry in table["overall"]:
        saved = run.rounds[entry["round"]]
        entry["generation_seconds"] = saved.header["stats"]["seconds"]
        entry["completions"] = saved.header["stats"]["completions"]
        entry["verdicts"] = dict(Counter(g.verdict_name for g in round_grades(saved)).most_common())
    return {
        "run": run.name,
        "method": config.label,
        "verifier_free": not config.uses_verifier,
        "model": run.model,
        "n": rsa.n,
        "k": rsa.k,
        "t": rsa.t,
        "seed": rsa.seed,
        "semantics": run.config.get("semantics", "lcb"),
        "problems": len(run.meta),
        "problems_without_hidden_tests": sum(m["hidden_tests"] == 0 for m in run.meta.values()),
        "config_hash": run.config.get("hash"),
        "metrics": table,
    }


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def markdown(summary: dict) -> str:
    overall = summary["metrics"]["overall"]
    ks = sorted({int(key[5:]) for entry in overall for key in entry if key.startswith("pass@") and key[5:].isdigit()} - {1})
    extra = ["rejection"] if any("rejection" in e for e in overall) else []
    lines = [
        f"## {summary['run']}: {summary['method']}, N={summary['n']} K={summary['k']} T={summary['t']}, "
        f"{summary['problems']} problems, model {summary['model']}",
        "",
    ]
    if not summary["verifier_free"]:
        lines += ["**Not verifier-free:** this method looks at public-test results while generating.", ""]
    if summary["method"].startswith("refine"):
        lines += [REFINE_NOTE, ""]
    if summary["problems_without_hidden_tests"]:
        lines += [
            f"{summary['problems_without_hidden_tests']} problems have no hidden tests: they are graded on their public tests only.",
            "",
        ]
    head = [
        "round",
        "pass@1",
        "pass@N",
        *[f"pass@{k}" for k in ks],
        "random pick",
        "majority pick",
        *[f"{e} pick" for e in extra],
        "public pass",
        "prompt tokens",
        "completion tokens",
        "gen s",
        "infra errors",
    ]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for e in overall:
        cells = [
            str(e["round"]),
            _pct(e["pass@1"]),
            _pct(e["pass@N"]),
            *[_pct(e.get(f"pass@{k}")) for k in ks],
            _pct(e["random"]),
            _pct(e["majority"]),
            *[_pct(e.get(x)) for x in extra],
            _pct(e["public"]),
            f"{e['prompt_tokens']:,}",
            f"{e['completion_tokens']:,}",
            f"{e['generation_seconds']:.1f}",
            str(e["infra_errors"]),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        "Accuracies in %. pass@1: mean accuracy over the population; pass@N: some candidate correct. "
        "An infrastructure error counts as a failure (as lcb_runner counts it); run the same command again to grade it again."
    )
    for e in overall:
        short = {k: n for k, n in e["pass@k_problems"].items() if int(k) != 1 and n < e["problems"]}
        if short:
            over = ", ".join(f"pass@{k} over {n} of {e['problems']} problems" for k, n in short.items())
            lines.append(f"Round {e['round']}: {over} (the others have fewer graded candidates than k).")
        if e["ungraded"]:
            lines.append(
                f"Round {e['round']}: {e['ungraded']} candidates not graded yet, left out; run the same command again to grade them."
            )
    lines += ["", "How candidates ended, by round:", ""]
    for e in overall:
        counts = ", ".join(f"{verdict.replace('_', ' ')} {n}" for verdict, n in e["verdicts"].items())
        lines.append(f"- round {e['round']}: {counts or 'not graded yet'}")
    for title, key in (("By difficulty", "by_difficulty"), ("By platform", "by_platform")):
        groups = summary["metrics"][key]
        if not groups:
            continue
        names = sorted(groups, key=lambda g: (ORDER.get(g, len(ORDER)), g))
        lines += ["", f"### {title}: pass@1 (pass@N)", "", "| round | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
        for t in sorted({e["round"] for rows in groups.values() for e in rows}):
            cells = []
            for name in names:
                entry = next((e for e in groups[name] if e["round"] == t), None)
                cells.append("–" if entry is None else f"{_pct(entry['pass@1'])} ({_pct(entry['pass@N'])}), n={entry['problems']}")
            lines.append(f"| {t} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot(summaries: Sequence[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    for summary in summaries:
        overall = summary["metrics"]["overall"]
        rounds = [e["round"] for e in overall]
        label = summary["run"] if len(summaries) > 1 else summary["method"]
        (line,) = ax.plot(rounds, [100 * (e["pass@1"] or 0) for e in overall], marker="o", label=f"{label} pass@1")
        ax.plot(
            rounds, [100 * (e["pass@N"] or 0) for e in overall], marker="s", linestyle="--", color=line.get_color(), label=f"{label} pass@N"
        )
    top = max((100 * (e["pass@N"] or 0) for s in summaries for e in s["metrics"]["overall"]), default=0)
    ax.set_ylim(0, 100 if top > 50 else max(5.0, top * 1.25))  # low scores stay readable, never below 0
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("round")
    ax.set_ylabel("accuracy (%)")
    ax.set_title("pass@1 and pass@N by round")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_report(run_dirs: Sequence[str | Path], out: Path | None, ks: Sequence[int]) -> tuple[str, Path]:
    """Merge the shards given, write report.md, summary.json and curve.png; return the Markdown."""
    run = merge_shards([load_run(d) for d in run_dirs])
    if out is None:
        if len(run_dirs) > 1:
            raise ReportError("several shards merge into one report: say where with --out")
        out = Path(run_dirs[0])
    check_out_dir(out)
    out.mkdir(parents=True, exist_ok=True)
    summary = summarize(run, ks)
    text = markdown(summary)
    (out / "report.md").write_text(text, encoding="utf-8")
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    plot([summary], out / "curve.png")
    return text, out


def compare(run_dirs: Sequence[str | Path], ks: Sequence[int], out: Path | None) -> str:
    summaries = [summarize(load_run(d), ks) for d in run_dirs]
    depth = max(len(s["metrics"]["overall"]) for s in summaries)
    head = [
        "run",
        "method",
        "verifier-free",
        "model",
        "N",
        "K",
        "T",
        "problems",
        *[f"pass@1 r{t}" for t in range(depth)],
        "final pass@N",
        "final majority",
        "completion tokens",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for s in summaries:
        overall = s["metrics"]["overall"]
        by_round = {e["round"]: e for e in overall}
        cells = [
            s["run"],
            s["method"],
            "yes" if s["verifier_free"] else "no",
            str(s["model"]),
            str(s["n"]),
            str(s["k"]),
            str(s["t"]),
            str(s["problems"]),
            *[_pct(by_round[t]["pass@1"]) if t in by_round else "–" for t in range(depth)],
            _pct(overall[-1]["pass@N"]),
            _pct(overall[-1]["majority"]),
            f"{sum(e['completion_tokens'] for e in overall):,}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    if out is not None:
        check_out_dir(out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "compare.md").write_text(text, encoding="utf-8")
        plot(summaries, out / "compare.png")
    return text
