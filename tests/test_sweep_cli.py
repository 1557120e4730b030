"""`rsa-code sweep` through the command line, on real LiveCodeBench rows, with the scripted
runner and the local sandbox: round 0 generated and graded once per N, each config's records
equal to a standalone `rsa-code eval` of it, exact resume, the figures, the table, bad input."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import warnings

import pytest

from runners import RunnerError
from solver.cli import main
from solver.report import summarize
from solver.rundir import RunDir
from solver.runs import load_run
from tests.conftest import LCB_FULL_TESTS_SAMPLE, LCB_HIDDEN100

RSA_CODE = [sys.executable, "-m", "solver.cli"]
ABC301_A = "n = int(input())\ns = input()\nt, a = s.count('T'), s.count('A')\nprint('T' if t > a or (t == a and s[-1] == 'A') else 'A')"
PROBLEMS = 3
T = 2
# The grid of the tests, and what it generates: at each N, rsa K=1 makes every round, rsa
# K=2 and sample copy round 0 and make the others, majority copies all of sample's.
MEMBERS = ["rsa-n2-k1", "rsa-n2-k2", "sample-n2", "majority-n2", "rsa-n4-k1", "rsa-n4-k2", "sample-n4", "majority-n4"]
ROUNDS_MADE = {"rsa-n2-k1": 3, "rsa-n2-k2": 2, "sample-n2": 2, "majority-n2": 0}
ROUNDS_MADE |= {name.replace("n2", "n4"): made for name, made in ROUNDS_MADE.items()}


def population(name: str) -> int:
    return int(name.split("-n")[1].split("-")[0])


def member_config(name: str) -> tuple[str, int, int | None]:
    parts = name.split("-")
    return parts[0], population(name), int(parts[2][1:]) if parts[0] == "rsa" else None


@pytest.fixture
def script(tmp_path):
    texts = [
        f"The winner is whoever wins more games.\n```python\n{ABC301_A}\n```",
        "Count and print.\n```python\nprint('T')\n```",
        "class Solution:\n    def countSeniors(self, details):\n        return sum(int(d[11:13]) > 60 for d in details)",
        "I do not know.",
    ]
    path = tmp_path / "script.json"
    path.write_text(json.dumps(texts))
    return path


def common_args(script):
    return [
        "--data",
        str(LCB_FULL_TESTS_SAMPLE),
        "--data",
        str(LCB_HIDDEN100),
        "--limit",
        str(PROBLEMS),
        "-t",
        str(T),
        "--runner",
        "scripted",
        "--model",
        str(script),
        "--sandbox",
        "local",
        "--workers",
        "2",
    ]


def sweep_args(script, out, *extra):
    return ["sweep", *common_args(script), "-n", "2,4", "-k", "1", "-k", "2", "--baselines", "sample,majority", "--out", str(out), *extra]


def run_cli(monkeypatch, capsys, args) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["rsa-code", *args])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(SystemExit) as e:
            main()
    out, err = capsys.readouterr()
    return e.value.code or 0, out, err


class CountingRunner:
    """A wrapper around the real runner (named so: a test device) counting each generate
    call's requests; `fail_at`: the call number (1-based) that raises a RunnerError instead."""

    def __init__(self, inner, calls: list[int], fail_at: int | None = None):
        self.inner, self.calls, self.fail_at = inner, calls, fail_at

    def generate(self, requests):
        if self.fail_at is not None and len(self.calls) + 1 == self.fail_at:
            raise RunnerError("the test's runner fails here")
        self.calls.append(len(requests))
        return self.inner.generate(requests)

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.fixture
def counted(monkeypatch):
    """Count the sweep's runner calls: returns (calls, set_fail_at)."""
    import solver.sweep

    calls: list[int] = []
    state = {"fail_at": None}
    real = solver.sweep.runner_for
    monkeypatch.setattr(solver.sweep, "runner_for", lambda config, ray: CountingRunner(real(config, ray), calls, state["fail_at"]))
    return calls, state


def records(path):
    return [(r.index, r.candidates, {g.key: g for g in r.grades}) for r in RunDir(path).rounds()]


@pytest.fixture
def swept(script, tmp_path, monkeypatch, capsys, counted):
    """A whole sweep, with its runner calls counted."""
    calls, _ = counted
    code, out, err = run_cli(monkeypatch, capsys, sweep_args(script, tmp_path / "sweep"))
    assert code == 0, err
    return tmp_path / "sweep", list(calls), out


def test_round_zero_is_generated_and_graded_once_per_population(swept):
    folder, calls, _ = swept
    made = {name: ROUNDS_MADE[name] for name in MEMBERS}
    assert len(calls) == sum(made.values())
    assert sum(calls) == PROBLEMS * sum(population(name) * rounds for name, rounds in made.items())
    assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == sorted(MEMBERS)
    for n in (2, 4):
        first = (folder / f"rsa-n{n}-k1" / "round-000.jsonl").read_bytes()
        for other in (f"rsa-n{n}-k2", f"sample-n{n}", f"majority-n{n}"):
            # byte for byte: the grades were copied, not made again (a regrade appends lines)
            assert (folder / other / "round-000.jsonl").read_bytes() == first
        rounds = RunDir(folder / f"rsa-n{n}-k1").rounds()
        assert len(rounds[0].grades) == len(rounds[0].candidates) == PROBLEMS * n
        for t in range(T + 1):  # majority draws as sample does: every round copied
            assert (folder / f"majority-n{n}" / f"round-{t:03d}.jsonl").read_bytes() == (
                folder / f"sample-n{n}" / f"round-{t:03d}.jsonl"
            ).read_bytes()


def test_each_config_equals_a_standalone_eval_record_for_record(swept, script, tmp_path, monkeypatch, capsys):
    folder, _, _ = swept
    for name in MEMBERS:
        method, n, k = member_config(name)
        args = ["eval", *common_args(script), "-n", str(n), "--method", method, "--out", str(tmp_path / "alone" / name)]
        code, _, err = run_cli(monkeypatch, capsys, [*args, "-k", str(k)] if k else args)
        assert code == 0, err
        assert records(folder / name) == records(tmp_path / "alone" / name), name
        assert len(RunDir(folder / name).rounds()) == T + 1
        # the same config: `rsa-code report` of the member reads as the standalone run's
        alone = RunDir(tmp_path / "alone" / name).config()
        assert RunDir(folder / name).config()["hash"] == alone["hash"]


def test_an_interrupted_sweep_resumes_exactly(swept, script, tmp_path, monkeypatch, capsys, counted):
    folder, straight_calls, _ = swept
    calls, state = counted
    calls.clear()
    state["fail_at"] = 6  # mid-grid: in rsa-n2-k2, after its round 0 was copied and round 1 made
    code, _, err = run_cli(monkeypatch, capsys, sweep_args(script, tmp_path / "killed"))
    assert code == 1 and "the test's runner fails here" in err
    assert not (tmp_path / "killed" / "sweep.md").exists()
    assert len(calls) == 5
    state["fail_at"] = None
    code, _, err = run_cli(monkeypatch, capsys, sweep_args(script, tmp_path / "killed"))
    assert code == 0, err
    assert "resuming rsa-n2-k1" in err
    # both runs' calls together: nothing made twice, nothing left out
    assert calls == straight_calls
    for name in MEMBERS:
        assert records(tmp_path / "killed" / name) == records(folder / name), name
    assert (tmp_path / "killed" / "sweep.md").read_text() == (folder / "sweep.md").read_text()


def test_self_verify_shares_samples_rounds_and_judges_them_itself(script, tmp_path, monkeypatch, capsys, counted):
    calls, _ = counted
    args = ["sweep", *common_args(script), "-n", "2", "-k", "1", "--baselines", "sample,self-verify", "--out", str(tmp_path / "sweep")]
    code, out, err = run_cli(monkeypatch, capsys, args)
    assert code == 0, err
    assert "| self-verify-n2 | self-verify |" in out and "rounds 0–2 from sample-n2" in out and "(verified)" in out
    # rsa: every round; sample: rounds 1-2; self-verify: no generation, its judge once per
    # round (on the candidates that hold a program)
    judged = RunDir(tmp_path / "sweep" / "self-verify-n2").rounds()
    assert calls == [PROBLEMS * 2] * (3 + 2) + [sum(bool(c.code) for c in r.candidates) for r in judged]
    for name, method in (("sample-n2", "sample"), ("self-verify-n2", "self-verify")):
        alone = tmp_path / "alone" / name
        code, _, err = run_cli(monkeypatch, capsys, ["eval", *common_args(script), "-n", "2", "--method", method, "--out", str(alone)])
        assert code == 0, err
        assert records(tmp_path / "sweep" / name) == records(alone)
    alone = RunDir(tmp_path / "alone" / "self-verify-n2").rounds()
    assert [r.judgements for r in judged] == [r.judgements for r in alone] and all(len(r.judgements) == PROBLEMS * 2 for r in judged)
    verify = ("verify_requests", "verify_prompt_tokens", "verify_completion_tokens")
    assert [[r.header["stats"][k] for k in verify] for r in judged] == [[r.header["stats"][k] for k in verify] for r in alone]
    assert f"self-verification judge requests: {sum(calls[5:]):,}." in out


def test_refine_and_rejection_share_round_zero_only(script, tmp_path, monkeypatch, capsys, counted):
    calls, _ = counted
    args = ["sweep", *common_args(script), "-n", "2", "-k", "1", "--baselines", "refine,rejection", "--out", str(tmp_path / "sweep")]
    code, out, err = run_cli(monkeypatch, capsys, args)
    assert code == 0, err
    assert "| refine-n2 | refine | 2 | 1 |" in out and out.count("rounds 0–0 from rsa-n2-k1") == 2
    assert len(calls) == 3 + 2 + 2 and calls[:5] == [PROBLEMS * 2] * 5  # rejection drops the problems it solved
    for name, method in (("refine-n2", "refine"), ("rejection-n2", "rejection")):
        alone = tmp_path / "alone" / name
        code, _, err = run_cli(monkeypatch, capsys, ["eval", *common_args(script), "-n", "2", "--method", method, "--out", str(alone)])
        assert code == 0, err
        assert records(tmp_path / "sweep" / name) == records(alone), name


@pytest.mark.slow
def test_killed_again_and_again_the_sweep_resumes_to_the_uninterrupted_records(script, tmp_path):
    longer = common_args(script)
    longer[longer.index("--limit") + 1], longer[longer.index("-t") + 1] = "10", "3"
    args = [*RSA_CODE, "sweep", *longer, "-n", "2,4", "-k", "1,2", "--baselines", "sample,majority"]
    straight = subprocess.run([*args, "--out", str(tmp_path / "straight")], capture_output=True, text=True, timeout=300)
    assert straight.returncode == 0, straight.stderr
    killed = tmp_path / "killed"
    saved = lambda: len(list(killed.glob("*/round-*.jsonl")))  # noqa: E731  (round files written or copied so far)
    rng = random.Random(11)
    kills = 0
    for _ in range(40):
        # SIGKILL a few rounds further on each time, at a moment a little after a round file
        # appears (the next round generating, or this one grading): progress, not timing, decides
        proc = subprocess.Popen([*args, "--out", str(killed)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        target = saved() + rng.randint(2, 6)
        while proc.poll() is None and saved() < target:
            time.sleep(0.01)
        time.sleep(rng.uniform(0, 0.15))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            kills += 1
            continue
        assert proc.returncode == 0, proc.stderr.read()
        break
    else:
        pytest.fail("the sweep never finished")
    assert kills >= 2, "the test meant to kill the sweep at least twice"
    for name in MEMBERS:
        assert records(killed / name) == records(tmp_path / "straight" / name), name
    assert (killed / "sweep.md").read_text() == (tmp_path / "straight" / "sweep.md").read_text()


def test_a_rerun_with_other_settings_is_refused(swept, script, monkeypatch, capsys):
    folder, _, _ = swept
    args = sweep_args(script, folder)
    args[args.index("2,4")] = "2"
    code, _, err = run_cli(monkeypatch, capsys, args)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "another config" in err and "differs in: n" in err


def test_report_and_compare_read_each_config(swept, monkeypatch, capsys):
    folder, _, _ = swept
    code, out, err = run_cli(monkeypatch, capsys, ["report", str(folder / "rsa-n4-k2")])
    assert code == 0, err
    assert "rsa-n4-k2: rsa, N=4 K=2 T=2" in out and (folder / "rsa-n4-k2" / "curve.png").exists()
    code, out, err = run_cli(monkeypatch, capsys, ["compare", *(str(folder / name) for name in MEMBERS)])
    assert code == 0, err
    assert all(f"| {name} |" in out for name in MEMBERS)


def test_figures_are_pngs_and_the_table_says_what_each_config_scored(swept):
    import matplotlib.image

    folder, calls, stdout = swept
    names = ["pass1-by-round-n2.png", "pass1-by-round-n4.png", "gain-by-round-k1.png", "gain-by-round-k2.png", "tokens.png"]
    for name in names:
        data = (folder / name).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n"), name
        height, width = matplotlib.image.imread(folder / name).shape[:2]
        assert height > 100 and width > 100
    summary = json.loads((folder / "sweep.json").read_text())
    assert sorted(summary["figures"]) == sorted(names)

    table = (folder / "sweep.md").read_text()
    assert stdout == table
    rows = {line.split(" | ")[0].strip("| "): line.strip("|").split(" | ") for line in table.splitlines() if line.startswith("| ")}
    head = [cell.strip() for cell in rows["run"]]
    for name in MEMBERS:
        report = summarize(load_run(folder / name))["metrics"]["overall"]
        cells = dict(zip(head, (c.strip() for c in rows[name]), strict=True))
        for t in range(T + 1):
            assert cells[f"pass@1 r{t}"] == f"{100 * report[t]['pass@1']:.1f}"
        assert cells["final pass@N"] == f"{100 * report[-1]['pass@N']:.1f}"
        answer = report[-1]["majority"] if name.startswith("majority") else report[-1]["pass@1"]
        assert cells["final answer"].split()[0] == f"{100 * answer:.1f}"
        tokens = sum(e["prompt_tokens"] + e["completion_tokens"] for e in report) / PROBLEMS
        assert cells["tokens / problem"] == f"{tokens:,.0f}"
    assert rows["rsa-n2-k1"][-1].strip() == "–"
    assert rows["rsa-n4-k2"][-1].strip() == "rounds 0–0 from rsa-n4-k1"
    assert rows["majority-n2"][-1].strip() == "rounds 0–2 from sample-n2"
    standalone = PROBLEMS * sum(population(name) for name in MEMBERS) * (T + 1)
    assert f"Completions generated: {sum(calls):,} (standalone runs of these configs: {standalone:,}; the rest were shared)." in table


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("-n", ""), "error: -n: expected integers separated by commas, got none"),
        (("-k", "1,x"), "error: -k: expected integers separated by commas, got '1,x'"),
        (("-k", "1,3"), "error: -k 3 exceeds -n 2"),
        (("-n", "4,"), "error: -n: expected integers separated by commas, got '4,'"),
        (("-n", "0,4"), "error: -n: Input should be greater than or equal to 1"),
        (("--baselines", "sample,vote"), "error: --baselines: expected some of"),
        (("--baselines", " "), "error: --baselines: expected some of"),
    ],
)
def test_bad_input_is_one_line_naming_the_option(change, message, script, tmp_path, monkeypatch, capsys):
    grid = {"-n": "2,4", "-k": "1", **dict([change])}
    args = ["sweep", *common_args(script), *[x for flag, value in grid.items() for x in (flag, value)], "--out", str(tmp_path / "sweep")]
    code, _, err = run_cli(monkeypatch, capsys, args)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and lines[0].startswith(message), err
    assert "Traceback" not in err
    assert not (tmp_path / "sweep").exists()


@pytest.mark.ray
@pytest.mark.slow
def test_on_ray_the_sweep_writes_the_same_records(script, tmp_path):
    args = [*RSA_CODE, "sweep", *common_args(script), "-n", "2", "-k", "1,2", "--baselines", "sample"]
    plain = subprocess.run([*args, "--out", str(tmp_path / "plain")], capture_output=True, text=True, timeout=300)
    assert plain.returncode == 0, plain.stderr
    on_ray = subprocess.run(
        [*args, "--out", str(tmp_path / "ray"), "--ray", "local", "--ray-actors", "2"], capture_output=True, text=True, timeout=300
    )
    assert on_ray.returncode == 0, on_ray.stderr
    for name in ("rsa-n2-k1", "rsa-n2-k2", "sample-n2"):
        assert records(tmp_path / "ray" / name) == records(tmp_path / "plain" / name)
