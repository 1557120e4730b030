"""Reports from run directories: a Markdown table, summary.json and two figures: pass@1
and pass@N by round (curve.png) and against the total tokens spent per problem
(curve_tokens.png), so methods are compared at equal compute, not only equal completions.

Several directories that are shards of one run (same config but for the shard) merge into
one report; runs with different configs are put side by side by `compare`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from problems import UsageError
from solver.metrics import cost_table, metrics_table, problem_rounds, round_costs
from solver.paths import check_out_dir
from solver.plots import line_plot
from solver.population import population_table
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
        keys = dict.fromkeys(key for p in parts for key in p.header["stats"])  # verify_* only in newer runs
        stats = {key: sum(p.header["stats"].get(key, 0) for p in parts) for key in keys}
        stats["round"] = t
        stats["seconds"] = max(p.header["stats"]["seconds"] for p in parts)  # shards run side by side
        header = {"stats": stats, "model": parts[0].header.get("model")}
        rounds.append(Round(t, header, [c for p in parts for c in p.candidates], [g for p in parts for g in p.grades]))
    config = {**runs[0].config, "shard": f"merged from {len(runs)} shards"}
    return RunData("+".join(run.name for run in runs), config, meta, rounds)


def summarize(run: RunData, ks: Sequence[int] = (1,)) -> dict:
    config = run.eval_config
    rsa = config.rsa
    rows = problem_rounds(run)
    table = metrics_table(rows, ks)
    budget = cost_table(round_costs(run))
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
        "budget": budget,
        "budget_total_per_problem": budget[-1]["cumulative_per_problem"] if budget else None,
        "population": population_table(run, rows),
    }


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def markdown(summary: dict) -> str:
    overall = summary["metrics"]["overall"]
    ks = sorted({int(key[5:]) for entry in overall for key in entry if key.startswith("pass@") and key[5:].isdigit()} - {1})
    extra = [name for name in ("rejection", "verified", "judged_correct") if any(name in e for e in overall)]
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
        *[f"{e.replace('_', ' ')}" if e == "judged_correct" else f"{e} pick" for e in extra],
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
        "An infrastructure error counts as a failure (as lcb_runner counts it); run the same command again to grade it again. "
        "Tokens here: the round's generation, all problems together; the compute table below counts every request per problem."
    )
    if "verified" in extra:
        lines.append(
            "verified pick (self-verify): a uniform pick among the samples so far that the model judged correct, else a uniform pick; "
            "judged correct: share of the population the model judged correct."
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
    lines += _budget_lines(summary)
    lines += _population_lines(summary)
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


def _tokens(value: float) -> str:
    return f"{value:,.0f}"


def _budget_lines(summary: dict) -> list[str]:
    budget = summary.get("budget") or []
    if not budget:
        return []
    verify = any(row["totals"]["verify_requests"] for row in budget)
    head = ["round", "completions", *(["verify requests"] if verify else []), "prompt tokens", "completion tokens", "total tokens"]
    head += ["cum. completions", *(["cum. requests"] if verify else []), "cum. total tokens"]
    lines = ["", "### Compute per problem", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in budget:
        per, cum = row["per_problem"], row["cumulative_per_problem"]
        cells = [
            str(row["round"]),
            f"{per['completions']:.2f}",
            *([f"{row['totals']['verify_requests'] / max(summary['problems'], 1):.2f}"] if verify else []),
            _tokens(per["prompt_tokens"]),
            _tokens(per["completion_tokens"]),
            _tokens(per["total_tokens"]),
            f"{cum['completions']:.2f}",
            *([f"{cum['requests']:.2f}"] if verify else []),
            _tokens(cum["total_tokens"]),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    total = summary["budget_total_per_problem"]
    lines += [
        "",
        f"Per problem over the run: {total['completions']:.2f} completions, {_tokens(total['prompt_tokens'])} prompt tokens, "
        f"{_tokens(total['completion_tokens'])} completion tokens ({_tokens(total['total_tokens'])} in all"
        + (", self-verification's judge requests included" if verify else "")
        + "). Equal completions are not equal compute: an aggregation prompt carries K candidates, "
        "so compare methods on total tokens too (curve_tokens.png).",
    ]
    return lines


def _share(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def _population_lines(summary: dict) -> list[str]:
    population = summary.get("population") or []
    if not population:
        return []
    head = [
        "round",
        "distinct programs",
        "clusters",
        "largest cluster",
        "pass@N − pass@1",
        "tokens p10 / p50 / p90",
        "correct children",
        "of them no correct parent",
        "children of correct parents",
        "of them correct",
    ]
    lines = ["", "### Population", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for e in population:
        q, links = e["completion_tokens"], e["lineage"]
        has_parents = links["children"] or links["unknown"]
        cells = [
            str(e["round"]),
            "–" if e["distinct_programs"] is None else f"{e['distinct_programs']:.2f}",
            "–" if e["clusters"] is None else f"{e['clusters']:.2f}",
            _share(e["largest_cluster_share"]),
            _pct(e["gain_left"]),
            "–" if q["p50"] is None else f"{q['p10']:,.0f} / {q['p50']:,.0f} / {q['p90']:,.0f}",
            str(links["correct_children"]) if has_parents else "–",
            f"{links['bootstrapped']} ({_share(links['bootstrapped_share'])})" if has_parents else "–",
            str(links["with_correct_parent"]) if has_parents else "–",
            f"{links['kept']} ({_share(links['kept_share'])})" if has_parents else "–",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "Per problem, averaged over problems: distinct programs (by syntax tree, comments and docstrings ignored) and "
        "behaviour clusters (same outputs on every public input) in the population; largest cluster: its share of the "
        "population. pass@N − pass@1 (points of %): what aggregation could still gain. Tokens: completion tokens of the "
        "candidates made this round. Lineage (candidates made from parents, graded): correct children none of whose "
        "parents was correct, and children with a correct parent that stayed correct. See docs/reports.md.",
    ]
    unknown = sum(e["lineage"]["unknown"] for e in population)
    if unknown:
        lines.append(f"{unknown} children left out of the lineage: they or a parent are not graded yet.")
    return lines


def _label(summary: dict, several: bool) -> str:
    return summary["run"] if several else summary["method"]


def plot(summaries: Sequence[dict], path: Path) -> None:
    """pass@1 (solid) and pass@N (dashed) by round, for each run."""
    series: dict[str, list[tuple[float, float | None]]] = {}
    dashed = []
    for summary in summaries:
        overall = summary["metrics"]["overall"]
        label = _label(summary, len(summaries) > 1)
        series[f"{label} pass@1"] = [(e["round"], e["pass@1"]) for e in overall]
        series[f"{label} pass@N"] = [(e["round"], e["pass@N"]) for e in overall]
        dashed.append(f"{label} pass@N")
    line_plot(
        path,
        series,
        x_label="round",
        y_label="accuracy (%)",
        title="pass@1 and pass@N by round",
        integer_x=True,
        y_percent=True,
        dashed=dashed,
    )


def plot_tokens(summaries: Sequence[dict], path: Path) -> None:
    """pass@1 against the total tokens (prompt + completion, every request) spent per
    problem up to each round, for each run: methods at equal compute."""
    series = {}
    for summary in summaries:
        spent = {row["round"]: row["cumulative_per_problem"]["total_tokens"] for row in summary.get("budget") or []}
        series[_label(summary, len(summaries) > 1)] = [
            (spent[e["round"]], e["pass@1"]) for e in summary["metrics"]["overall"] if e["round"] in spent
        ]
    line_plot(
        path,
        series,
        x_label="total tokens per problem (prompt + completion, cumulative)",
        y_label="pass@1 (%)",
        title="pass@1 against compute",
        y_percent=True,
    )


def write_report(run_dirs: Sequence[str | Path], out: Path | None, ks: Sequence[int]) -> tuple[str, Path]:
    """Merge the shards given, write report.md, summary.json, curve.png and curve_tokens.png; return the Markdown."""
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
    plot_tokens([summary], out / "curve_tokens.png")
    return text, out


def _compare_budget(summary: dict) -> list[str]:
    total = summary.get("budget_total_per_problem")
    if not total:
        return ["–"] * 4
    return [
        f"{total['completions']:.2f}",
        _tokens(total["prompt_tokens"]),
        _tokens(total["completion_tokens"]),
        _tokens(total["total_tokens"]),
    ]


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
        "completions / problem",
        "prompt tokens / problem",
        "completion tokens / problem",
        "total tokens / problem",
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
            *_compare_budget(s),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "Per problem, over the whole run: completions, and prompt and completion tokens of every request "
        "(self-verification's judge requests included). Equal completions are not equal compute: compare "
        "pass@1 at equal total tokens (compare_tokens.png).",
    ]
    text = "\n".join(lines) + "\n"
    if out is not None:
        check_out_dir(out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "compare.md").write_text(text, encoding="utf-8")
        plot(summaries, out / "compare.png")
        plot_tokens(summaries, out / "compare_tokens.png")
    return text
