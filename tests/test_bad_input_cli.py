"""Bad input, tried as a new user would: each ends with one line `error: ...` naming the
option or the file, exit status 2, no traceback, and no input file changed."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from solver.cli import main
from tests.conftest import LCB_FULL_TESTS_SAMPLE, LCB_HIDDEN100

RSA_CODE = [sys.executable, "-m", "solver.cli"]
SCRIPT = ["Sum.\n```python\nprint(1)\n```"]


def run_cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["rsa-code", *args])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(SystemExit) as e:
            main()
    out, err = capsys.readouterr()
    return e.value.code or 0, out, err


def usage_error(monkeypatch, capsys, *args: str) -> str:
    """The one line of a usage error (exit 2), whitespace joined."""
    code, _, err = run_cli(monkeypatch, capsys, *args)
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err and "For further information" not in err
    return " ".join(err.split())


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def programs(tmp_path) -> Path:
    path = tmp_path / "gen.jsonl"
    path.write_text(json.dumps({"question_id": "2811", "code": "print(1)"}) + "\n")
    return path


@pytest.fixture
def script(tmp_path) -> Path:
    path = tmp_path / "script.json"
    path.write_text(json.dumps(SCRIPT))
    return path


def grade_args(programs: Path, *extra: str) -> list[str]:
    return ["grade", "--problems", str(LCB_HIDDEN100), "--programs", str(programs), "--sandbox", "local", *extra]


def eval_args(script: Path, out: Path, *extra: str) -> list[str]:
    return [
        "eval",
        "--data",
        str(LCB_FULL_TESTS_SAMPLE),
        "-n",
        "1",
        "-k",
        "1",
        "-t",
        "0",
        "--runner",
        "scripted",
        "--model",
        str(script),
        "--sandbox",
        "local",
        "--out",
        str(out),
        *extra,
    ]


def test_grade_out_naming_an_input_is_refused_and_the_input_kept(monkeypatch, capsys, tmp_path, programs):
    problems = tmp_path / "problems.jsonl"
    problems.write_bytes(LCB_HIDDEN100.read_bytes())
    before = (digest(programs), digest(problems))
    for target in (programs, problems):
        args = ["grade", "--problems", str(problems), "--programs", str(programs), "--sandbox", "local", "--out", str(target)]
        assert f"error: --out {target}: is an input of this command" in usage_error(monkeypatch, capsys, *args)
    assert (digest(programs), digest(problems)) == before


def test_grade_out_inside_an_input_folder_is_refused(monkeypatch, capsys, tmp_path, programs):
    folder = tmp_path / "lcb"
    folder.mkdir()
    (folder / "test.jsonl").write_bytes(LCB_HIDDEN100.read_bytes())
    args = ["grade", "--problems", str(folder), "--programs", str(programs), "--sandbox", "local", "--out", str(folder / "v.jsonl")]
    assert "inside the input folder" in usage_error(monkeypatch, capsys, *args)


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("--timeout", "nan", "--timeout:"),
        ("--timeout", "inf", "--timeout:"),
        ("--timeout", "-1", "--timeout:"),
        ("--memory-mb", "0", "--memory-mb:"),
        ("--memory-mb", "1", "--memory-mb:"),
        ("--workers", "0", "--workers:"),
        ("--workers", "-3", "--workers:"),
        ("--sandbox", "podman", "--sandbox:"),
        ("--semantics", "strict", "--semantics:"),
        ("--mode", "some", "--mode:"),
    ],
)
def test_bad_sandbox_options_are_one_line_errors(monkeypatch, capsys, programs, option, value, message):
    text = usage_error(monkeypatch, capsys, *grade_args(programs, option, value))
    assert text.startswith(f"error: {message}")


@pytest.mark.parametrize("option, value", [("--timeout", "nan"), ("--memory-mb", "1"), ("--workers", "0")])
def test_eval_takes_the_same_sandbox_options(monkeypatch, capsys, tmp_path, script, option, value):
    assert f"error: {option}:" in usage_error(monkeypatch, capsys, *eval_args(script, tmp_path / "run", option, value))
    assert not (tmp_path / "run").exists()  # refused before anything is made


def test_out_in_a_missing_folder(monkeypatch, capsys, tmp_path, programs):
    missing = tmp_path / "no" / "such" / "v.jsonl"
    assert "does not exist" in usage_error(monkeypatch, capsys, *grade_args(programs, "--out", str(missing)))


def test_eval_out_naming_a_file(monkeypatch, capsys, tmp_path, script):
    taken = tmp_path / "notes.txt"
    taken.write_text("mine\n")
    assert "is a file" in usage_error(monkeypatch, capsys, *eval_args(script, taken))
    assert taken.read_text() == "mine\n"


def test_eval_out_naming_a_folder_of_other_files(monkeypatch, capsys, tmp_path, script):
    folder = tmp_path / "papers"
    folder.mkdir()
    (folder / "draft.tex").write_text("x")
    assert "holds other files but no run" in usage_error(monkeypatch, capsys, *eval_args(script, folder))
    assert sorted(p.name for p in folder.iterdir()) == ["draft.tex"]


@pytest.mark.parametrize(
    "extra, message",
    [(["--format", "bogus"], "--format:"), (["--dedupe", "bogus"], "--dedupe:"), (["--min-tests", "-5"], "--min-tests:")],
)
def test_bad_dataset_options(monkeypatch, capsys, tmp_path, extra, message):
    run = tmp_path / "run"
    run.mkdir()
    text = usage_error(monkeypatch, capsys, "dataset", str(run), "--out", str(tmp_path / "ds"), *extra)
    assert text.startswith(f"error: {message}")
    assert not (tmp_path / "ds").exists()


def test_dataset_eval_option_without_data(monkeypatch, capsys, tmp_path):
    text = usage_error(monkeypatch, capsys, "dataset", str(tmp_path), "--out", str(tmp_path / "ds"), "-n", "3")
    assert "error: -n: an evaluation option, for --data" in text


def test_feedback_in_prompt_with_a_method_that_does_not_aggregate(monkeypatch, capsys, tmp_path, script):
    text = usage_error(monkeypatch, capsys, *eval_args(script, tmp_path / "run", "--feedback-in-prompt", "--method", "sample"))
    assert "--feedback-in-prompt needs an aggregating method" in text


def test_a_functional_row_whose_test_input_is_not_json_is_named_at_load(monkeypatch, capsys, tmp_path, programs):
    rows = LCB_HIDDEN100.read_text().splitlines()[:3]
    row = json.loads(rows[1])
    tests = json.loads(row["public_test_cases"])
    tests[0]["input"] = "5\n[1, 2,"  # the second argument is cut off
    row["public_test_cases"] = json.dumps(tests)
    rows[1] = json.dumps(row)
    bad = tmp_path / "rows.jsonl"
    bad.write_text("\n".join(rows) + "\n")
    text = usage_error(monkeypatch, capsys, "grade", "--problems", str(bad), "--programs", str(programs), "--sandbox", "local")
    assert f"{bad}:2: field 'public_test_cases[0].input': line 2 is not JSON" in text


def test_solve_out_made_with_other_options(tmp_path, script):
    out = tmp_path / "run"
    base = [*RSA_CODE, "solve", "a-plus-b", "-n", "2", "-k", "1", "-t", "0", "--runner", "scripted", "--model", str(script)]
    first = subprocess.run([*base, "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    other = subprocess.run([*base, "--out", str(out), "--seed", "5"], capture_output=True, text=True, timeout=120)
    assert other.returncode == 2 and "Traceback" not in other.stderr
    assert other.stderr.startswith("error: ") and "another config" in other.stderr


def test_a_second_process_refuses_a_run_folder_the_first_holds(tmp_path, script):
    out = tmp_path / "run"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from solver.rundir import RunDir; RunDir(sys.argv[1]).open({'x': 1}); "
            "print('held', flush=True); time.sleep(60)",
            str(out),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        second = subprocess.run([*RSA_CODE, *eval_args(script, out)], capture_output=True, text=True, timeout=120)
        assert second.returncode == 2 and "Traceback" not in second.stderr
        assert f"pid {holder.pid}" in second.stderr and "another rsa-code process" in second.stderr
    finally:
        holder.kill()
        holder.wait()
    # Once the holder is gone, the folder is free (its own config differs: a clean refusal, not a lock).
    again = subprocess.run([*RSA_CODE, *eval_args(script, out)], capture_output=True, text=True, timeout=120)
    assert again.returncode == 2 and "another config" in again.stderr


@pytest.mark.parametrize("args", [["report", "{tmp}"], ["export", "{tmp}", "--lcb"], ["compare", "{tmp}"]])
def test_a_folder_that_is_not_a_run(monkeypatch, capsys, tmp_path, args):
    text = usage_error(monkeypatch, capsys, *[a.format(tmp=tmp_path) for a in args])
    assert "not a run directory" in text


def test_a_damaged_round_file_is_named_with_its_line(monkeypatch, capsys, tmp_path, script):
    out = tmp_path / "run"
    code, _, err = run_cli(monkeypatch, capsys, *eval_args(script, out))
    assert code == 0, err
    round_file = out / "round-000.jsonl"
    lines = round_file.read_text().splitlines()
    lines[1] = lines[1][:-5] + "}"
    round_file.write_text("\n".join(lines) + "\n")
    assert f"{round_file}:2: not a record of a run" in usage_error(monkeypatch, capsys, "report", str(out))


@pytest.mark.parametrize("value", ["0", "x", "1,-2"])
def test_bad_pass_k(monkeypatch, capsys, tmp_path, value):
    assert "error: --pass-k:" in usage_error(monkeypatch, capsys, "report", str(tmp_path), "--pass-k", value)


def test_export_out_in_a_missing_folder(monkeypatch, capsys, tmp_path):
    text = usage_error(monkeypatch, capsys, "export", str(tmp_path), "--lcb", "--out", str(tmp_path / "no" / "x.json"))
    assert "does not exist" in text


def test_grade_resume_on_the_verdicts_of_other_programs(monkeypatch, capsys, tmp_path, programs):
    out = tmp_path / "v.jsonl"
    out.write_text(json.dumps({"question_id": "2811", "index": 0, "line": 1, "code_sha": "0" * 16, "verdict": "passed"}) + "\n")
    text = usage_error(monkeypatch, capsys, *grade_args(programs, "--out", str(out), "--resume"))
    assert "--resume:" in text and "other programs" in text


def test_grade_resume_under_other_settings(monkeypatch, capsys, tmp_path, programs):
    out = tmp_path / "v.jsonl"
    code, _, err = run_cli(monkeypatch, capsys, *grade_args(programs, "--out", str(out), "--timeout", "2"))
    assert code == 0, err
    before = out.read_text()
    text = usage_error(monkeypatch, capsys, *grade_args(programs, "--out", str(out), "--resume", "--timeout", "3"))
    assert "--resume:" in text and "test_seconds 2.0 here 3.0" in text
    assert out.read_text() == before


SLOW = "import time\ntime.sleep(0.4)\nclass Solution:\n    def minimumSum(self, n, k):\n        return 0\n"


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_grade_keeps_what_it_graded_and_resumes(tmp_path, signum):
    programs = tmp_path / "gen.jsonl"
    count = 40
    programs.write_text(json.dumps({"question_id": "2811", "code_list": [SLOW + f"# {i}\n" for i in range(count)]}) + "\n")
    out = tmp_path / "v.jsonl"
    args = [
        *RSA_CODE,
        "grade",
        "--problems",
        str(LCB_HIDDEN100),
        "--programs",
        str(programs),
        "--out",
        str(out),
        "--sandbox",
        "local",
        "--workers",
        "2",
        "--mode",
        "first_failure",
    ]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not out.exists() or len(out.read_text().splitlines()) < 3):
        time.sleep(0.05)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted:" in err and "--resume" in err
    assert "sandbox failure" not in err and "Traceback" not in err
    records = [json.loads(line) for line in out.read_text().splitlines()]  # valid JSONL to the last line
    assert 3 <= len(records) < count
    assert f"{len(records)} of {count} programs graded" in " ".join(err.split())

    resumed = subprocess.run([*args, "--resume", "--json"], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming: {len(records)} programs graded already" in resumed.stderr
    assert json.loads(resumed.stdout)["programs"] == count
    final = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["index"] for r in final) == list(range(count))


def test_report_and_dataset_out_naming_a_file(monkeypatch, capsys, tmp_path, script):
    out = tmp_path / "run"
    code, _, err = run_cli(monkeypatch, capsys, *eval_args(script, out))
    assert code == 0, err
    taken = tmp_path / "taken.md"
    taken.write_text("mine\n")
    for args in (
        ["report", str(out), "--out", str(taken)],
        ["compare", str(out), "--out", str(taken)],
        ["dataset", str(out), "--out", str(taken)],
        ["report", str(out), "--out", str(taken / "sub")],
    ):
        assert "is a file, not a folder" in usage_error(monkeypatch, capsys, *args)
    assert taken.read_text() == "mine\n"


@pytest.mark.slow
def test_an_interrupted_eval_says_how_to_go_on_without_sandbox_warnings(tmp_path):
    script = tmp_path / "slow.json"
    script.write_text(json.dumps(["Wait.\n```python\nimport time\ntime.sleep(0.5)\nprint('T')\n```"]))
    out = tmp_path / "run"
    args = [*RSA_CODE, *eval_args(script, out)[:-2], "-n", "8", "--workers", "2", "--out", str(out)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(out.glob("round-000.jsonl")):
        time.sleep(0.05)
    time.sleep(0.5)  # grading under way
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert f"interrupted: run the same command again to resume from {out}" in " ".join(err.split())
    assert "sandbox failure" not in err and "Traceback" not in err
    finished = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0 and "resuming" in finished.stderr, finished.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["grade", "--problems", "x", "--programs", "y", "--workers", "abc"], "error: Invalid value for '--workers'"),
        (["eval", "--data", "x"], "error: Missing option '--out'"),
        (["nosuch"], "error: No such command 'nosuch'"),
    ],
)
def test_the_parsers_own_errors_are_one_line_too(monkeypatch, capsys, args, message):
    text = usage_error(monkeypatch, capsys, *args)
    assert text.startswith(message) and "--help" in text
