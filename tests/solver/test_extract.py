import pytest
from hypothesis import given
from hypothesis import strategies as st

from solver.extract import assistant_turn, extract, extract_code

FENCE = "```"


def test_last_python_block_wins():
    text = f"First try:\n{FENCE}python\nprint(1)\n{FENCE}\nBetter:\n{FENCE}python\nprint(2)\n{FENCE}\nDone."
    got = extract(text)
    assert got.code == "print(2)"
    assert "print(1)" in got.reasoning and "print(2)" not in got.reasoning
    assert got.reasoning.endswith("Done.")


def test_python_block_preferred_over_a_later_untagged_block():
    text = f"{FENCE}python\nprint(input())\n{FENCE}\nSample:\n{FENCE}\n3\n{FENCE}"
    assert extract_code(text) == "print(input())"


def test_untagged_block_when_no_python_tag():
    assert extract_code(f"Code:\n{FENCE}\nx = 1\nprint(x)\n{FENCE}") == "x = 1\nprint(x)"


def test_other_language_blocks_are_not_code():
    assert extract_code(f"{FENCE}text\n3 4\n{FENCE}\n{FENCE}bash\nls\n{FENCE}") == ""


def test_block_cut_at_max_tokens_runs_to_the_end():
    assert extract_code(f"Plan.\n{FENCE}python\ndef f():\n    return 1") == "def f():\n    return 1"


def test_tilde_fences_and_longer_backtick_fences():
    assert extract_code("~~~python\nprint(3)\n~~~") == "print(3)"
    assert extract_code("````python\ns = '```'\nprint(s)\n````") == "s = '```'\nprint(s)"


def test_unfenced_program_after_prose():
    text = "Sure! Here is the program:\nimport sys\nprint(sum(map(int, sys.stdin.read().split())))"
    got = extract(text)
    assert got.code.startswith("import sys") and got.reasoning == "Sure! Here is the program:"


@pytest.mark.parametrize("text", ["", "I cannot solve this.", "Sure", "42", "The answer is YES."])
def test_no_code_is_an_empty_candidate(text):
    assert extract_code(text) == ""


def test_code_inside_think_is_a_draft():
    text = f"<think>{FENCE}python\nprint('draft')\n{FENCE}</think>\n{FENCE}python\nprint('final')\n{FENCE}"
    assert extract_code(text) == "print('final')"
    assert extract_code(f"<think>{FENCE}python\nprint('draft')\n{FENCE}") == ""  # thinking cut off


DRAFT = f"Let me try.\n{FENCE}python\nprint('draft')\n{FENCE}\nHmm, that is wrong."


def test_template_opened_thinking_is_everything_before_the_last_close_tag():
    # Qwen3 thinking models: <think> is in the chat template, the output holds only </think>.
    got = extract(f"{DRAFT}\n</think>\n\nThe answer has no program.")
    assert got.code == ""  # the draft is thinking, never the candidate
    assert got.thinking.startswith("Let me try.") and "print('draft')" in got.thinking
    assert "</think>" not in got.reasoning and got.reasoning.endswith("The answer has no program.")
    final = extract(f"{DRAFT}\n</think>\nDone:\n{FENCE}python\nprint('final')\n{FENCE}")
    assert final.code == "print('final')" and "print('draft')" in final.reasoning


def test_everything_before_the_last_close_tag_is_thinking():
    text = f"<think>a</think>\n{FENCE}python\nprint('between')\n{FENCE}\n</think>\nNo code in the answer."
    assert extract_code(text) == ""


def test_an_output_cut_off_inside_its_thinking_has_no_program():
    # Decided: what a user sees of such an output is no answer, so the candidate has no
    # program (it fails its tests), whatever drafts the thinking held.
    assert extract_code(DRAFT, opened=True) == ""
    cut = extract(DRAFT, opened=True)
    assert cut.cut_in_thinking and cut.thinking == DRAFT and cut.reasoning == DRAFT
    assert extract_code(DRAFT) == "print('draft')"  # a model that does not think: that is its answer
    # A thinking block reopened after the last </think> and never closed: cut off inside it.
    assert extract_code(f"<think>x</think>\n<think>{DRAFT}") == ""


def test_the_assistant_turn_holds_the_templates_think_tag():
    turn = assistant_turn(DRAFT, opened=True)
    assert turn.startswith("<think>") and extract_code(turn) == ""
    assert assistant_turn(DRAFT, opened=False) == DRAFT
    assert assistant_turn("<think>x</think>y", opened=True) == "<think>x</think>y"


def test_what_an_aggregator_is_shown_drops_only_the_tags():
    text = f"{DRAFT}\n</think>\n\nFinal:\n{FENCE}python\nprint(1)\n{FENCE}\nBye."
    got = extract(text)
    assert got.shown == f"{DRAFT}\n\nFinal:\n{FENCE}python\nprint(1)\n{FENCE}\nBye."
    plain = f"Plan.\n{FENCE}python\nprint(1)\n{FENCE}"
    assert extract(plain).shown == plain


@given(st.text())
def test_never_raises_and_code_is_part_of_the_response(text):
    got = extract(text)
    assert got.code == "" or got.code in text
    assert got.code == "" or "</think>" not in text or got.code in text[text.rfind("</think>") :]


# --- through the solver: thinking in candidates and in aggregation prompts ---------------

from problems import Problem  # noqa: E402
from prompts import Budget, build_aggregation, trim_middle  # noqa: E402
from runners.scripted import ScriptedRunner  # noqa: E402
from solver.rsa import Candidate, RSAConfig, Solver, candidate_views  # noqa: E402

PROBLEM = Problem(id="p", statement="Print the sum of two integers.", kind="stdin")


class ThinkingTemplateRunner(ScriptedRunner):
    """A scripted runner standing in for a Qwen3 thinking model: its chat template opens
    <think>, so completions hold only </think> (or nothing, when cut off while thinking)."""

    opens_thinking = True


def thinking_response(words: int, tag: str, answer: str, opening: str = "") -> str:
    thinking = " ".join(f"{tag}{i}" for i in range(words))
    return f"{opening}{thinking}\n</think>\n\n{answer}"


def test_a_thinking_models_cut_off_draft_never_becomes_the_candidate():
    draft = "I think:\n```python\nprint('draft')\n```\nbut let me check" + " more" * 100
    runner = ThinkingTemplateRunner([draft])
    [run] = Solver(runner, RSAConfig(n=2, k=2, t=0, max_tokens=64)).run([PROBLEM])
    for c in run.population:
        assert c.finish_reason == "length"
        assert c.text.startswith("<think>\n") and c.code == ""  # cut off inside its thinking: no program


@pytest.mark.parametrize("opening", ["<think>\n", ""])  # the model's own <think>, or the template's
def test_thinking_text_is_trimmed_head_and_tail_and_the_trim_is_recorded(opening):
    answer = "Final.\n```python\nprint({})\n```"
    parents = [
        Candidate("p", 0, i, (), i, thinking_response(n, tag, answer.format(i), opening), f"print({i})", 0, 0, "stop")
        for i, (n, tag) in enumerate([(3000, "a"), (2500, "b"), (20, "c"), (10, "d")])
    ]
    views = candidate_views(parents)
    assert all("</think>" not in v.text and "</think>" not in v.reasoning for v in views)
    assert views[0].reasoning.startswith("a0 a1 ") and views[0].reasoning.endswith("Final.")
    budget = Budget(ScriptedRunner(["x"]).count_tokens, 4000, 500)
    prompt = build_aggregation(PROBLEM, views, budget)
    assert prompt.trim is not None and prompt.trim.stage == "reasoning"
    cap, user = prompt.trim.cap_chars, prompt.messages[1]["content"]
    lengths = [len(v.reasoning) for v in views]
    # The record is true: what was cut, from how many candidates.
    assert prompt.trim.candidates_trimmed == 2
    assert prompt.trim.chars_removed == sum(n - cap for n in lengths if n > cap) > 0
    # The cut falls on the thinking's middle: its head and tail are kept, evenly.
    for v in views[:2]:
        kept = trim_middle(v.reasoning, cap)
        assert kept in user and v.reasoning[: cap // 2] in user and v.reasoning[len(v.reasoning) - cap // 2 :] in user
    assert views[2].reasoning in user and views[3].reasoning in user  # short thinking stays whole
    for i in range(4):
        assert f"print({i})" in user  # every program whole


@pytest.mark.parametrize("runner_class, opening", [(ScriptedRunner, "<think>\n"), (ThinkingTemplateRunner, "")])
def test_the_solver_records_the_trim_of_thinking_parents(runner_class, opening):
    long_thinking = thinking_response(2000, "t", "Done.\n```python\nprint(1)\n```", opening)
    runner = runner_class([long_thinking], context_window=6000)
    solver = Solver(runner, RSAConfig(n=4, k=4, t=1, max_tokens=3000))
    [run] = solver.run([PROBLEM])
    assert all(c.code == "print(1)" for c in run.rounds[0])
    trims = [c.trim for c in run.rounds[1]]
    assert all(t is not None and t["stage"] == "reasoning" for t in trims)
    assert all(t["candidates_trimmed"] == 4 and t["chars_removed"] > 0 for t in trims)


def test_the_block_that_defines_the_tested_function_wins_over_later_example_calls():
    text = (
        "```python\ndef remove_Occ(s, ch):\n    return s.replace(ch, '')\n```\n"
        "Test it:\n```python\nassert remove_Occ('hello', 'l') == 'heo'\n```"
    )
    assert extract_code(text) == "assert remove_Occ('hello', 'l') == 'heo'"  # LiveCodeBench's rule: the last block
    assert extract(text, defines="remove_Occ").code == "def remove_Occ(s, ch):\n    return s.replace(ch, '')"


def test_defines_keeps_the_last_rule_when_no_block_defines_the_function():
    text = "```python\nx = 1\n```\n```python\nprint(remove_Occ('a', 'b'))\n```"
    assert extract(text, defines="remove_Occ").code == "print(remove_Occ('a', 'b'))"
    two = "```python\ndef f(x):\n    return 1\n```\n```python\ndef f(x):\n    return 2\n```"
    assert extract(two, defines="f").code == "def f(x):\n    return 2"  # the last definition
    assert extract("```python\ndef ff(x):\n    return 1\n```\n```python\nf(1)\n```", defines="f").code == "f(1)"  # not a prefix
