"""`rsa-code dataset` from a real small run over shared LiveCodeBench problems, loaded back
with Hugging Face `datasets`."""

import json
import subprocess

import pytest
from datasets import load_dataset

from problems import load_problems
from solver.rundir import RunDir
from tests.conftest import LCB_FULL_TESTS_SAMPLE
from tests.test_eval_cli import RSA_CODE, script  # noqa: F401  (the scripted model's texts)


@pytest.fixture
def run(script, tmp_path):  # noqa: F811
    out = tmp_path / "run"
    done = subprocess.run(
        [
            *RSA_CODE,
            "eval",
            "--data",
            str(LCB_FULL_TESTS_SAMPLE),
            "-n",
            "4",
            "-k",
            "2",
            "-t",
            "2",
            "--runner",
            "scripted",
            "--model",
            str(script),
            "--sandbox",
            "local",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return out


def expected_solutions(run_dir):
    from solver.dataset import normalized_code

    distinct = set()
    for r in RunDir(run_dir).rounds():
        passed = {(g.problem_id, g.index) for g in r.grades if g.correct}
        distinct |= {(c.problem_id, normalized_code(c.code)) for c in r.candidates if (c.problem_id, c.index) in passed}
    return distinct


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_dataset_loads_with_hugging_face_datasets(run, tmp_path, fmt):
    out = tmp_path / f"ds-{fmt}"
    done = subprocess.run([*RSA_CODE, "dataset", str(run), "--out", str(out), "--format", fmt], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    loader = "json" if fmt == "jsonl" else "parquet"
    solutions = load_dataset(loader, data_files=str(out / f"solutions.{fmt}"), split="train")
    aggregation = load_dataset(loader, data_files=str(out / f"aggregation.{fmt}"), split="train")

    expected = expected_solutions(run)
    assert expected, "the scripted model writes correct programs for two of the problems"
    assert len(solutions) == len(expected)
    assert {
        "problem_id",
        "statement",
        "program",
        "response",
        "round",
        "tests_passed",
        "hidden_tests",
        "verified_by",
        "gen_model",
        "gen_temperature",
        "difficulty",
        "source",
    } <= set(solutions.column_names)
    assert all(n > 0 for n in solutions["hidden_tests"])

    rounds = RunDir(run).rounds()
    assert len(aggregation) == sum(len(r.candidates) for r in rounds[1:])  # every aggregation call
    assert {"prompt", "reward", "candidates_correct", "program"} <= set(aggregation.column_names)
    assert all(len(c) == 2 for c in aggregation["candidates_correct"])
    assert set(aggregation["reward"]) <= {0.0, 1.0}
    hidden = [t for p in load_problems([LCB_FULL_TESTS_SAMPLE]) for t in p.hidden_tests]
    prompts = "\n".join(m["content"] for prompt in aggregation["prompt"] for m in prompt)
    assert not [t for t in hidden if len(t.input) > 12 and t.input.strip() in prompts]  # hidden tests stay out of prompts

    card = (out / "README.md").read_text()
    assert f"{len(solutions)} verified programs" in card and "by difficulty" in card and "scripted" in card


def test_informative_only_keeps_mixed_groups(run, tmp_path):
    out = tmp_path / "ds"
    subprocess.run([*RSA_CODE, "dataset", str(run), "--out", str(out), "--informative-only"], check=True, capture_output=True)
    rows = [json.loads(line) for line in (out / "aggregation.jsonl").read_text().splitlines()]
    assert all(len(set(r["candidates_correct"])) == 2 for r in rows)


def test_dataset_from_data_runs_the_evaluation_first(script, tmp_path):  # noqa: F811
    out = tmp_path / "ds"
    done = subprocess.run(
        [
            *RSA_CODE,
            "dataset",
            "--data",
            str(LCB_FULL_TESTS_SAMPLE),
            "--out",
            str(out),
            "-n",
            "2",
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
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert (out / "run" / "config.json").exists() and (out / "solutions.jsonl").exists()
