"""`--format verl` / `openrlhf`: RL rows from a real small run, checked against the contract
of the trainers that read them; and every file a dataset card names loads with `datasets`,
empty runs included, in every format.

The verl contract is read from verl's own code (a contract test, not verl installed: verl
0.9.1 on PyPI pins transformers<5.11, which this venv's cannot share), at
github.com/volcengine/verl commit b178a3cd56f58b2d502255daba591e92833930a7 (0.8.0.dev):

- verl/utils/dataset/rl_dataset.py, RLHFDataset._read_files_and_tokenize: each file is
  read with `datasets.load_dataset("parquet", data_files=f)["train"]`; `prompt_key`
  (default "prompt") is handed to `tokenizer.apply_chat_template` as a list of
  {role, content} messages; __getitem__ reads `extra_info` (a dict: `index`,
  `tools_kwargs`, `interaction_kwargs`, `need_tools_kwargs`) and `data_source`.
- verl/workers/reward_manager/naive.py and verl/experimental/reward_loop/reward_manager/
  naive.py: `compute_score(data_source=, solution_str=, ground_truth=
  row["reward_model"]["ground_truth"], extra_info=)` after adding `num_turns` and
  `rollout_reward_scores` to extra_info; a dict result must hold "score".
- verl/workers/reward_manager/batch.py: `compute_score(data_sources=, solution_strs=,
  ground_truths=, extra_infos=, **reward_kwargs)` returning one score per completion.
- verl/trainer/ppo/reward.py get_custom_reward_fn + verl/utils/import_utils.py
  load_module: `custom_reward_function.path` is "pkg://module.path" (importlib) or a
  file loaded with spec_from_file_location under a made-up name; reward_kwargs are
  merged into every call.

OpenRLHF (github.com/OpenRLHF/OpenRLHF commit 3c3be6234e0cb353e76bb8019947db9dfe99fca7):
openrlhf/datasets/prompts_dataset.py preprocess_data reads data[input_key] (chat messages
with --data.apply_chat_template) and data[label_key]; openrlhf/utils/agent.py loads
`reward_func(queries, prompts, labels)` from the --remote_rm_url .py file.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from datasets import load_dataset

import solver.reward
from problems import UsageError, load_problems
from runners.scripted import ScriptedRunner
from sandbox import make_sandbox
from solver import reward
from solver.dataset import DatasetOptions, build, card_configs, write
from solver.evaluate import evaluate
from solver.reward import decode_ground_truth
from solver.rsa import RSAConfig
from solver.rundir import RunDir
from solver.runs import EvalConfig, load_run, run_config
from solver.verl_export import _EXTRA_INFO_FIELDS, run_problems, verl_schema
from tests.conftest import LCB_FULL_TESTS_SAMPLE, LCB_HIDDEN100
from tests.test_eval_cli import ABC301_A

RIGHT_AND_WRONG = [
    f"The winner is whoever wins more games.\n```python\n{ABC301_A}\n```",
    "Count and print.\n```python\nprint('T')\n```",
    "Loop over the tests.\n```python\nfor _ in range(int(input())):\n    print('YES')\n```",
    "class Solution:\n    def countSeniors(self, details):\n        return sum(int(d[11:13]) > 60 for d in details)",
    "I do not know.",
]
NOTHING_RIGHT = ["Count and print.\n```python\nprint('T')\n```", "I do not know."]


SENT: dict[str, dict[int, tuple]] = {}  # run dir -> each request's messages by sampling seed, as the runner got them


def make_run(tmp_path: Path, name: str, texts: list[str], n: int = 4, k: int = 2, t: int = 1, data=LCB_FULL_TESTS_SAMPLE) -> Path:
    """A real run: the official sample's 3 problems, a scripted model, the local sandbox."""
    pick = ScriptedRunner(texts)
    sent = SENT.setdefault(str(tmp_path / name), {})

    def recording(request):
        sent[request.sampling.seed] = tuple(dict(m) for m in request.messages)
        return pick.generate([request])[0].text

    problems = load_problems([data])
    rundir = RunDir(tmp_path / name)
    config = EvalConfig(rsa=RSAConfig(n=n, k=k, t=t, max_tokens=64))
    rundir.open(run_config(config, problems, runner={"kind": "scripted"}, limits={}, runtime={"data": [str(data)]}))
    with pytest.warns(Warning):  # the local sandbox says it isolates nothing
        sandbox = make_sandbox("local", workers=2)
    try:
        evaluate(problems, ScriptedRunner(recording), sandbox, config, rundir)
    finally:
        sandbox.close()
    return rundir.path


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    return make_run(tmp_path_factory.mktemp("runs"), "run", RIGHT_AND_WRONG, n=6)  # passes in both rounds


@pytest.fixture(scope="module")
def local_reward():
    reward.close()
    previous = reward.SETTINGS.sandbox
    reward.SETTINGS.sandbox = "local"
    yield reward
    reward.close()
    reward.SETTINGS.sandbox = previous


def export(run_dirs, out: Path, fmt: str, **options):
    opts = DatasetOptions(format=fmt, **options)
    solutions, examples, facts = build(run_dirs, opts)
    paths = write(out, solutions, examples, facts, opts)
    return solutions, examples, facts, paths


def verl_read(path: Path):
    """As RLHFDataset._read_files_and_tokenize reads a training file."""
    return load_dataset("parquet", data_files=str(path))["train"]


def verl_item(row: dict) -> dict:
    """What RLHFDataset.__getitem__ does with a row (the parts that can fail on bad data)."""
    messages = row["prompt"]
    assert isinstance(messages, list) and messages
    for m in messages:
        assert set(m) == {"role", "content"} and m["role"] in ("system", "user", "assistant") and isinstance(m["content"], str)
    assert messages[-1]["role"] == "user"
    extra = row["extra_info"]
    assert isinstance(extra, dict)
    row["index"] = extra.get("index", 0)
    row["tools_kwargs"] = extra.get("tools_kwargs", {})
    row["interaction_kwargs"] = extra.get("interaction_kwargs", {})
    assert not extra.get("need_tools_kwargs", False)
    return row


def test_verl_rows_follow_what_verl_reads(run, tmp_path, local_reward):
    solutions, examples, facts, paths = export([run], tmp_path / "ds", "verl", plain_ratio=0.25)
    assert paths["rl"].name == "rl.parquet"
    assert pq.read_schema(paths["rl"]).remove_metadata().equals(verl_schema())
    rows = verl_read(paths["rl"])
    assert set(rows.column_names) == {"data_source", "prompt", "ability", "reward_model", "extra_info"}

    aggregation = [r for r in rows if r["data_source"] == "rsa-code/aggregation"]
    plain = [r for r in rows if r["data_source"] == "rsa-code/generation"]
    assert len(aggregation) == len(examples) == 3 * 6  # every aggregation call of round 1
    assert len(plain) == round(len(examples) * 0.25 / 0.75) == 6
    per_problem = [sum(r["extra_info"]["problem_id"] == pid for r in plain) for pid in ("1873_A", "2727", "abc301_a")]
    assert per_problem == [2, 2, 2]  # every problem once before any twice
    assert sorted(r["extra_info"]["index"] for r in rows) == list(range(len(rows)))

    problems = {p.id: p for p in load_problems([LCB_FULL_TESTS_SAMPLE])}
    candidates = {(c.problem_id, c.round, c.index): c for r in RunDir(run).rounds() for c in r.candidates}
    by_call = {(e["problem_id"], e["round"], e["index"]): e for e in examples}
    hidden_inputs = [t.input.strip() for p in problems.values() for t in p.hidden_tests if len(t.input.strip()) > 12]
    for row in rows:
        row = verl_item(dict(row))
        info = row["extra_info"]
        assert set(info) == {name for name, _ in _EXTRA_INFO_FIELDS}
        assert row["ability"] == "code" and row["reward_model"]["style"] == "rule"
        problem = problems[info["problem_id"]]
        assert decode_ground_truth(row["reward_model"]["ground_truth"]).tests == problem.all_tests
        assert info["semantics"] == "lcb" and info["tests"] == "public+hidden" and info["run"] == "run"
        text = "\n".join(m["content"] for m in row["prompt"])
        assert not [t for t in hidden_inputs if t in text]  # the tests stay out of the prompt
        key = (info["problem_id"], info["round"], info["candidate_index"])
        assert tuple(row["prompt"]) == SENT[str(run)][candidates[key].seed]  # the very messages the model was sent
        if row["data_source"] == "rsa-code/aggregation":
            example = by_call[key]
            assert row["prompt"] == example["prompt"]
            assert info["parents"] == example["parents"] and info["parents_correct"] == example["candidates_correct"]
            assert len(info["parents"]) == 2 and info["round"] == 1
        else:
            assert info["round"] == 0 and info["parents"] == [] and info["parents_correct"] == []
            assert len(row["prompt"]) >= 1 and problem.statement[:200] in text

        # verl's reward call on the recorded completion gives the recorded reward back
        extra = dict(info, num_turns=None, rollout_reward_scores={})
        score = solver.reward.compute_score(
            data_source=row["data_source"],
            solution_str=candidates[key].text,
            ground_truth=row["reward_model"]["ground_truth"],
            extra_info=extra,
        )
        assert score["score"] == info["recorded_reward"], (key, score)

    # The batch manager's call, with reward_kwargs merged in as get_custom_reward_fn does
    batch = solver.reward.compute_score_batch(
        data_sources=[r["data_source"] for r in rows],
        solution_strs=[
            candidates[(r["extra_info"]["problem_id"], r["extra_info"]["round"], r["extra_info"]["candidate_index"])].text for r in rows
        ],
        ground_truths=[r["reward_model"]["ground_truth"] for r in rows],
        extra_infos=[dict(r["extra_info"]) for r in rows],
        **{"reward_kind": "pass"},
    )
    assert [s["score"] for s in batch] == [r["extra_info"]["recorded_reward"] for r in rows]
    assert any(s["score"] == 1.0 for s in batch) and any(s["score"] == 0.0 for s in batch)

    card = (tmp_path / "ds" / "README.md").read_text()
    assert "rl.parquet" in card_configs(card).values()
    assert "custom_reward_function.path=pkg://solver.reward" in card and "N=6 K=2 T=1" in card and "lcb semantics" in card


def test_the_reward_loads_as_verl_and_openrlhf_load_it():
    by_package = importlib.import_module("solver.reward").compute_score  # "pkg://solver.reward"
    spec = importlib.util.spec_from_file_location("custom_module_rsa_code", solver.reward.__file__)
    by_file = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(by_file)  # verl's file path, and OpenRLHF's --remote_rm_url
    for fn in (by_package, by_file.compute_score, by_file.compute_score_batch, by_file.reward_func):
        assert callable(fn)
    gt = solver.reward.encode_ground_truth(load_problems([LCB_FULL_TESTS_SAMPLE])[0])
    assert by_file.compute_score("d", "no program", gt, None)["score"] == 0.0


def test_ratio_zero_and_one(run, tmp_path):
    _, examples, facts, _ = export([run], tmp_path / "a", "verl", plain_ratio=0.0)
    assert facts["rl"]["generation"] == 0 and facts["rl"]["aggregation"] == len(examples)
    _, _, facts, _ = export([run], tmp_path / "b", "verl", plain_ratio=1.0)
    assert facts["rl"]["aggregation"] == 0 and facts["rl"]["generation"] == 3  # one per problem
    _, _, facts, _ = export([run], tmp_path / "c", "verl", plain_ratio=0.9)  # more than there are problems: repeats
    rows = facts["rl"]["records"]
    assert facts["rl"]["generation"] == round(18 * 0.9 / 0.1) == 162
    per_problem = [
        sum(r["extra_info"]["problem_id"] == pid and r["data_source"] == "rsa-code/generation" for r in rows)
        for pid in ("1873_A", "2727", "abc301_a")
    ]
    assert max(per_problem) - min(per_problem) <= 1


def test_openrlhf_rows(run, tmp_path):
    _, examples, facts, paths = export([run], tmp_path / "o", "openrlhf")
    assert paths["rl"].name == "rl.jsonl" and paths["solutions"].suffix == ".jsonl"
    rows = load_dataset("json", data_files=str(paths["rl"]), split="train")
    assert {"prompt", "label", "data_source", "extra_info"} <= set(rows.column_names)
    problems = {p.id: p for p in load_problems([LCB_FULL_TESTS_SAMPLE])}
    for row in rows:
        chat = row["prompt"]  # preprocess_data with --data.apply_chat_template
        assert isinstance(chat, list) and all(isinstance(m.get("content"), str) for m in chat)
        assert decode_ground_truth(row["label"]).tests == problems[row["extra_info"]["problem_id"]].all_tests
    assert len(rows) == facts["rl"]["rows"]


def test_the_problems_must_be_the_runs_own(run, tmp_path):
    data = load_run(run)
    assert set(run_problems(data)) == {"1873_A", "2727", "abc301_a"}  # from the files the run recorded
    with pytest.raises(UsageError, match="are not in"):
        run_problems(data, [str(LCB_HIDDEN100)])
    changed = tmp_path / "changed.jsonl"
    lines = LCB_FULL_TESTS_SAMPLE.read_text().splitlines()
    first = json.loads(lines[0])
    first["question_content"] += " (edited)"
    changed.write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    with pytest.raises(UsageError, match="differ from those the run was made from"):
        run_problems(data, [str(changed)])
    data.config["runtime"] = {}
    with pytest.raises(UsageError, match="--problems"):
        run_problems(data)


# --- every file a card names loads, empty runs included, every format ---------------------


def assert_card_loads(out: Path, counts: dict[str, int]):
    card = (out / "README.md").read_text()
    configs = card_configs(card)
    assert set(configs) == {name for name, count in counts.items() if count}
    for name, file in configs.items():
        loader = "parquet" if file.endswith(".parquet") else "json"
        assert len(load_dataset(loader, data_files=str(out / file), split="train")) == counts[name]
        assert len(load_dataset(str(out), name, split="train")) == counts[name]  # the card's own config
        assert f'data_files="{file}"' in card
    assert card.count("No rows:") == sum(not count for count in counts.values())


@pytest.mark.parametrize("fmt", ["jsonl", "parquet", "verl", "openrlhf"])
def test_every_file_the_card_names_loads_even_with_no_rows(tmp_path, fmt):
    nothing = make_run(tmp_path, "nothing", NOTHING_RIGHT, t=0)  # no verified program, no aggregation call
    solutions, examples, facts, paths = export([nothing], tmp_path / "out", fmt, plain_ratio=0.0)
    assert solutions == [] and examples == []
    counts = {"solutions": 0, "aggregation": 0, **({"rl": 0} if "rl" in paths else {})}
    assert_card_loads(tmp_path / "out", counts)
    assert all(p.exists() for p in paths.values())  # written all the same, for scripts
    if fmt in ("parquet", "verl"):
        assert all(pq.read_table(p).num_rows == 0 for p in paths.values())
    if "rl" in paths:
        assert pq.read_schema(paths["rl"]).remove_metadata().equals(verl_schema()) if fmt == "verl" else paths["rl"].read_text() == ""
        # plain prompts make an RL file with rows out of the same run
        _, _, facts, _ = export([nothing], tmp_path / "plain", fmt, plain_ratio=0.5)
        assert facts["rl"]["rows"] == 3
        assert_card_loads(tmp_path / "plain", {"solutions": 0, "aggregation": 0, "rl": 3})


def test_a_card_with_some_files_empty(tmp_path):
    wrong_then_nothing = make_run(tmp_path, "some", NOTHING_RIGHT, t=1)
    solutions, examples, facts, _ = export([wrong_then_nothing], tmp_path / "out", "verl")
    assert solutions == [] and examples
    assert_card_loads(tmp_path / "out", {"solutions": 0, "aggregation": len(examples), "rl": facts["rl"]["rows"]})


# --- the command line ---------------------------------------------------------------------


def test_dataset_command_evaluates_then_writes_verl_data(tmp_path):
    import subprocess

    from tests.test_eval_cli import RSA_CODE

    script = tmp_path / "script.json"
    script.write_text(json.dumps(RIGHT_AND_WRONG))
    out = tmp_path / "ds"
    common = [*RSA_CODE, "dataset", "--out", str(out), "--format", "verl"]
    done = subprocess.run(
        [
            *common,
            "--data",
            str(LCB_FULL_TESTS_SAMPLE),
            "-n",
            "6",
            "-k",
            "2",
            "-t",
            "1",
            "--runner",
            "scripted",
            "--model",
            str(script),
            "--sandbox",
            "local",
            "--plain-ratio",
            "0.25",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "RL prompts (6 plain, 18 aggregation)" in done.stderr
    rows = verl_read(out / "rl.parquet")
    assert len(rows) == 24 and {r["extra_info"]["semantics"] for r in rows} == {"judge"}  # the dataset command grades as a judge
    assert_card_loads(
        out,
        {"solutions": len(load_dataset("parquet", data_files=str(out / "solutions.parquet"), split="train")), "aggregation": 18, "rl": 24},
    )

    for bad, message in (
        (["--plain-ratio", "1.5"], "error: --plain-ratio:"),
        (["--problems", str(LCB_HIDDEN100)], "are not in"),
        (["--format", "jsonl", "--problems", str(LCB_HIDDEN100)], "error: --problems:"),
    ):
        args = [*RSA_CODE, "dataset", str(out / "run"), "--out", str(tmp_path / "bad"), "--format", "verl", *bad]
        done = subprocess.run(args, capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
