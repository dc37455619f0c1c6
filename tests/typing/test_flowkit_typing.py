"""Run mypy on flowkit_typing.py: a wrong direct call of a task is a type error, and a task's
call has its function's return type."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

api = pytest.importorskip("mypy.api")

CHECKED = Path(__file__).with_name("flowkit_typing.py")


def _expected() -> set[tuple[int, str, str]]:
    """``(line, kind, text)`` for each marked line: ``error``/code or ``note``/revealed type."""
    found = set()
    for number, line in enumerate(CHECKED.read_text(encoding="utf-8").splitlines(), 1):
        if m := re.search(r"# E: (\S+)$", line):
            found.add((number, "error", m.group(1)))
        elif m := re.search(r"# R: (.+)$", line):
            found.add((number, "note", f'Revealed type is "{m.group(1)}"'))
    return found


def _reported(output: str) -> set[tuple[int, str, str]]:
    found = set()
    for line in output.splitlines():
        m = re.match(r".*flowkit_typing\.py:(\d+): (error|note): (.*)$", line)
        if m is None:
            continue
        number, kind, text = int(m.group(1)), m.group(2), m.group(3)
        if kind == "error":
            code = re.search(r"\[([a-z-]+)\]$", text)
            found.add((number, kind, code.group(1) if code else text))
        elif text.startswith("Revealed type"):
            found.add((number, kind, text))
    return found


def test_mypy_keeps_the_signature_of_a_task() -> None:
    stdout, stderr, _ = api.run(
        [
            "--strict",
            "--show-error-codes",
            "--no-incremental",
            "--cache-dir",
            "/dev/null" if Path("/dev/null").exists() else "nul",
            "--no-error-summary",
            str(CHECKED),
        ]
    )
    assert stderr == ""
    expected = _expected()
    assert len(expected) == 8
    assert _reported(stdout) == expected, stdout
