"""The program inside a model's response.

Rules, in order:
  1. Thinking is never code. Everything before the last `</think>` is thinking, whether
     or not the response holds the opening `<think>` (Qwen3 thinking models put `<think>`
     in the chat template, so their output holds only `</think>`). With no `</think>`, an
     opening `<think>` starts thinking that runs to the end: the response was cut off
     inside its thinking. `opened=True` says the chat template opened the thinking; then
     a response without `</think>` is all thinking. A response cut off inside its
     thinking has no program (a user would see no answer), even if a draft is there.
  2. Fenced blocks of the answer: the last one tagged python (py, python3) wins, else the
     last untagged one; blocks tagged with another language (text, bash, input...) are
     never code. When the problem names the function its tests call (HumanEval, MBPP:
     `defines`), the last of those blocks that defines it wins over a later one that only
     calls it (small models end with a block of example calls or asserts). A final block whose closing fence is missing (a response cut at
     max_tokens) counts, running to the end of the text.
  3. No fence at all: the answer is the program if it parses as Python, or else the
     longest tail of it that parses after dropping leading prose lines.
  4. Otherwise there is no program: the candidate's code is "" (it fails its tests; it is
     not an error).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
_THINK_TAG = re.compile(r"</?think>")
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([^\s`]*)[^\n]*$", re.MULTILINE)
_PYTHON_TAGS = {"python", "py", "python3", "py3"}


@dataclass(frozen=True, slots=True)
class Extracted:
    code: str
    reasoning: str  # everything but the program: the thinking, then the answer's prose (tags dropped)
    thinking: str = ""  # the thinking alone, tags dropped
    shown: str = ""  # the whole response as an aggregator sees it: tags dropped, nothing else
    cut_in_thinking: bool = False  # no </think>: the response ended inside its thinking


def _join(*parts: str) -> str:
    return "\n\n".join(p for p in parts if p)


def split_thinking(response: str, opened: bool = False) -> tuple[str, str, str, bool]:
    """(answer before the thinking, thinking, answer after it, cut off inside thinking).
    Tags are dropped from the thinking; the answer parts are as written."""
    end = response.rfind(THINK_CLOSE)
    if end >= 0:
        thinking, after = _THINK_TAG.sub("", response[:end]).strip(), response[end + len(THINK_CLOSE) :]
        reopened = after.find(THINK_OPEN)
        if reopened < 0:
            return "", thinking, after, False
        # Thinking again after the last </think>, never closed: cut off inside it.
        return after[:reopened], _join(thinking, _THINK_TAG.sub("", after[reopened:]).strip()), "", True
    start = response.find(THINK_OPEN)
    if start >= 0:
        return response[:start], _THINK_TAG.sub("", response[start:]).strip(), "", True
    if opened:
        return "", response.strip(), "", True
    return "", "", response, False


def assistant_turn(completion: str, opened: bool) -> str:
    """The assistant's whole turn: when the chat template opened the thinking, the
    completion lacks that `<think>`, and the turn starts with it."""
    if opened and not completion.lstrip().startswith(THINK_OPEN):
        return f"{THINK_OPEN}\n{completion}"
    return completion


def _blocks(text: str) -> list[tuple[str, int, int, int, int]]:
    """(tag, block start, code start, code end, block end) for each fenced block."""
    blocks = []
    fences = list(_FENCE.finditer(text))
    i = 0
    while i < len(fences):
        opening = fences[i]
        marker, tag = opening.group(1), opening.group(2).lower()
        close = next(
            (
                j
                for j in range(i + 1, len(fences))
                if fences[j].group(1)[0] == marker[0] and len(fences[j].group(1)) >= len(marker) and not fences[j].group(2)
            ),
            None,
        )
        code_start = min(opening.end() + 1, len(text))
        if close is None:
            blocks.append((tag, opening.start(), code_start, len(text), len(text)))
            break
        blocks.append((tag, opening.start(), code_start, fences[close].start(), fences[close].end()))
        i = close + 1
    return blocks


def _parses(source: str) -> bool:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return False
    # A lone name or constant ("Sure", "42") parses but is prose, not a program.
    return any(not (isinstance(s, ast.Expr) and isinstance(s.value, (ast.Name, ast.Constant))) for s in tree.body)


def _unfenced(text: str) -> tuple[str, str]:
    lines = text.strip().splitlines()
    for start in range(len(lines)):
        candidate = "\n".join(lines[start:]).strip()
        if candidate and _parses(candidate):
            return candidate, "\n".join(lines[:start]).strip()
    return "", text.strip()


def _program(text: str, defines: str | None) -> tuple[str, str]:
    """(program, the text without it) of an answer that holds no thinking."""
    blocks = _blocks(text)
    if blocks:
        python = [b for b in blocks if b[0] in _PYTHON_TAGS] or [b for b in blocks if not b[0]]
        if not python:
            return "", text.strip()
        if defines is not None:
            definition = re.compile(rf"^[ \t]*(?:async[ \t]+)?def[ \t]+{re.escape(defines)}[ \t]*\(", re.MULTILINE)
            python = [b for b in python if definition.search(text, b[2], b[3])] or python
        _, start, code_start, code_end, end = python[-1]
        return text[code_start:code_end].strip("\n"), (text[:start] + text[end:]).strip()
    return _unfenced(text)


def extract(response: str, opened: bool = False, defines: str | None = None) -> Extracted:
    """`opened`: the chat template put `<think>` before the response (see rule 1);
    `defines`: the function the tests call, for problems that name one (rule 2)."""
    before, thinking, after, cut = split_thinking(response, opened)
    shown = _join(before.strip(), thinking, after.strip())
    if cut:
        return Extracted("", shown, thinking, shown, True)
    code, prose = _program(after, defines)
    return Extracted(code, _join(thinking, prose), thinking, shown)


def extract_code(response: str, opened: bool = False) -> str:
    return extract(response, opened).code
