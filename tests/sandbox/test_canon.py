"""The one canonical form (sandbox/inside/canon.py): exact rebuilds of plain values, the
extended types MBPP's results and arguments use, described objects rebuilt with the
program's classes, and refusals: subclasses, objects, malformed data."""

from __future__ import annotations

import collections
import json
import math

import pytest

from sandbox.compare import decode_value
from sandbox.inside import canon

PLAIN = [None, True, 0, -5, 10**60, 1.5, "x\u00e9", [], [1, [2, (3, "a")]], (), (1,), {"a": 1, 2: [3], (1, 2): None}]
EXTENDED = [{1, 2}, frozenset({"a"}), {frozenset({1}): (1, 2)}, 1 + 2j, complex(0, -1.5), int, str, type(None), [{(1, 2)}, {3: {4}}]]


@pytest.mark.parametrize("value", PLAIN + EXTENDED)
def test_values_rebuild_exactly_with_their_types(value):
    rebuilt = canon.loads(canon.dumps(value))
    assert rebuilt == value and _types(rebuilt) == _types(value)


def _types(value):
    if isinstance(value, (list, tuple, set, frozenset)):
        return (type(value), sorted(map(repr, map(_types, value))))
    if isinstance(value, dict):
        return (type(value), sorted(repr((_types(k), _types(v))) for k, v in value.items()))
    return type(value)


def test_collections_dicts_are_dicts():
    for value in (collections.Counter("abca"), collections.defaultdict(list, {1: [2]}), collections.OrderedDict(a=1)):
        rebuilt = canon.loads(canon.dumps(value))
        assert type(rebuilt) is dict and rebuilt == dict(value)


def test_nan_and_infinity_cross():
    rebuilt = canon.loads(canon.dumps([math.inf, -math.inf, math.nan]))
    assert rebuilt[:2] == [math.inf, -math.inf] and math.isnan(rebuilt[2])


class Sub(int):
    pass


class Obj:
    pass


@pytest.mark.parametrize("value", [Sub(3), [Sub(3)], Obj(), (x for x in "ab"), {1: Obj()}, collections.UserDict(), bytearray(b"x"), len])
def test_what_is_not_plain_data_is_refused(value):
    with pytest.raises(canon.Unplain):
        canon.dumps(value)


def test_the_functional_form_keeps_lcbs_types_only():
    for value in EXTENDED[:5] + [collections.Counter("a")]:
        with pytest.raises(canon.Unplain):
            canon.dumps(value, extended=False)
    for text in ('{"s": [1]}', '{"c": [1, 2]}', '{"y": "int"}', '{"o": [0, "Node", [], [], []]}'):
        with pytest.raises(canon.Malformed):
            decode_value(text)  # the host's functional decoder
        assert text.startswith('{"o"') or canon.loads(text) is not None


def test_nesting_is_bounded_both_ways():
    deep: list = []
    for _ in range(canon.MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(canon.Unplain):
        canon.dumps(deep)
    with pytest.raises(canon.Malformed):
        canon.loads("[" * 5000 + "]" * 5000)


@pytest.mark.parametrize(
    "text", ['{"d": [[[1], 2]]}', '{"s": [[1]]}', '{"t": 1}', '{"x": 1}', '{"c": ["a", 1]}', '{"y": "os"}', "not json", '{"d": [1]}']
)
def test_malformed_data_is_refused(text):
    with pytest.raises(canon.Malformed):
        canon.loads(text)


class Node:
    def __init__(self, data):
        self.data = data
        self.left = None
        self.right = None


def test_described_objects_are_rebuilt_with_the_programs_class_shared_references_kept():
    Recorded = canon.recorder("Node")
    root = Recorded(1)
    root.left = Recorded(2)
    root.right = root.left  # shared
    root.left.left = Recorded(4)
    text = canon.dumps(((root, [root.left]), {}), objects=True)
    (rebuilt, again), kwargs = canon.loads(text, classes={"Node": Node})
    assert kwargs == {} and type(rebuilt) is Node and rebuilt.data == 1
    assert rebuilt.left is rebuilt.right is again[0] and rebuilt.left.left.data == 4 and rebuilt.left.right is None
    with pytest.raises(canon.Malformed):
        canon.loads(text)  # without the program's classes (the checker, the host): never an object
    with pytest.raises(canon.Malformed):
        canon.loads(text, classes={"Pair": Node})  # only the classes the tests construct
    with pytest.raises(canon.Unplain):
        canon.dumps(root)  # a result may not hold one


def test_a_description_is_plain_json():
    Pair = canon.recorder("Pair")
    data = json.loads(canon.dumps([Pair(5, 24), Pair(b=1, a=2)], objects=True))
    assert data == [{"o": [0, "Pair", [5, 24], [], []]}, {"o": [1, "Pair", [], [["b", 1], ["a", 2]], []]}]
