"""Reports at equal compute: tokens per problem (judge requests included), population
statistics in summary.json and the Markdown, both figures; on the hand-made run of
test_population.py, then through the command line with the scripted runner."""

import json
import subprocess
import sys

import pytest
from PIL import Image

from solver.plots import line_plot
from solver.report import markdown, merge_shards, summarize
from solver.rundir import Round
from solver.runs import RunData, load_run
from tests.conftest import LCB_FULL_TESTS_SAMPLE, LCB_HIDDEN100
from tests.solver.test_population import hand_made_run

RSA_CODE = [sys.executable, "-m", "solver.cli"]


def assert_png(path):
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size[0] > 100 and image.size[1] > 100


def test_summary_holds_compute_and_population_by_round():
    summary = summarize(hand_made_run())
    assert [row["round"] for row in summary["budget"]] == [0, 1]
    assert summary["budget_total_per_problem"]["total_tokens"] == 1650
    assert summary["budget_total_per_problem"]["prompt_tokens"] == 1500
    assert summary["population"][1]["lineage"]["bootstrapped"] == 1
    json.dumps(summary)  # summary.json holds it as it is

    text = markdown(summary)
    assert "### Compute per problem" in text and "### Population" in text
    assert "| 1 | 3.00 | 3.00 | 1,200 | 45 | 1,245 | 6.00 | 9.00 | 1,650 |" in text  # verify requests shown
    assert "1,500 prompt tokens" in text and "judge requests included" in text
    assert "| 1 | 2.50 | 2.00 | 58% | 41.7 | 5 / 5 / 5 | 3 | 1 (33%) | 3 | 2 (67%) |" in text
    assert "1 children left out of the lineage" in text


def test_without_judge_requests_the_report_has_no_verify_column():
    text = markdown(summarize(hand_made_run(verify=False)))
    assert "verify requests" not in text and "judge requests included" not in text


def test_shards_merge_their_judge_requests_even_when_one_lacks_them():
    run = hand_made_run()
    plain = hand_made_run(verify=False)
    half = lambda r, pid: RunData(  # noqa: E731
        f"{r.name}-{pid}",
        {**r.config, "shard": pid},
        {pid: r.meta[pid]},
        [
            Round(s.index, s.header, [c for c in s.candidates if c.problem_id == pid], [g for g in s.grades if g.problem_id == pid])
            for s in r.rounds
        ],
    )
    merged = merge_shards([half(run, "q0"), half(plain, "q1")])
    assert merged.rounds[1].header["stats"]["verify_prompt_tokens"] == 900
    summary = summarize(merged)
    assert summary["budget_total_per_problem"]["total_tokens"] == 1650
    assert summary["population"] == summarize(run)["population"]


def test_line_plot_skips_missing_points(tmp_path):
    line_plot(tmp_path / "a.png", {"a": [(0, 0.1), (1, None), (2, 0.3)], "b": []}, x_label="x", y_label="y", title="t")
    assert_png(tmp_path / "a.png")


def eval_args(script, out, method):
    return [
        *RSA_CODE,
        "eval",
        "--data",
        str(LCB_FULL_TESTS_SAMPLE),
        "--data",
        str(LCB_HIDDEN100),
        "--limit",
        "4",
        "-n",
        "4",
        "-k",
        "2",
        "-t",
        "2",
        "--method",
        method,
        "--runner",
        "scripted",
        "--model",
        str(script),
        "--sandbox",
        "local",
        "--workers",
        "2",
        "--out",
        str(out),
    ]


@pytest.fixture
def script(tmp_path):
    texts = [
        "Print T.\n```python\nprint('T')\n```",
        "Print T again.\n```python\nprint( 'T' )  # same program\n```",
        "Loop.\n```python\nfor _ in range(int(input())):\n    print('YES')\n```",
        "I do not know.",
    ]
    path = tmp_path / "script.json"
    path.write_text(json.dumps(texts))
    return path


def test_report_and_compare_show_tokens_per_problem_and_write_both_figures(script, tmp_path):
    for method in ("rsa", "sample"):
        done = subprocess.run(eval_args(script, tmp_path / method, method), capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    report = subprocess.run([*RSA_CODE, "report", str(tmp_path / "rsa")], capture_output=True, text=True, timeout=120)
    assert report.returncode == 0, report.stderr
    assert "### Compute per problem" in report.stdout and "### Population" in report.stdout
    for name in ("curve.png", "curve_tokens.png"):
        assert_png(tmp_path / "rsa" / name)

    summary = json.loads((tmp_path / "rsa" / "summary.json").read_text())
    run = load_run(tmp_path / "rsa")
    spent = sum(c.prompt_tokens + c.completion_tokens for r in run.rounds for c in r.candidates)
    assert summary["budget_total_per_problem"]["total_tokens"] == pytest.approx(spent / 4)
    assert summary["budget_total_per_problem"]["completions"] == 3 * 4  # T+1 rounds of N
    assert [p["round"] for p in summary["population"]] == [0, 1, 2]
    assert all(p["distinct_programs"] is not None and p["completion_tokens"]["p50"] is not None for p in summary["population"])
    assert summary["population"][0]["lineage"]["children"] == 0
    assert summary["population"][1]["lineage"]["children"] + summary["population"][1]["lineage"]["unknown"] == 4 * 4

    compare = subprocess.run(
        [*RSA_CODE, "compare", str(tmp_path / "rsa"), str(tmp_path / "sample"), "--out", str(tmp_path / "cmp")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert compare.returncode == 0, compare.stderr
    assert "total tokens / problem" in compare.stdout
    for name in ("compare.png", "compare_tokens.png"):
        assert_png(tmp_path / "cmp" / name)
    # Equal completions, unequal prompts: RSA's prompts carry K candidates each.
    rows = {
        line.split(" | ")[0].strip("| "): line.split(" | ")
        for line in compare.stdout.splitlines()
        if line.startswith("| rsa") or line.startswith("| sample")
    }
    rsa_prompt, sample_prompt = (int(rows[m][-3].replace(",", "")) for m in ("rsa", "sample"))
    assert rows["rsa"][-4] == rows["sample"][-4] == "12.00"
    assert rsa_prompt > sample_prompt


@pytest.mark.parametrize(("judged", "verified"), [(0, 0.5), (2, 0.0)])
def test_self_verify_reports_its_pick_and_what_the_judge_accepted(judged, verified):
    from solver.rsa import Judgement

    run = hand_made_run(method="self-verify")
    first = run.rounds[0]
    # The judge accepts one candidate of q0 (candidate `judged`: 0 is correct, 2 is wrong) and nothing of q1.
    judgements = [
        Judgement(c.problem_id, 0, c.index, 0, "", "correct" if (c.problem_id, c.index) == ("q0", judged) else "incorrect", 50, 5, "stop")
        for c in first.candidates
    ]
    rounds = [Round(0, first.header, first.candidates, first.grades, judgements), *run.rounds[1:]]
    summary = summarize(RunData(run.name, run.config, run.meta, rounds))
    row = summary["metrics"]["overall"][0]
    assert row["verified"] == pytest.approx(verified)  # q1 has no correct candidate: its pick is wrong either way
    assert row["judged_correct"] == pytest.approx((1 / 3 + 0) / 2)
    text = markdown(summary)
    assert "verified pick" in text and "judged correct" in text
