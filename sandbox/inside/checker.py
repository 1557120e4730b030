"""The checker: runs an assertion job's test code (HumanEval's `check(candidate)`, MBPP's
asserts), where the graded program cannot reach it. Standard library only.

It is forked by the supervisor, so it is not dumpable either: the program (the same user in
a container) cannot ptrace it, read its memory or open its descriptors. It never runs the
program's code nor holds its objects: the entry point's name and `candidate` are bound to a
proxy that sends the call's arguments (canonical form, sandbox/inside/canon.py) to the
supervisor, which hands them to the program's process as a stage, and the proxy returns the
program's result decoded to plain Python values (exact types only). The classes the tests
construct (MBPP's `Node`, `Pair`) are bound to recorders: their arguments reach the program
as descriptions it rebuilds with its own classes.

Frames on its socket, both ways: one byte of kind, four of length, the payload.
  supervisor -> checker: T (run test <index>), V (a call's result: canonical text),
                         E (the call failed: the program raised, returned non-plain data)
  checker -> supervisor: S (setup ran: {"ok", "detail"}), C (a call: canonical args),
                         R (a test's verdict: {"verdict": passed | wrong_answer, "detail"})
The verdict is the checker's account of the test code only: the supervisor makes any failed
call the test's failure whatever the checker says, and a checker that dies, hangs or
misbehaves fails the test.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import json
import random
import socket
import struct
import sys
import traceback

if __package__:
    from . import canon
else:
    import canon

FRAME = struct.Struct("!cI")
DETAIL_CHARS = 1200


class CallFailed(BaseException):
    """The program's call failed (a BaseException: a test's `except Exception` does not
    swallow it; the supervisor knows anyway)."""


def send_frame(sock: socket.socket, kind: bytes, payload: bytes) -> None:
    sock.sendall(FRAME.pack(kind, len(payload)) + payload)


def read_exactly(sock: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise EOFError()
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_frame(sock: socket.socket) -> tuple[bytes, bytes]:
    kind, length = FRAME.unpack(read_exactly(sock, FRAME.size))
    return kind, read_exactly(sock, length)


def _detail(error: BaseException) -> str:
    try:
        text = "".join(traceback.format_exception_only(type(error), error)).strip()
    except Exception:  # noqa: BLE001
        text = type(error).__name__
    return text if len(text) <= DETAIL_CHARS else text[:DETAIL_CHARS] + "...(truncated)"


def free_modules(texts: list[str]) -> list[str]:
    """Standard-library modules the test code names without importing (MBPP 596's `sys`)."""
    names: set[str] = set()
    for text in texts:
        try:
            names |= {n.id for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Name)}
        except SyntaxError:
            continue
    stdlib = getattr(sys, "stdlib_module_names", frozenset())
    return sorted(n for n in names if n in stdlib and not hasattr(builtins, n))


def serve(sock: socket.socket, job: dict) -> None:
    """Run the setup, then each test the supervisor asks for, until the socket closes."""

    failed: list[str] = []  # this test's failed calls, even if the test code swallows the exception

    def call(*args, **kwargs):
        send_frame(sock, b"C", canon.dumps((args, kwargs), objects=True))
        kind, payload = read_frame(sock)
        if kind == b"V":
            try:
                return canon.loads(payload)  # plain values only: never the program's objects
            except Exception as e:  # noqa: BLE001 -- a result file the program wrote itself (Malformed, OverflowError, ...)
                failed.append(f"malformed result: {type(e).__name__}: {str(e)[:200]}")
                raise CallFailed() from None
        failed.append("the call failed")
        raise CallFailed()

    func_name = job["func_name"]
    call.__name__ = func_name
    namespace: dict = {"__name__": "__main__", "__builtins__": builtins}

    def bind() -> None:
        namespace[func_name] = call
        namespace["candidate"] = call
        for name in job.get("test_classes") or ():
            namespace[name] = canon.recorder(name)

    bind()
    try:
        exec(compile(job.get("setup_code") or "", "<setup>", "exec"), namespace)
        bind()  # the setup's own definition of the entry point (HumanEval's prompt) is a stub
        for name in free_modules([job.get("setup_code") or "", *job["inputs"]]):
            if name not in namespace:
                namespace[name] = importlib.import_module(name)
        compiled = [compile(code, f"<test {i}>", "exec") for i, code in enumerate(job["inputs"])]
    except BaseException as e:  # noqa: BLE001 -- the data's failure, reported
        send_frame(sock, b"S", json.dumps({"ok": False, "detail": _detail(e)}).encode())
        return
    send_frame(sock, b"S", json.dumps({"ok": True}).encode())
    while True:
        try:
            kind, payload = read_frame(sock)
        except EOFError:
            return
        if kind != b"T":
            return
        index = int(payload)
        random.seed(index)  # a test that draws random inputs draws the same every time
        failed.clear()
        verdict, detail = "passed", ""
        try:
            exec(compiled[index], namespace)
        except CallFailed:
            verdict, detail = "call_failed", ""
        except AssertionError as e:
            verdict, detail = "wrong_answer", f"assertion failed: {job['inputs'][index][:300]}" + (f" ({_detail(e)})" if str(e) else "")
        except BaseException as e:  # noqa: BLE001 -- the test code raised on the program's result
            verdict, detail = "wrong_answer", f"the test raised {_detail(e)}"
        if failed:
            verdict, detail = "call_failed", failed[0]
        send_frame(sock, b"R", json.dumps({"verdict": verdict, "detail": detail}).encode())
