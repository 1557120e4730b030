"""The self-verification judge's messages: the problem's statement and one candidate's
program, nothing else (no tests, no expected outputs: the judge is verifier-free in the
paper's sense). The `verify` template asks for a last line `VERDICT: correct` or
`VERDICT: incorrect`; the solver parses it (solver/rsa.py, parse_verdict)."""

from __future__ import annotations

from problems import Problem
from prompts.builder import Budget, Message, Prompt, PromptTooLong
from prompts.template_set import Templates, default_templates


def verification_messages(problem: Problem, program: str, templates: Templates | None = None) -> tuple[Message, ...]:
    t = templates or default_templates()
    user = t["verify"].format(statement=problem.statement.strip(), program=program.strip("\n"))
    return ({"role": "system", "content": t["system"]}, {"role": "user", "content": user})


def build_verification(problem: Problem, program: str, budget: Budget, templates: Templates | None = None) -> Prompt:
    """The judge's prompt; PromptTooLong when it leaves no room for the judgement (it is
    not trimmed: a judge shown part of a program would judge another program)."""
    messages = verification_messages(problem, program, templates)
    if not budget.fits(messages):
        raise PromptTooLong(f"problem {problem.id}: the program to judge leaves no room within {budget.limit} prompt tokens")
    return Prompt(messages)
