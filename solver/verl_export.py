"""RL training data from evaluation runs, in the layout verl and OpenRLHF read as they are.

One row per prompt to train on, of two kinds mixed at a ratio the user sets (the paper
trains on both):

  generation    the problem alone, as round 0 sent it, with the run's templates (one row
                per round-0 candidate drawn)
  aggregation   the problem and K candidates, as a later round sent it (every aggregation
                example of `solver.dataset.build`, with its recorded trimming)

verl (`rl.parquet`), the schema verl's RLHFDataset reads (verl/utils/dataset/rl_dataset.py):

  data_source   "rsa-code/generation" or "rsa-code/aggregation" (verl reports rewards by it)
  prompt        the chat messages [{role, content}]
  ability       "code"
  reward_model  {style: "rule", ground_truth: the problem's tests, solver.reward's encoding}
  extra_info    {index, split, problem_id, prompt_kind, round, candidate_index, parents,
                 parents_correct, recorded_reward, semantics, tests, prompt_trimmed, source,
                 difficulty, run}

OpenRLHF (`rl.jsonl`): the same rows with the ground truth as `label`
(`--data.input_key prompt --data.label_key label --data.apply_chat_template`).

Ground truth needs the tests, which run directories do not hold: they are loaded from the
problem files the run recorded (config.json runtime.data) or the paths given, and must be
the very problems the run was made from (the run's problem digest is checked).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from pathlib import Path

from problems import Problem, UsageError, load_problems
from solver.reward import encode_ground_truth
from solver.rsa import sent_messages
from solver.runs import RunData, load_run

RL_FILE = {"verl": "rl.parquet", "openrlhf": "rl.jsonl"}
MIX_SEED = 0  # the plain prompts drawn and the order of the rows: same runs, same file

_EXTRA_INFO_FIELDS = (
    ("index", "int64"),
    ("split", "string"),
    ("problem_id", "string"),
    ("prompt_kind", "string"),
    ("round", "int64"),
    ("candidate_index", "int64"),
    ("parents", "list<int64>"),
    ("parents_correct", "list<bool>"),
    ("recorded_reward", "float64"),
    ("semantics", "string"),
    ("tests", "string"),
    ("prompt_trimmed", "bool"),
    ("source", "string"),
    ("difficulty", "string"),
    ("run", "string"),
)


def verl_schema():
    """The parquet schema of rl.parquet (fixed, so files with no rows or only one kind of
    prompt have the same columns and types as any other)."""
    import pyarrow as pa

    types = {
        "int64": pa.int64(),
        "string": pa.string(),
        "float64": pa.float64(),
        "bool": pa.bool_(),
        "list<int64>": pa.list_(pa.int64()),
        "list<bool>": pa.list_(pa.bool_()),
    }
    return pa.schema(
        [
            ("data_source", pa.string()),
            ("prompt", pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))),
            ("ability", pa.string()),
            ("reward_model", pa.struct([("style", pa.string()), ("ground_truth", pa.string())])),
            ("extra_info", pa.struct([(name, types[kind]) for name, kind in _EXTRA_INFO_FIELDS])),
        ]
    )


def run_semantics(config: dict) -> str:
    """The grading semantics a run's labels were made with (runs from before semantics were
    recorded were graded with LiveCodeBench's)."""
    return config.get("semantics") or "lcb"


def _digest(problems: Sequence[Problem]) -> str:
    digest = hashlib.sha256()
    for p in problems:
        digest.update(p.model_dump_json().encode())
    return digest.hexdigest()[:16]


def run_problems(run: RunData, paths: Sequence[str] | None = None) -> dict[str, Problem]:
    """The run's problems with their tests, from `paths` or the files the run recorded,
    checked against the run's problem digest."""
    given = list(paths) if paths else list(run.config.get("runtime", {}).get("data") or [])
    if not given:
        raise UsageError(f"{run.name}: the run does not say which problem files it used; give them with --problems")
    try:
        loaded = {p.id: p for p in load_problems(given)}
    except ValueError as e:
        hint = "" if paths else " (the files this run recorded; give them with --problems if they moved)"
        raise UsageError(f"{run.name}: loading the problems' tests: {e}{hint}") from None
    missing = [pid for pid in run.meta if pid not in loaded]
    if missing:
        raise UsageError(
            f"{run.name}: {len(missing)} of its problems are not in {', '.join(given)} (e.g. {missing[0]}); "
            "give the files it was made from with --problems"
        )
    chosen = [loaded[pid] for pid in run.meta]
    expected = run.config.get("problems", {}).get("digest")
    if expected and _digest(chosen) != expected:
        raise UsageError(
            f"{run.name}: the problems in {', '.join(given)} differ from those the run was made from "
            "(statement, tests or metadata changed); give the original files with --problems"
        )
    return {p.id: p for p in chosen}


def _row(messages, kind: str, problem: Problem, ground_truth: str, info: dict) -> dict:
    return {
        "data_source": f"rsa-code/{kind}",
        "prompt": [{"role": m["role"], "content": m["content"]} for m in messages],
        "ability": "code",
        "reward_model": {"style": "rule", "ground_truth": ground_truth},
        "extra_info": {
            "prompt_kind": kind,
            "problem_id": problem.id,
            "source": problem.source,
            "difficulty": problem.difficulty or "unknown",
            **info,
        },
    }


def _plain_count(aggregation: int, problems: int, ratio: float) -> int:
    if ratio >= 1 or (aggregation == 0 and ratio > 0):
        return problems
    return round(aggregation * ratio / (1 - ratio))


def rl_rows(
    run_dirs: Sequence[str | Path], examples: list[dict], plain_ratio: float, problem_paths: Sequence[str] | None = None
) -> tuple[list[dict], dict]:
    """(rows, facts for the card). `examples`: the aggregation examples `build` made from
    the same runs. All aggregation examples are kept (none when plain_ratio is 1) and plain
    prompts are added until they are `plain_ratio` of the rows: round-0 candidates drawn
    problem by problem in a seeded order, every problem once before any twice."""
    rng = random.Random(MIX_SEED)
    problems: dict[tuple[str, str], Problem] = {}
    truths: dict[tuple[str, str], str] = {}
    plain_pools: list[list[dict]] = []
    semantics_of: dict[str, str] = {}  # run name -> the semantics its labels were graded with
    templates_of: dict = {}  # run name -> the prompt templates it used
    for run_dir in run_dirs:
        run = load_run(run_dir)
        if run.name in semantics_of:
            raise UsageError(f"two runs are named {run.name!r}: rows name their run by its directory's name; rename one")
        semantics = semantics_of[run.name] = run_semantics(run.config)
        templates_of[run.name] = run.templates
        for pid, problem in run_problems(run, problem_paths).items():
            problems[(run.name, pid)] = problem
            truths[(run.name, pid)] = encode_ground_truth(problem)
        by_problem: dict[str, list[dict]] = {}
        for c in run.rounds[0].candidates if run.rounds else ():
            g = run.grades.get(c.key)
            if g is None or g.infra_error:
                continue  # its recorded reward is unknown
            by_problem.setdefault(c.problem_id, []).append(
                {
                    "run": run.name,
                    "problem_id": c.problem_id,
                    "round": 0,
                    "candidate_index": c.index,
                    "recorded_reward": 1.0 if g.correct else 0.0,
                    "semantics": semantics,
                }
            )
        plain_pools += list(by_problem.values())

    aggregation = [] if plain_ratio >= 1 else examples
    rows = []
    for e in aggregation:
        key = (e["run"], e["problem_id"])
        problem = problems[key]
        rows.append(
            _row(
                e["prompt"],
                "aggregation",
                problem,
                truths[key],
                {
                    "round": e["round"],
                    "candidate_index": e["index"],
                    "parents": list(e["parents"]),
                    "parents_correct": [bool(x) for x in e["candidates_correct"]],
                    "recorded_reward": float(e["reward"]),
                    "tests": e["reward_tests"],
                    "prompt_trimmed": bool(e["prompt_trimmed"]),
                    "run": e["run"],
                    "semantics": semantics_of[e["run"]],
                },
            )
        )

    wanted = _plain_count(len(aggregation), len(plain_pools), plain_ratio) if plain_ratio > 0 else 0
    rng.shuffle(plain_pools)
    drawn: list[dict] = []
    depth = 0
    while len(drawn) < wanted and plain_pools:
        for pool in plain_pools:
            if len(drawn) == wanted:
                break
            drawn.append(pool[depth % len(pool)])
        depth += 1
    for d in drawn:
        key = (d["run"], d["problem_id"])
        problem = problems[key]
        tests = "public+hidden" if problem.hidden_tests else "public"
        rows.append(
            _row(
                sent_messages(problem, [], None, None, templates_of[d["run"]]),
                "generation",
                problem,
                truths[key],
                {
                    "round": 0,
                    "candidate_index": d["candidate_index"],
                    "parents": [],
                    "parents_correct": [],
                    "recorded_reward": d["recorded_reward"],
                    "tests": tests,
                    "prompt_trimmed": False,
                    "run": d["run"],
                    "semantics": d["semantics"],
                },
            )
        )
    rng.shuffle(rows)
    for index, row in enumerate(rows):
        row["extra_info"] = {"index": index, "split": "train", **row["extra_info"]}
    facts = {
        "rows": len(rows),
        "generation": sum(r["data_source"] == "rsa-code/generation" for r in rows),
        "aggregation": sum(r["data_source"] == "rsa-code/aggregation" for r in rows),
        "problems": len({(r["extra_info"]["run"], r["extra_info"]["problem_id"]) for r in rows}),
        "plain_ratio": plain_ratio,
        "max_prompt_chars": max((sum(len(m["content"]) for m in r["prompt"]) for r in rows), default=0),
        "semantics": sorted(set(semantics_of.values())),
    }
    return rows, facts


def write_rl(path: Path, rows: list[dict], fmt: str) -> Path:
    """rl.parquet in verl's schema (fmt "verl") or rl.jsonl for OpenRLHF (fmt "openrlhf")."""
    if fmt == "verl":
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = verl_schema()
        ordered = [
            {name: {**row, "extra_info": {f: row["extra_info"][f] for f, _ in _EXTRA_INFO_FIELDS}}[name] for name in schema.names}
            for row in rows
        ]
        with pq.ParquetWriter(path, schema) as writer:  # no rows: a file with the schema and no row group
            if ordered:
                writer.write_table(pa.Table.from_pylist(ordered, schema=schema))
        return path
    lines = []
    for row in rows:
        record = {
            "prompt": row["prompt"],
            "label": row["reward_model"]["ground_truth"],
            "data_source": row["data_source"],
            "extra_info": row["extra_info"],
        }
        lines.append(json.dumps(record, ensure_ascii=False) + "\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path
