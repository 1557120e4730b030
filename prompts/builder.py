"""Chat messages for generation and aggregation, fitted to the model's context window.

The budget rule (stated, tested): a prompt must leave `max_tokens` free in the context
window. When K candidates do not fit,
  1. every candidate keeps its final program whole and its reasoning (the text around
     the program) is cut to one common length, chosen as large as fits, keeping the
     reasoning's head and tail around a "[... N characters trimmed ...]" marker; shorter
     reasoning stays whole, so the trimming falls evenly on the longest;
  2. if the prompt still does not fit with no reasoning at all, the programs are cut the
     same way;
  3. if it does not fit with empty candidates either, PromptTooLong is raised and the
     prompt is not sent.
A candidate's reasoning is all of it but the program, its thinking included (a thinking
model's thinking is most of its length), so the cut falls on the thinking's middle too.
What was trimmed is recorded in `Prompt.trim`: `chars_removed` counts the characters of
reasoning (and, at stage "code", of programs) left out, `candidates_trimmed` the
candidates that lost any.

Every function takes `templates` (prompts.template_set.Templates; the defaults if None).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from problems import Problem
from prompts.template_set import Templates, default_templates

Message = dict[str, str]


class PromptTooLong(ValueError):
    """Even with every candidate emptied, the prompt leaves no room for max_tokens."""


class ContextTooSmall(ValueError):
    """max_tokens alone fills the model's context window: no prompt can fit."""


@dataclass(frozen=True, slots=True)
class CandidateText:
    """A candidate as the aggregator sees it: `text` whole, or when trimmed `reasoning`
    (everything but the final program, thinking included) and `code`. The solver's code
    extraction splits them."""

    text: str
    reasoning: str
    code: str
    feedback: str | None = None  # public-test results, only with feedback in the prompt


@dataclass(frozen=True, slots=True)
class Trim:
    stage: Literal["reasoning", "code"]
    cap_chars: int  # each candidate's reasoning (or program) kept to at most this many characters
    chars_removed: int
    candidates_trimmed: int


@dataclass(frozen=True, slots=True)
class Prompt:
    messages: tuple[Message, ...]
    trim: Trim | None = None


def _format_instructions(problem: Problem, t: Templates) -> str:
    if problem.kind == "stdin":
        return t["format_stdin"]
    if problem.kind == "assertion":  # HumanEval (the signature and docstring are the statement), MBPP (public asserts)
        if problem.public_tests:
            return t["format_assertion_tests"].format(func_name=problem.func_name, tests="\n".join(x.input for x in problem.public_tests))
        return t["format_assertion"].format(func_name=problem.func_name)
    if problem.starter_code.strip():
        return t["format_functional"].format(starter_code=problem.starter_code.rstrip())
    return t["format_function"].format(func_name=problem.func_name)


def _messages(user: str, t: Templates) -> tuple[Message, ...]:
    return ({"role": "system", "content": t["system"]}, {"role": "user", "content": user})


def generation_messages(problem: Problem, templates: Templates | None = None) -> tuple[Message, ...]:
    t = templates or default_templates()
    return _messages(t["generate"].format(statement=problem.statement.strip(), format=_format_instructions(problem, t)), t)


def trim_middle(text: str, cap: int) -> str:
    """Keep at most `cap` characters of `text`: its head and tail around a marker."""
    if len(text) <= cap:
        return text
    if cap <= 0:  # nothing kept: no marker either, it would only add length
        return ""
    head = cap // 2
    tail = cap - head
    return f"{text[:head]}\n[... {len(text) - cap} characters trimmed ...]\n{text[len(text) - tail :] if tail else ''}"


def _render_candidate(number: int, c: CandidateText, reasoning_cap: int | None, code_cap: int | None, t: Templates) -> str:
    if reasoning_cap is None:
        body = c.text.strip()
    else:
        parts = [trim_middle(c.reasoning.strip(), reasoning_cap)]
        code = c.code if code_cap is None else trim_middle(c.code, code_cap)
        if code:
            parts.append(f"```python\n{code}\n```")
        body = "\n\n".join(p for p in parts if p)
    if c.feedback is None:
        return t["candidate"].format(number=number, text=body)
    return t["candidate_feedback"].format(number=number, text=body, feedback=c.feedback)


def aggregation_messages(
    problem: Problem,
    candidates: Sequence[CandidateText],
    reasoning_cap: int | None = None,
    code_cap: int | None = None,
    templates: Templates | None = None,
) -> tuple[Message, ...]:
    t = templates or default_templates()
    rendered = "\n\n".join(_render_candidate(i + 1, c, reasoning_cap, code_cap, t) for i, c in enumerate(candidates))
    user = t["aggregate"].format(
        statement=problem.statement.strip(), k=len(candidates), candidates=rendered, format=_format_instructions(problem, t)
    )
    return _messages(user, t)


class Budget:
    """Whether messages leave `max_tokens` free in the window. Counting with the model's
    tokenizer is exact but costs time, so a cheap upper bound goes first: no token covers
    less than one UTF-8 byte, so bytes plus the chat template's own tokens bound the count."""

    def __init__(self, count_tokens: Callable[[Sequence[Message]], int], context_window: int, max_tokens: int):
        self.limit = context_window - max_tokens
        if self.limit <= 0:
            raise ContextTooSmall(
                f"--max-tokens {max_tokens} leaves no room for a prompt in the model's context window of {context_window} tokens"
            )
        self.count_tokens = count_tokens
        self._template_tokens: int | None = None

    def _bound(self, messages: Sequence[Message]) -> int:
        if self._template_tokens is None:
            empty = [{"role": m["role"], "content": ""} for m in messages]
            # A few tokens per message of slack for tokenizers that add a prefix space.
            self._template_tokens = self.count_tokens(empty) + 4 * len(messages)
        return self._template_tokens + sum(len(m["content"].encode("utf-8")) for m in messages)

    def fits(self, messages: Sequence[Message]) -> bool:
        return self._bound(messages) <= self.limit or self.count_tokens(messages) <= self.limit


def _largest_fitting_cap(fits: Callable[[int], bool], hi: int) -> int | None:
    """Largest cap in [0, hi] with fits(cap), assuming longer never fits better; None if even 0 fails."""
    if not fits(0):
        return None
    lo = 0
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def build_generation(problem: Problem, budget: Budget, templates: Templates | None = None) -> Prompt:
    messages = generation_messages(problem, templates)
    if not budget.fits(messages):
        raise PromptTooLong(f"problem {problem.id}: the statement alone leaves no room for {budget.limit} prompt tokens")
    return Prompt(messages)


def build_aggregation(problem: Problem, candidates: Sequence[CandidateText], budget: Budget, templates: Templates | None = None) -> Prompt:
    t = templates or default_templates()
    messages = aggregation_messages(problem, candidates, templates=t)
    if budget.fits(messages):
        return Prompt(messages)

    longest_reasoning = max(len(c.reasoning.strip()) for c in candidates)
    cap = _largest_fitting_cap(
        lambda r: budget.fits(aggregation_messages(problem, candidates, reasoning_cap=r, templates=t)), longest_reasoning
    )
    if cap is not None:
        lengths = [len(c.reasoning.strip()) for c in candidates]
        trim = Trim("reasoning", cap, sum(max(0, n - cap) for n in lengths), sum(n > cap for n in lengths))
        return Prompt(aggregation_messages(problem, candidates, reasoning_cap=cap, templates=t), trim)

    longest_code = max(len(c.code) for c in candidates)
    cap = _largest_fitting_cap(
        lambda r: budget.fits(aggregation_messages(problem, candidates, reasoning_cap=0, code_cap=r, templates=t)),
        longest_code,
    )
    if cap is None:
        raise PromptTooLong(
            f"problem {problem.id}: with {len(candidates)} empty candidates the prompt still leaves no room "
            f"within {budget.limit} prompt tokens"
        )
    lengths = [len(c.code) for c in candidates]
    removed = sum(len(c.reasoning.strip()) for c in candidates) + sum(max(0, n - cap) for n in lengths)
    trimmed = sum(bool(c.reasoning.strip()) or len(c.code) > cap for c in candidates)
    return Prompt(
        aggregation_messages(problem, candidates, reasoning_cap=0, code_cap=cap, templates=t), Trim("code", cap, removed, trimmed)
    )
