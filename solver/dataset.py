"""Verified code datasets from evaluation runs.

solutions     one record per (problem, distinct program) that passed every test, public
              and hidden. Problems without hidden tests are never called verified.
aggregation   one record per aggregation call: the prompt as the model saw it (chat
              messages, rebuilt from the parents and the recorded trimming), the K
              candidates' correctness, the program written and its reward (1.0 when it
              passed every test). Hidden tests appear in no prompt: prompts hold the
              statement and candidates only.
rl            (--format verl or openrlhf) prompts to train on, plain and aggregation,
              each with the tests a new completion is graded on: solver/verl_export.py.
Every file with rows loads with Hugging Face `datasets` as it is, and a dataset card says
how they were made and offers each such file as a config.
"""

from __future__ import annotations

import ast
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from solver.grades import Grade, public_feedback, settled_correct
from solver.rsa import Candidate, sent_messages
from solver.runs import RunData, load_run, problem_of

Format = Literal["jsonl", "parquet", "verl", "openrlhf"]
Dedupe = Literal["code", "behaviour"]
RL_FORMATS = ("verl", "openrlhf")  # also write rl.parquet / rl.jsonl (solver/verl_export.py)
EXTENSION = {"jsonl": "jsonl", "parquet": "parquet", "verl": "parquet", "openrlhf": "jsonl"}


class DatasetOptions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Format = "jsonl"
    min_tests: int = Field(1, ge=0, description="a verified program must have passed at least this many tests")
    dedupe: Dedupe = "code"
    informative_only: bool = Field(False, description="keep aggregation examples whose candidates are neither all right nor all wrong")
    plain_ratio: float = Field(
        0.5,
        ge=0,
        le=1,
        description="verl/openrlhf: the fraction of RL rows that are plain generation prompts (the rest are aggregation prompts)",
    )
    problems: tuple[str, ...] = Field(
        (), description="verl/openrlhf: problem files holding the runs' tests (default: the files each run recorded)"
    )


def normalized_code(code: str) -> str:
    """Comments, blank lines and formatting ignored: the program as the parser sees it."""
    try:
        return ast.unparse(ast.parse(code))
    except (SyntaxError, ValueError):
        return "\n".join(line.strip() for line in code.splitlines() if line.strip() and not line.strip().startswith("#"))


def _settings(run: RunData) -> dict:
    config = run.eval_config
    rsa = config.rsa
    return {
        "model": run.model,
        "runner": run.config.get("runner", {}).get("kind"),
        "method": config.label,
        "n": rsa.n,
        "k": rsa.k,
        "t": rsa.t,
        "temperature": rsa.temperature,
        "top_p": rsa.top_p,
        "max_tokens": rsa.max_tokens,
        "seed": rsa.seed,
        "semantics": run.config.get("semantics") or "lcb",
    }


def build(run_dirs: Sequence[str | Path], options: DatasetOptions) -> tuple[list[dict], list[dict], dict]:
    """(solutions, aggregation examples, facts for the card)."""
    solutions: list[dict] = []
    examples: list[dict] = []
    seen: set[tuple] = set()
    settings_seen: list[dict] = []
    licenses: Counter = Counter()
    for run_dir in run_dirs:
        run = load_run(run_dir)
        settings = _settings(run)
        settings_seen.append({"run": run.name, **settings})
        licenses.update(str(meta.get("license") or "not stated") for meta in run.meta.values())
        problems = {pid: problem_of(pid, meta) for pid, meta in run.meta.items()}
        grades = run.grades
        feedback = public_feedback(grades) if run.eval_config.feedback_in_prompt else None

        previous: dict[str, list[Candidate]] = {}
        for saved in run.rounds:
            population: dict[str, list[Candidate]] = {}
            for c in saved.candidates:
                population.setdefault(c.problem_id, []).append(c)
            for c in saved.candidates:
                meta = run.meta[c.problem_id]
                ok = settled_correct(grades, c)
                tests = "public+hidden" if meta["hidden_tests"] else "public"
                grade = grades.get(c.key)
                if ok and meta["hidden_tests"] and grade.passed >= options.min_tests:
                    key = (c.problem_id, normalized_code(c.code) if options.dedupe == "code" else grade.public.keys)
                    if key not in seen:
                        seen.add(key)
                        solutions.append(_solution(c, meta, settings, run.name, grade))
                if c.parents and ok is not None:
                    parents = [previous[c.problem_id][p] for p in c.parents]
                    parent_ok = [settled_correct(grades, p) for p in parents]
                    if None in parent_ok:
                        continue  # a parent's correctness is unknown: no honest label
                    if options.informative_only and len(set(parent_ok)) < 2:
                        continue
                    messages = sent_messages(problems[c.problem_id], parents, c.trim, feedback, run.templates)
                    examples.append(
                        {
                            "prompt": [dict(m) for m in messages],
                            "reward": 1.0 if ok else 0.0,
                            "candidates_correct": parent_ok,
                            "program": c.code,
                            "response": c.text,
                            "problem_id": c.problem_id,
                            "source": meta.get("source") or "",
                            "difficulty": meta.get("difficulty") or "unknown",
                            "round": c.round,
                            "index": c.index,
                            "parents": list(c.parents),
                            "reward_tests": tests,
                            "prompt_trimmed": c.trim is not None,
                            **{f"gen_{k}": v for k, v in settings.items()},
                            "run": run.name,
                        }
                    )
            previous = population
    facts = {"settings": settings_seen, "licenses": dict(licenses)}
    if options.format in RL_FORMATS:
        from solver.verl_export import rl_rows

        rows, rl_facts = rl_rows(run_dirs, examples, options.plain_ratio, options.problems or None)
        facts["rl"] = {**rl_facts, "records": rows}
    return solutions, examples, facts


def _solution(c: Candidate, meta: dict, settings: dict, run: str, grade: Grade) -> dict:
    return {
        "problem_id": c.problem_id,
        "title": meta.get("title") or "",
        "source": meta.get("source") or "",
        "platform": meta.get("platform") or "unknown",
        "difficulty": meta.get("difficulty") or "unknown",
        "contest_date": meta.get("contest_date"),
        "license": meta.get("license"),
        "kind": meta["kind"],
        "func_name": meta.get("func_name"),
        "statement": meta["statement"],
        "starter_code": meta.get("starter_code") or "",
        "program": c.code,
        "response": c.text,
        "round": c.round,
        "index": c.index,
        "tests_passed": grade.passed,
        "public_tests": meta["public_tests"],
        "hidden_tests": meta["hidden_tests"],
        "verified_by": f"all {meta['public_tests']} public and {meta['hidden_tests']} hidden tests",
        **{f"gen_{k}": v for k, v in settings.items()},
        "run": run,
    }


def write(out: Path, solutions: list[dict], examples: list[dict], facts: dict, options: DatasetOptions) -> dict[str, Path]:
    """Every file, and the card. A file with no rows is written too, but the card offers it as
    no config: `datasets` cannot load a split with no rows (it raises; huggingface/datasets#8401)."""
    out.mkdir(parents=True, exist_ok=True)
    ext = EXTENSION[options.format]
    paths = {}
    for name, rows in (("solutions", solutions), ("aggregation", examples)):
        path = out / f"{name}.{ext}"
        if ext == "jsonl":
            path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            if rows:
                pq.write_table(pa.Table.from_pylist(rows), path)
            else:  # no row group: a file pyarrow reads as empty (an empty row group would not be)
                pq.ParquetWriter(path, pa.schema([])).close()
        paths[name] = path
    if "rl" in facts:
        from solver.verl_export import RL_FILE, write_rl

        paths["rl"] = write_rl(out / RL_FILE[options.format], facts["rl"]["records"], options.format)
    (out / "README.md").write_text(_card(solutions, examples, facts, options, paths), encoding="utf-8")
    return paths


def card_configs(card: str) -> dict[str, str]:
    """The configs a card written by `write` offers: config name -> data file."""
    configs, name = {}, None
    for line in card.split("\n---", 1)[0].splitlines():
        if line.startswith("- config_name: "):
            name = line.removeprefix("- config_name: ").strip()
        elif line.strip().startswith("data_files: ") and name:
            configs[name] = line.strip().removeprefix("data_files: ").strip()
    return configs


def _counts(rows: list[dict], key: str) -> str:
    counts = Counter(str(r[key]) for r in rows)
    return ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "none"


_EMPTY = (
    "\n\nNo rows: the file is there for scripts, but the card offers no config for it, since `datasets`\ncannot load a split with no rows."
)


def _rl_section(rl: dict, options: DatasetOptions, path: Path) -> str:
    trainer = (
        "verl (`RLHFDataset`): `data_source`, `prompt`, `ability`, `reward_model` {`style`, `ground_truth`}, `extra_info`"
        if options.format == "verl"
        else "OpenRLHF: `prompt` (chat messages), `label` (the ground truth), `data_source`, `extra_info`"
    )
    train = (
        f"""```bash
python -m verl.trainer.main_ppo \\
    data.train_files={path.name} data.val_files={path.name} data.prompt_key=prompt \\
    custom_reward_function.path=pkg://solver.reward custom_reward_function.name=compute_score \\
    ...   # model, rollout and algorithm options as usual
```"""
        if options.format == "verl"
        else f"""```bash
python -m openrlhf.cli.train_ppo_ray --prompt_data {path.name} \\
    --data.input_key prompt --data.label_key label --data.apply_chat_template \\
    --remote_rm_url "$(python -c 'import solver.reward as r; print(r.__file__)')" \\
    ...   # model, rollout and algorithm options as usual
```"""
    )
    return f"""## {path.name}: {rl["rows"]} prompts to train on{"" if rl["rows"] else _EMPTY}

For {trainer}. Two kinds of prompt, mixed as the paper trains: {rl["generation"]} plain generation
prompts (`data_source` `rsa-code/generation`: the problem alone, as round 0 sent it) and
{rl["aggregation"]} aggregation prompts (`rsa-code/aggregation`: the problem and K candidates, as a
later round sent it), over {rl["problems"]} problems; asked for: {rl["plain_ratio"]:g} plain. Every
aggregation example is kept (none when the ratio is 1) and plain prompts are added, every
problem once before any twice, until they are that fraction of the rows. The ground truth
is the problem's tests (all of them, public then hidden), encoded by `solver.reward`;
`extra_info` holds the problem id, round, parent indices and their correctness, the
recorded completion's reward and the grading semantics ({", ".join(rl["semantics"])}).

How to train: the reward is `solver.reward.compute_score` (importable once rsa-code is
installed); it grades each new completion in the sandbox, as the labels here were graded.
The longest prompt is {rl["max_prompt_chars"]} characters: give the trainer a prompt length that holds it
(verl drops longer prompts by default). See docs/rl.md in rsa-code.

{train}

"""


_INFORMATIVE = " Only informative groups: candidates neither all right nor all wrong."
_DISTINCT_BY = {
    "code": "normalised code (comments, blank lines and formatting ignored)",
    "behaviour": "behaviour on the tests (one program per problem and behaviour)",
}


def _card(solutions: list[dict], examples: list[dict], facts: dict, options: DatasetOptions, paths: dict[str, Path]) -> str:
    ext = EXTENSION[options.format]
    licenses = facts["licenses"]
    license_line = ", ".join(f"{name} ({count} problems)" for name, count in sorted(licenses.items()))
    settings = "\n".join(
        f"- `{s['run']}`: model `{s['model']}` ({s['runner']}), method {s['method']}, N={s['n']} K={s['k']} T={s['t']}, "
        f"temperature {s['temperature']}, top_p {s['top_p']}, max_tokens {s['max_tokens']}, seed {s['seed']}, "
        f"graded with {s.get('semantics', 'lcb')} semantics"
        for s in facts["settings"]
    )
    rewarded = sum(e["reward"] for e in examples)
    counts = {"solutions": len(solutions), "aggregation": len(examples), "rl": facts.get("rl", {}).get("rows", 0)}
    offered = {name: path for name, path in paths.items() if counts[name]}
    front = (
        ("---\nconfigs:\n" + "".join(f"- config_name: {name}\n  data_files: {path.name}\n" for name, path in offered.items()) + "---\n")
        if offered
        else ""
    )
    loading = (
        "\n".join(
            f'{name} = load_dataset("{"parquet" if path.suffix == ".parquet" else "json"}", data_files="{path.name}", split="train")'
            for name, path in offered.items()
        )
        or "# no file has rows"
    )
    rl = _rl_section(facts["rl"], options, paths["rl"]) if "rl" in facts else ""
    return f"""{front}# Verified code dataset made by rsa-code

Made with Recursive Self-Aggregation (arXiv 2509.26626) by `rsa-code dataset`: for each
problem the model samples N programs, then for T rounds writes each new program from K of
the current population ("here are K attempts, some may be wrong: write one correct
program"); every candidate of every round is graded on the problem's tests in a sandbox.

## solutions.{ext}: {len(solutions)} verified programs{"" if solutions else _EMPTY}

One record per (problem, distinct program) that passed every public and hidden test of its
problem; problems without hidden tests are left out. Distinct by {_DISTINCT_BY[options.dedupe]}; at least {options.min_tests} tests passed.

- by difficulty: {_counts(solutions, "difficulty")}
- by source: {_counts(solutions, "source")}
- problems covered: {len({s["problem_id"] for s in solutions})}

## aggregation.{ext}: {len(examples)} aggregation examples{"" if examples else _EMPTY}

One record per aggregation call: `prompt` (the chat messages the model saw: statement and
K candidates, no tests), `candidates_correct`, `program`, `response` and `reward` (1.0 when
the program passed every test; {int(rewarded)} of {len(examples)}).{_INFORMATIVE if options.informative_only else ""}
`reward_tests` says which tests decided the reward (public only where a problem has no hidden tests).

- by difficulty: {_counts(examples, "difficulty")}
- by source: {_counts(examples, "source")}

{rl}## How it was generated

{settings}

Semantics: `lcb` grades as LiveCodeBench's grader does (scores compare with published
ones); `judge` runs programs as a real judge runs them (no correct program is lost).

## Licence of the source problems

The licence field of the source rows: {license_line or "none"}. Check the source's own terms
before you redistribute (LiveCodeBench rows carry no licence field of their own).

## Loading

```python
from datasets import load_dataset
{loading}
```
"""
