"""The comparison rules (on the host) and compilation rules (in the supervisor), against
LiveCodeBench's grader (lcb_runner/evaluation/testing_util.py): its quirks are kept on
purpose. And the canonical form a functional result crosses the boundary in."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.compare import Malformed, compare_stdout, decode_value, output_digest, same_value, stripped_lines, value_digest
from sandbox.inside.program import Unplain, canonical
from sandbox.inside.supervisor import compile_program

# Lines without newlines (the unit a comparison works on); any other character may appear.
line_text = st.text(alphabet=st.characters(blacklist_characters="\n"), max_size=30)


@given(st.text(max_size=200))
def test_any_output_matches_itself(text):
    assert compare_stdout(text, text) is None


@given(st.lists(line_text.map(str.strip), min_size=1, max_size=8), st.lists(st.sampled_from([" ", "\t", "\r", ""]), min_size=8, max_size=8))
def test_whitespace_at_line_ends_and_blank_lines_around_do_not_matter(lines, pads):
    got = "\n\n" + "\n".join(pad + line + pad for line, pad in zip(lines, pads)) + "\n \n"
    assert compare_stdout(got, "\n".join(lines)) is None


@given(st.decimals(allow_nan=False, allow_infinity=False, places=6), st.integers(min_value=1, max_value=4))
def test_numbers_compare_by_value(value, extra_zeros):
    longer = f"{value:f}" + ("" if "." in f"{value:f}" else ".") + "0" * extra_zeros
    assert compare_stdout(f"{value:f}\n", longer) is None
    assert compare_stdout(f"{value + 1:f}", longer) is not None


@given(st.text(max_size=100), st.text(max_size=100))
def test_digest_follows_the_normalised_output(a, b):
    assert (output_digest(a) == output_digest(b)) == (stripped_lines(a) == stripped_lines(b))


@given(st.text(max_size=60), st.text(max_size=60))
def test_equal_digests_mean_the_same_verdict(a, expected):
    if output_digest(a) == output_digest(expected):
        assert compare_stdout(a, expected) is None


@pytest.mark.parametrize(
    "got, expected, same",
    [
        ("YES\n", "YES", True),
        ("Yes", "YES", False),  # exact, no case folding
        ("1 2 3", "1  2   3", True),  # numbers token by token
        ("a b", "a  b", False),  # not numbers: the line must match exactly (LiveCodeBench's quirk)
        ("0.1", "0.10", True),
        ("1e2", "100", True),
        ("1_000", "1000", True),  # Decimal reads underscores
        ("3.0000001", "3", False),  # no tolerance
        ("NaN", "NaN", True),  # equal text
        ("nan", "NaN", False),  # NaN is not equal to NaN as a Decimal
        ("1\r\n2\r\n", "1\n2\n", True),
        ("1\n\n2", "1\n2", False),  # a blank line inside counts
        ("", "0", False),
        ("", "", True),
        ("  \n ", "", True),
    ],
)
def test_livecodebench_stdout_rules(got, expected, same):
    assert (compare_stdout(got, expected) is None) is same


def test_a_wrong_line_is_named():
    assert compare_stdout("1\n2\n4", "1\n2\n3") == "line 3: expected '3', got '4'"
    assert compare_stdout("1\n2", "1") == "expected 1 lines, got 2"


@pytest.mark.parametrize(
    "result, expected, same",
    [
        ((1, 2), [1, 2], True),  # a tuple counts as a list
        ([(1, 2)], [[1, 2]], False),  # only at the top (LiveCodeBench's rule)
        (1.0, 1, True),
        (True, 1, True),
        ("1", 1, False),
        ({"a": 1}, {"a": 1}, True),
        ({1, 2}, [1, 2], False),
        (None, None, True),
    ],
)
def test_livecodebench_functional_rule(result, expected, same):
    assert same_value(result, expected) is same


def test_value_digest_ignores_tuple_or_list_at_the_top():
    assert value_digest((1, 2)) == value_digest([1, 2])
    assert value_digest({1, 2}) != value_digest([1, 2])  # not JSON: its repr
    assert value_digest(Decimal(1)) == value_digest(Decimal("1"))


def run_stdin(code: str, stdin: str = "") -> dict:
    """Run a compiled stdin program in this process, as the program process does."""
    namespace: dict = {"__name__": "tmp_sol"}
    exec(compile_program(code, "stdin"), namespace)
    return namespace


def test_stdin_program_becomes_wrapped_function_with_hoisted_imports():
    namespace = run_stdin("import heapq as hq\nx = 5\nprint(x)\n")
    assert callable(namespace["wrapped_function"]) and "x" not in namespace
    assert namespace["hq"].__name__ == "heapq"  # imports stay at module level
    assert namespace["Counter"].__name__ == "Counter"  # the prelude is there


@pytest.mark.parametrize("quote", ["'", '"'])
def test_last_main_block_is_unwrapped(quote, capsys):
    namespace = run_stdin(f"def main():\n    print('hi')\nif __name__ == {quote}__main__{quote}:\n    main()\n")
    namespace["wrapped_function"]()
    assert capsys.readouterr().out == "hi\n"


def test_main_block_that_is_not_last_does_not_run(capsys):
    namespace = run_stdin("def main():\n    print('hi')\nif __name__ == '__main__':\n    main()\nx = 1\n")
    namespace["wrapped_function"]()
    assert capsys.readouterr().out == ""  # __name__ is tmp_sol, as in LiveCodeBench


def test_global_of_a_top_level_name_fails_as_in_livecodebench():
    namespace = run_stdin("n = 1\ndef bump():\n    global n\n    n += 1\nbump()\n")
    with pytest.raises(NameError):
        namespace["wrapped_function"]()


@pytest.mark.parametrize("kind", ["stdin", "functional"])
def test_future_import_after_the_prelude_is_a_syntax_error(kind):
    with pytest.raises(SyntaxError):
        compile_program("from __future__ import annotations\nx = 1\n", kind)


@pytest.mark.parametrize("code", ["def f(:\n", "x = (\n", "print('a')\n  print('b')\n", "\x00"])
def test_syntax_errors(code):
    with pytest.raises((SyntaxError, ValueError)):
        compile_program(code, "stdin")


def test_a_program_of_imports_only_does_not_compile():
    with pytest.raises(ValueError):  # an empty wrapped_function; LiveCodeBench fails it too
        compile_program("import math\n", "stdin")


def test_functional_program_keeps_its_line_numbers():
    code = compile_program("class Solution:\n    def f(self):\n        return 1 / 0\n", "functional")
    namespace: dict = {}
    exec(code, namespace)
    with pytest.raises(ZeroDivisionError) as raised:
        namespace["Solution"]().f()
    assert raised.traceback[-1].lineno + 1 == 3


plain_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.integers() | st.text(max_size=5) | st.tuples(st.integers()), inner, max_size=3)
    ),
    max_leaves=20,
)


@given(plain_values)
def test_the_canonical_form_rebuilds_exactly_the_plain_value(value):
    import json

    rebuilt = decode_value(json.dumps(canonical(value)))
    assert rebuilt == value and _types(rebuilt) == _types(value)  # tuples stay tuples, int keys stay ints


def _types(value):
    if isinstance(value, (list, tuple)):
        return (type(value), [_types(v) for v in value])
    if isinstance(value, dict):
        return (dict, sorted((repr(k), _types(v)) for k, v in value.items()))
    return type(value)


class AlwaysEqual(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__


@pytest.mark.parametrize("value", [AlwaysEqual(1), [AlwaysEqual(1)], {1, 2}, object(), type("L", (list,), {})([1]), b"1"])
def test_only_exact_plain_types_cross(value):
    with pytest.raises(Unplain):
        canonical(value)


@pytest.mark.parametrize("text", ['{"t": [1], "x": 2}', '{"d": [[[1], 2]]}', '{"d": [[1]]}', '{"a": 1}', "[1,", "NaN]", "[" * 100_000])
def test_malformed_canonical_text_is_the_programs_failure(text):
    with pytest.raises(Malformed):
        decode_value(text)


@pytest.mark.parametrize(
    ("result", "expected", "lcb", "judge"),
    [((1, 2), [1, 2], True, True), ([(1, 2)], [[1, 2]], False, True), ({"a": (1,)}, {"a": [1]}, False, True)],
)
def test_judge_semantics_reads_every_tuple_as_a_list(result, expected, lcb, judge):
    assert same_value(result, expected, "lcb") is lcb
    assert same_value(result, expected, "judge") is judge
