import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from problems import Problem
from prompts import Budget, CandidateText, PromptTooLong, build_aggregation, build_generation, generation_messages

STDIN = Problem(id="p1", statement="Read two integers and print their sum.", kind="stdin")
FUNCTIONAL = Problem(
    id="p2",
    statement="Return the number of seniors.",
    kind="functional",
    func_name="countSeniors",
    starter_code="class Solution:\n    def countSeniors(self, details: List[str]) -> int:\n        ",
)


def words(messages):
    """Token counter for tests: whitespace words plus 3 per message (never above bytes)."""
    return sum(len(m["content"].split()) + 3 for m in messages)


def candidate(reasoning_words: int, code_lines: int, tag: str = "x") -> CandidateText:
    reasoning = " ".join(f"{tag}{i}" for i in range(reasoning_words))
    code = "\n".join(f"v{i} = {i}" for i in range(code_lines))
    return CandidateText(f"{reasoning}\n```python\n{code}\n```", reasoning, code)


def test_generation_prompts_carry_statement_and_format():
    stdin = generation_messages(STDIN)
    assert stdin[0]["role"] == "system" and STDIN.statement in stdin[1]["content"]
    assert "standard input" in stdin[1]["content"]
    functional = generation_messages(FUNCTIONAL)[1]["content"]
    assert "def countSeniors(self, details: List[str]) -> int:" in functional
    bare = Problem(id="p3", statement="s", kind="functional", func_name="solve")
    assert "`solve`" in generation_messages(bare)[1]["content"]


def test_aggregation_prompt_holds_every_candidate_whole_when_it_fits():
    cands = [candidate(20, 3, tag) for tag in "abcd"]
    prompt = build_aggregation(STDIN, cands, Budget(words, 10_000, 100))
    assert prompt.trim is None
    user = prompt.messages[1]["content"]
    for i, c in enumerate(cands, 1):
        assert f"Candidate {i}" in user and c.text in user
    assert "(4 in all)" in user


def test_reasoning_is_trimmed_evenly_and_programs_kept_whole():
    cands = [candidate(n, 4, tag) for n, tag in [(50, "a"), (400, "b"), (800, "c"), (30, "d")]]
    budget = Budget(words, 900, 200)
    prompt = build_aggregation(STDIN, cands, budget)
    assert prompt.trim is not None and prompt.trim.stage == "reasoning"
    assert words(prompt.messages) <= budget.limit
    user = prompt.messages[1]["content"]
    for c in cands:
        assert c.code in user  # every program whole
    assert cands[0].reasoning in user and cands[3].reasoning in user  # short reasoning untouched
    assert prompt.trim.candidates_trimmed == 2
    cap = prompt.trim.cap_chars
    assert all(len(c.reasoning) <= cap for c in (cands[0], cands[3]))
    # The cap is the largest that fits: one more character per candidate would not.
    from prompts.builder import aggregation_messages

    assert words(aggregation_messages(STDIN, cands, reasoning_cap=cap + 1)) > budget.limit


def test_programs_are_trimmed_when_even_no_reasoning_does_not_fit():
    cands = [candidate(300, 200, tag) for tag in "ab"]
    budget = Budget(words, 700, 200)
    prompt = build_aggregation(STDIN, cands, budget)
    assert prompt.trim is not None and prompt.trim.stage == "code"
    assert words(prompt.messages) <= budget.limit
    user = prompt.messages[1]["content"]
    assert "a0 a1" not in user and "characters trimmed" in user


def test_a_prompt_that_cannot_fit_is_never_built():
    huge = Problem(id="big", statement="word " * 5000, kind="stdin")
    with pytest.raises(PromptTooLong, match="big"):
        build_generation(huge, Budget(words, 4096, 512))
    with pytest.raises(PromptTooLong):
        build_aggregation(huge, [candidate(5, 2)], Budget(words, 4096, 512))


def test_max_tokens_must_leave_room():
    with pytest.raises(ValueError, match="no room"):
        Budget(words, 1024, 1024)


def test_cheap_bound_spares_the_tokenizer():
    calls = []

    def counting(messages):
        calls.append(messages)
        return words(messages)

    budget = Budget(counting, 100_000, 1000)
    for _ in range(50):
        build_generation(STDIN, budget)
    assert len(calls) == 1  # only the template's own tokens, counted once


@settings(max_examples=60, deadline=None)
@given(
    lengths=st.lists(st.tuples(st.integers(0, 600), st.integers(0, 120)), min_size=1, max_size=6),
    window=st.integers(200, 3000),
)
def test_whatever_is_built_fits(lengths, window):
    cands = [candidate(r, c, f"t{i}_") for i, (r, c) in enumerate(lengths)]
    budget = Budget(words, window, 100)
    try:
        prompt = build_aggregation(STDIN, cands, budget)
    except PromptTooLong:
        from prompts.builder import aggregation_messages

        assert words(aggregation_messages(STDIN, cands, reasoning_cap=0, code_cap=0)) > budget.limit
        return
    assert words(prompt.messages) <= budget.limit
