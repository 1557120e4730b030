"""The context window an RSA setting needs so that no aggregation prompt is ever trimmed:
K parents of at most --max-tokens tokens each, the problem and the templates around them,
and --max-tokens left for the completion. Prints, for the problems given, the largest
prompt skeleton (the aggregation prompt with K empty candidates) in UTF-8 bytes, which
bounds its tokens (no token covers less than a byte), and the window that bound needs.

    .venv/bin/python benchmarks/paper_window.py [PATH...] [--release R] [-k 4] [--max-tokens 8192]

With no PATH it reads the shared LiveCodeBench release_v1 rows (the copy on this machine).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from problems import ProblemFilter, load_problems
from prompts import CandidateText, aggregation_messages, load_templates

SHARED_V1 = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "lcb" / "release_v1_public.jsonl"
CHAT_TEMPLATE_SLACK = 64  # role markers and the generation prompt of a chat template, in tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", default=[str(SHARED_V1)])
    parser.add_argument("--release")
    parser.add_argument("-k", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=8192)
    parser.add_argument("--templates", help="a --templates folder, if the run uses one")
    args = parser.parse_args()

    templates = load_templates(args.templates)
    problems = load_problems(args.paths, ProblemFilter(release=args.release))
    empty = [CandidateText("", "", "")] * args.k
    sizes = sorted(
        (sum(len(m["content"].encode("utf-8")) for m in aggregation_messages(p, empty, templates=templates)), p.id) for p in problems
    )
    largest, which = sizes[-1]
    median = sizes[len(sizes) // 2][0]
    needed = (args.k + 1) * args.max_tokens + largest + CHAT_TEMPLATE_SLACK
    print(f"{len(problems)} problems; aggregation prompt skeleton with K={args.k} empty candidates, UTF-8 bytes:")
    print(f"  median {median:,}, largest {largest:,} ({which})")
    print(f"K x max_tokens (parents) + max_tokens (completion) = {(args.k + 1) * args.max_tokens:,} tokens")
    print(f"window that never trims, by the byte bound: {needed:,} tokens (+{CHAT_TEMPLATE_SLACK} for the chat template)")


if __name__ == "__main__":
    main()
