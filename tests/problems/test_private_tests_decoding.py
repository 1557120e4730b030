"""The compressed `private_test_cases` field: official encoding round trips, and hostile
payloads (code-running pickles, zip bombs, junk) that must fail cleanly without running."""

from __future__ import annotations

import base64
import json
import os
import pickle
import pickletools
import tracemalloc
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import problems.lcb as lcb
from problems import InputFileError, load_problems
from problems.lcb import decode_private_tests
from tests.conftest import LCB_FULL_TESTS_SAMPLE, official_encoding

tests_lists = st.lists(
    st.fixed_dictionaries({"input": st.text(), "output": st.text(), "testtype": st.sampled_from(["stdin", "functional"])}),
    max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(tests=tests_lists, protocol=st.integers(0, pickle.HIGHEST_PROTOCOL))
def test_official_encoding_round_trips_at_every_pickle_protocol(tests, protocol):
    text = json.dumps(tests)
    assert decode_private_tests(official_encoding(text, protocol)) == text


@settings(max_examples=300, deadline=None)
@given(junk=st.binary(max_size=200))
def test_junk_payloads_only_ever_raise_value_error(junk):
    for text in (official_encoding(junk), base64.b64encode(zlib.compress(junk)).decode(), base64.b64encode(junk).decode()):
        try:
            result = decode_private_tests(text)
        except ValueError:
            continue
        assert isinstance(result, str)


class _RunsCode:
    """Unpickling this would call os.system: the attack the field invites."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_that_would_run_code_is_refused_and_does_not_run(tmp_path):
    marker = tmp_path / "pwned"
    payload = official_encoding(_RunsCode(marker))
    with pytest.raises(ValueError, match="opcode .* refused"):
        decode_private_tests(payload)
    assert not marker.exists()
    pickle.loads(zlib.decompress(base64.b64decode(payload)))  # the payload is live: plain pickle runs it
    assert marker.exists()


def test_the_unpickler_refuses_globals_even_if_the_opcode_check_let_them_through(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    monkeypatch.setattr(lcb, "_STR_PICKLE_OPCODES", frozenset(op.name for op in pickletools.opcodes))
    with pytest.raises(ValueError, match=r"refused to load (posix|os|nt)\.system"):
        decode_private_tests(official_encoding(_RunsCode(marker)))
    assert not marker.exists()


def test_only_a_str_is_accepted(monkeypatch):
    with pytest.raises(ValueError, match="refused"):
        decode_private_tests(official_encoding([1, 2]))
    monkeypatch.setattr(lcb, "_STR_PICKLE_OPCODES", lcb._STR_PICKLE_OPCODES | {"BININT1"})
    with pytest.raises(ValueError, match="holds a int, not a str"):
        decode_private_tests(official_encoding(5))


def test_a_zip_bomb_is_an_error_and_never_inflates_in_full():
    bomb = base64.b64encode(zlib.compress(pickle.dumps("x" * (64 << 20)), 9)).decode()
    assert len(bomb) < 1 << 20  # 64 MiB in under 1 MiB
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="more than 1048576 bytes"):
            decode_private_tests(bomb, max_bytes=1 << 20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20


def test_a_zip_bomb_in_a_row_names_file_line_and_field(tmp_path, monkeypatch):
    monkeypatch.setattr(lcb, "MAX_DECODED_BYTES", 1 << 20)
    rows = [json.loads(line) for line in LCB_FULL_TESTS_SAMPLE.read_text().splitlines()]
    rows[1]["private_test_cases"] = base64.b64encode(zlib.compress(pickle.dumps("[" + " " * (8 << 20) + "]"))).decode()
    path = tmp_path / "bomb.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(InputFileError) as e:
        load_problems([path])
    assert (e.value.line, e.value.field) == (2, "private_test_cases") and "zip bomb" in e.value.message


@pytest.mark.parametrize(
    "text, message",
    [
        ("not base64 at all!", "neither a JSON list nor base64"),
        (base64.b64encode(b"plain bytes").decode(), "not zlib data"),
        (base64.b64encode(zlib.compress(pickle.dumps("[]"))[:-3]).decode(), "truncated"),
        (base64.b64encode(zlib.compress(pickle.dumps("[]")) + b"extra").decode(), "followed by other data"),
        (base64.b64encode(zlib.compress(pickle.dumps("[]") + b"!")).decode(), "data after the end of the pickle"),
        (base64.b64encode(zlib.compress(pickle.dumps("[]")[:-1])).decode(), "not a pickled str"),
    ],
)
def test_malformed_payloads_say_what_is_wrong(text, message):
    with pytest.raises(ValueError, match=message):
        decode_private_tests(text)
