"""How often rsa-code's `lcb` semantics give the verdict LiveCodeBench's own grader gives:
the same programs graded by lcb_runner (a checkout of github.com/LiveCodeBench/LiveCodeBench,
its `check_correctness`, run here as lcb_runner runs it) and by our Docker sandbox, side by
side, pass/fail compared program by program. `--semantics judge` measures how far the judge
semantics lie from it instead (they differ on purpose).

Programs:
  functional  benchmarks/programs/<id>.py (correct) and <id>_wrong.py, plus each problem's
              starter code with `pass`, on the LeetCode problems with 100 hidden tests
  stdin       two problems with full official tests (codeforces 1873_A, atcoder abc301_a),
              each solved once and written in every way a program reads stdin, writes
              stdout and is laid out (12 x 7 x 5 variants), some with a bug

Run: .venv/bin/python benchmarks/lcb_agreement.py --lcb-runner PATH [--limit N] [--semantics lcb|judge]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from problems import Problem, load_problems  # noqa: E402
from sandbox import Job, Limits, make_sandbox  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "lcb"
PROGRAMS = Path(__file__).with_name("programs")

SOLVE = {  # lines (stripped, no empties) -> output lines
    "1873_A": "def solve(lines):\n    return ['YES' if sum(a != b for a, b in zip(s, 'abc')) in (0, 2) else 'NO' for s in lines[1:]]\n",
    "abc301_a": (
        "def solve(lines):\n    s = lines[1]\n    t, a = s.count('T'), s.count('A')\n"
        "    if t != a:\n        return ['T' if t > a else 'A']\n    return ['A' if s[-1] == 'T' else 'T']\n"
    ),
}
WRONG = {  # the same with a plausible bug
    "1873_A": "def solve(lines):\n    return ['YES' if s == 'abc' else 'NO' for s in lines[1:]]\n",
    "abc301_a": "def solve(lines):\n    s = lines[1]\n    return ['T' if s.count('T') >= s.count('A') else 'A']\n",
}
READS = {  # code that leaves the input's lines in `lines`
    "read": "import sys\nlines = sys.stdin.read().split('\\n')",
    "readlines": "import sys\nlines = sys.stdin.readlines()",
    "iterate": "import sys\nlines = [line for line in sys.stdin]",
    "open0": "lines = open(0).read().split('\\n')",
    "os_read": "import os\nlines = os.read(0, 1 << 20).decode().split('\\n')",
    "buffer": "import sys\nlines = sys.stdin.buffer.read().decode().split('\\n')",
    "input_eof": "lines = []\nwhile True:\n    try:\n        lines.append(input())\n    except EOFError:\n        break",
    "from_sys_stdin": "from sys import stdin\nlines = stdin.read().split('\\n')",
    "readline_loop": "import sys\nlines = []\nwhile True:\n    l = sys.stdin.readline()\n    if not l:\n        break\n    lines.append(l)",
    "stdin_readline_loop": "from sys import stdin\nlines = []\nwhile True:\n    l = stdin.readline()\n    if not l:\n        break\n    lines.append(l)",
    "buffer_readline": "import sys\nfirst = sys.stdin.buffer.readline().decode()\nlines = [first] + [sys.stdin.buffer.readline().decode() for _ in range(int(first))] if first.strip().isdigit() and len(first.strip()) < 2 else [first, sys.stdin.buffer.readline().decode()]",
    "input_is_readline": "import sys\ninput = sys.stdin.readline\nfirst = input()\nlines = [first] + [input() for _ in range(int(first) if int(first) <= 6 else 1)]",
}
WRITES = {  # code that prints `out`
    "print_join": "print('\\n'.join(out))",
    "print_each": "for o in out:\n    print(o)",
    "stdout_write": "import sys\nsys.stdout.write('\\n'.join(out) + '\\n')",
    "from_sys_stdout": "from sys import stdout\nstdout.write('\\n'.join(out) + '\\n')",
    "os_write": "import os\nos.write(1, ('\\n'.join(out) + '\\n').encode())",
    "stdout_buffer": "import sys\nsys.stdout.buffer.write(('\\n'.join(out) + '\\n').encode())",
    "print_sep": "print(*out, sep='\\n')",
}
LAYOUTS = {  # how the whole is laid out around `body`
    "top_level": "{body}",
    "main_block": "def main():\n{indented}\n\nif __name__ == '__main__':\n    main()",
    "exit_after": "{body}\nexit()",
    "sys_exit_0": "import sys\n{body}\nsys.exit(0)",
    "thread_joined": "import threading\ndef main():\n{indented}\nt = threading.Thread(target=main)\nt.start()\nt.join()",
}


def stdin_programs(problems: dict[str, Problem]) -> list[tuple[str, Problem, str]]:
    found = []
    for pid, problem in problems.items():
        for read_name, read in READS.items():
            for write_name, write in WRITES.items():
                for layout_name, layout in LAYOUTS.items():
                    wrong = hash((read_name, write_name, layout_name)) % 4 == 0
                    body = f"{(WRONG if wrong else SOLVE)[pid]}{read}\nlines = [l.strip() for l in lines if l.strip()]\nout = solve(lines)\n{write}"
                    indented = "\n".join("    " + line for line in body.splitlines())
                    code = layout.format(body=body, indented=indented)
                    found.append((f"{pid}/{read_name}/{write_name}/{layout_name}{'/wrong' if wrong else ''}", problem, code))
    return found


def functional_programs() -> list[tuple[str, Problem, str]]:
    problems = {p.id: p for p in load_problems([str(DATA / "leetcode_v1_hidden100.jsonl")])}
    found = []
    for path in sorted(PROGRAMS.glob("*.py")):
        qid = path.stem.removesuffix("_wrong")
        if qid in problems:
            found.append((path.stem, problems[qid], path.read_text()))
    for qid, problem in problems.items():
        found.append((f"{qid}_unfinished", problem, problem.starter_code.rstrip() + "\n        pass\n"))
    return found


def lcb_verdict(check_correctness, problem: Problem, code: str, timeout: int) -> bool:
    tests = problem.all_tests
    sample = {
        "input_output": json.dumps(
            {
                "inputs": [t.input for t in tests],
                "outputs": [t.output for t in tests],
                "fn_name": problem.func_name if problem.kind == "functional" else None,
            }
        )
    }
    results, _ = check_correctness(sample, code, timeout=timeout, debug=False)
    return all(r is True or r == 1 for r in results) and len(results) == len(tests)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lcb-runner", required=True, type=Path, help="a checkout of LiveCodeBench (the folder holding lcb_runner/)")
    parser.add_argument("--limit", type=int, help="the first N programs only")
    parser.add_argument("--semantics", choices=["lcb", "judge"], default="lcb")
    parser.add_argument("--timeout", type=int, default=6)
    args = parser.parse_args()
    sys.path.insert(0, str(args.lcb_runner.resolve()))
    sys.set_int_max_str_digits(50000)
    from lcb_runner.evaluation.compute_code_generation_metrics import check_correctness

    full = {p.id: p for p in load_problems([str(DATA / "release_v1_full_tests_sample.jsonl")]) if p.id in SOLVE}
    programs = (functional_programs() + stdin_programs(full))[: args.limit]
    print(
        f"{len(programs)} programs ({sum(p.kind == 'functional' for _, p, _ in programs)} functional) on "
        f"{len({p.id for _, p, _ in programs})} problems; ours in {args.semantics} semantics, Docker"
    )

    started = time.monotonic()
    theirs = [lcb_verdict(check_correctness, problem, code, args.timeout) for _, problem, code in programs]
    lcb_seconds = time.monotonic() - started
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sandbox = make_sandbox("docker", Limits(test_seconds=args.timeout))
    try:
        started = time.monotonic()
        jobs = [Job(code, p.kind, tuple(p.all_tests), p.func_name, "first_failure", args.semantics) for _, p, code in programs]
        ours = [r.ok for r in sandbox.run(jobs)]
        our_seconds = time.monotonic() - started
    finally:
        sandbox.close()

    agree = sum(a == b for a, b in zip(theirs, ours))
    print(f"lcb_runner passes {sum(theirs)}, ours {sum(ours)}; agreement {agree}/{len(programs)} = {100 * agree / len(programs):.1f}%")
    print(f"time: lcb_runner {lcb_seconds:.1f} s, ours {our_seconds:.1f} s ({our_seconds / lcb_seconds:.2f}x)")
    for (name, _, _), a, b in zip(programs, theirs, ours):
        if a != b:
            print(f"  differs: {name}: lcb_runner {'pass' if a else 'fail'}, ours {'pass' if b else 'fail'}")


if __name__ == "__main__":
    main()
