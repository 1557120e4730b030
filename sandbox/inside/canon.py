"""The canonical form of values crossing the sandbox's walls: the one implementation of
encoding and decoding, used by the program side (results), the checker (assertion tests'
arguments and results) and the host (sandbox/compare.py). Standard library only.

A value is JSON where only None, bool, int, float and str appear as themselves and a list
as a list; the rest is tagged, one key per object:
  {"t": [...]} tuple            {"d": [[key, value], ...]} dict
  {"s": [...]} set              {"f": [...]} frozenset        {"c": [real, imag]} complex
  {"y": "int"} a builtin type (int, str, ... as MBPP passes them)
  {"o": [ref, "Class", args, kwargs, attrs]} and {"r": ref}: an object of a class the
      program defines, described by the checker (an assertion test's argument only)
Exact types only: a subclass of int whose __eq__ always says yes is not plain data, and
nothing of a program's value is ever called. Counter, defaultdict and OrderedDict are
dicts here. `extended=False` is the functional (LiveCodeBench) form: no sets, complex,
types or collections' dicts, as lcb_runner's JSON has none.
"""

from __future__ import annotations

import collections
import json
import sys

MAX_DEPTH = 200  # nesting of a value
BUILTIN_TYPES = {t.__name__: t for t in (int, float, str, bool, list, tuple, dict, set, frozenset, complex, bytes, type(None))}
_TYPE_NAMES = {t: name for name, t in BUILTIN_TYPES.items()}
_DICTS = (dict, collections.Counter, collections.defaultdict, collections.OrderedDict)


class Unplain(Exception):
    """The value is not plain data."""


class Malformed(ValueError):
    """The data breaks the canonical form."""


class Described:
    """What the checker builds when an assertion test constructs one of the program's
    classes (`Node(1)`, `root.left = Node(2)`): the constructor's name and arguments and the
    attributes set later, as data. The program side rebuilds the object with its own class."""

    __slots__ = ("_cls", "_args", "_kwargs", "_attrs")

    def __init__(self, cls: str, args: tuple, kwargs: dict):
        object.__setattr__(self, "_cls", cls)
        object.__setattr__(self, "_args", args)
        object.__setattr__(self, "_kwargs", kwargs)
        object.__setattr__(self, "_attrs", {})

    def __setattr__(self, name: str, value: object) -> None:
        self._attrs[name] = value

    def __getattr__(self, name: str) -> object:
        try:
            return object.__getattribute__(self, "_attrs")[name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        return f"{self._cls}(...)"


def recorder(cls: str):
    """The name a test's code calls in place of the program's class `cls`."""

    def construct(*args, **kwargs) -> Described:
        return Described(cls, args, kwargs)

    construct.__name__ = cls
    return construct


def encode(value: object, extended: bool = True, objects: bool = False) -> object:
    """`value` as canonical JSON data; Unplain when it is not plain data. `objects`: Described
    values are allowed (the checker's arguments)."""
    return _encode(value, 0, extended, {} if objects else None)


def _encode(value: object, depth: int, extended: bool, seen: dict | None) -> object:
    kind = type(value)
    if value is None or kind is bool or kind is int or kind is float or kind is str:
        return value
    if depth >= MAX_DEPTH:
        raise Unplain("a value nested too deep")
    if kind is list:
        return [_encode(v, depth + 1, extended, seen) for v in value]
    if kind is tuple:
        return {"t": [_encode(v, depth + 1, extended, seen) for v in value]}
    if kind is dict or (extended and kind in _DICTS):
        return {"d": [[_encode(k, depth + 1, extended, seen), _encode(v, depth + 1, extended, seen)] for k, v in value.items()]}
    if extended:
        if kind is set or kind is frozenset:
            return {"s" if kind is set else "f": [_encode(v, depth + 1, extended, seen) for v in value]}
        if kind is complex:
            return {"c": [value.real, value.imag]}
        if kind is type and value in _TYPE_NAMES:
            return {"y": _TYPE_NAMES[value]}
        if kind is Described and seen is not None:
            key = id(value)
            if key in seen:
                return {"r": seen[key]}
            seen[key] = len(seen)
            args = [_encode(v, depth + 1, extended, seen) for v in value._args]
            kwargs = [[k, _encode(v, depth + 1, extended, seen)] for k, v in value._kwargs.items()]
            attrs = [[k, _encode(v, depth + 1, extended, seen)] for k, v in value._attrs.items()]
            return {"o": [seen[key], value._cls, args, kwargs, attrs]}
    numpy = sys.modules.get("numpy")
    if numpy is not None and kind in _numpy_scalars(numpy):
        return _encode(value.item(), depth, extended, seen)  # a numpy scalar compares as its Python value
    raise Unplain(kind.__name__)


def _numpy_scalars(numpy) -> tuple:
    return tuple(
        getattr(numpy, name)
        for name in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "float32", "float64", "bool_")
        if hasattr(numpy, name)
    )


def dumps(value: object, extended: bool = True, objects: bool = False) -> bytes:
    """The canonical text of `value`; Unplain when it is not plain data (or an int is past
    the interpreter's digit limit: ValueError)."""
    return json.dumps(encode(value, extended, objects), allow_nan=True).encode()


def loads(text: str | bytes, extended: bool = True, classes: dict | None = None) -> object:
    """The plain value a canonical text stands for; Malformed when it is not one. `classes`:
    name -> the program's class, to rebuild described objects (the program side only)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise Malformed(f"not JSON ({type(e).__name__})") from None
    return decode(data, extended, classes)


def decode(data: object, extended: bool = True, classes: dict | None = None) -> object:
    return _decode(data, 0, extended, classes, {})


def _decode(data: object, depth: int, extended: bool, classes: dict | None, made: dict) -> object:
    kind = type(data)
    if data is None or kind in (bool, int, float, str):
        return data
    if depth >= MAX_DEPTH:
        raise Malformed("nested too deep")
    if kind is list:
        return [_decode(v, depth + 1, extended, classes, made) for v in data]
    if kind is dict and len(data) == 1:
        ((tag, inner),) = data.items()
        if tag == "t" and type(inner) is list:
            return tuple(_decode(v, depth + 1, extended, classes, made) for v in inner)
        if tag == "d" and type(inner) is list:
            if not all(type(p) is list and len(p) == 2 for p in inner):
                raise Malformed("a dict's items are not pairs")
            try:
                return {_decode(k, depth + 1, extended, classes, made): _decode(v, depth + 1, extended, classes, made) for k, v in inner}
            except TypeError:  # an unhashable key: no Python dict has one
                raise Malformed("a dict key is not hashable") from None
        if extended:
            if tag in ("s", "f") and type(inner) is list:
                try:
                    items = (_decode(v, depth + 1, extended, classes, made) for v in inner)
                    return set(items) if tag == "s" else frozenset(items)
                except TypeError:
                    raise Malformed("a set element is not hashable") from None
            if tag == "c" and type(inner) is list and len(inner) == 2 and all(type(v) in (int, float) for v in inner):
                try:
                    return complex(inner[0], inner[1])
                except OverflowError:  # an int past a float's range: no complex holds it
                    raise Malformed("a complex part out of range") from None
            if tag == "y" and type(inner) is str and inner in BUILTIN_TYPES:
                return BUILTIN_TYPES[inner]
            if classes is not None and tag == "r" and type(inner) is int and inner in made:
                return made[inner]
            if classes is not None and tag == "o":
                return _rebuild(inner, depth, extended, classes, made)
    raise Malformed(f"{kind.__name__} data outside the canonical form")


def _rebuild(inner: object, depth: int, extended: bool, classes: dict, made: dict) -> object:
    if not (type(inner) is list and len(inner) == 5 and type(inner[0]) is int and type(inner[1]) is str):
        raise Malformed("a malformed object description")
    ref, name, args, kwargs, attrs = inner
    if name not in classes or not all(type(x) is list for x in (args, kwargs, attrs)):
        raise Malformed(f"an object of class {name!r}, which is not one the tests construct")
    if not all(type(p) is list and len(p) == 2 and type(p[0]) is str for p in kwargs + attrs):
        raise Malformed("a malformed object description")
    positional = [_decode(v, depth + 1, extended, classes, made) for v in args]
    named = {k: _decode(v, depth + 1, extended, classes, made) for k, v in kwargs}
    obj = classes[name](*positional, **named)  # the program's own class (the program side only)
    made[ref] = obj
    for k, v in attrs:
        setattr(obj, k, _decode(v, depth + 1, extended, classes, made))
    return obj
