"""Every ```python block of ``docs/**/*.md`` and ``README.md`` runs, on each test backend.

The rules a page's code follows (``docs/getting-started.md`` states them for readers):

- **A page is one program, in pieces.** Its blocks run in order in one fresh namespace, so a
  block may use names that an earlier block of the same page defined. Each block is one test
  (id ``page:line``); that test first re-runs the page's earlier (non-skipped) blocks with their
  output discarded, so any block's test can run on its own.
- **Two ways to run async code.** A block may be a complete program ending with
  ``anyio.run(main)``: an ``anyio.run`` call without ``backend=`` runs on the test's backend (a
  call naming a backend, or ``asyncio.run``/``trio.run``, runs where it says). Or a block may use
  top-level ``await``, as in the ``python -m asyncio`` REPL, IPython or Jupyter: it is compiled
  with ``ast.PyCF_ALLOW_TOP_LEVEL_AWAIT`` and awaited inside an event loop of the test's backend.
- **Skips are written down.** A block directly preceded by a line ``<!-- skip: reason -->`` is
  skipped, and pytest shows the reason.
- flowkit's task registry is emptied before each block's test and its logger is restored after,
  as ``tests/flowkit/conftest.py`` does for flowkit's own tests.

Keep real sleeps in documented code to milliseconds: this file runs every block on every backend.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests._flowkit_isolation import isolated_flowkit

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

_FENCE_OPEN = re.compile(r"^```python\s*$")
_FENCE_CLOSE = re.compile(r"^```\s*$")
_SKIP = re.compile(r"^<!--\s*skip:\s*(.+?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    page: str  # relative to the repository root
    line: int  # 1-based line of the opening fence
    source: str
    skip: str | None

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def blocks_of(path: Path) -> list[Block]:
    """The ```python blocks of a Markdown file, in order, with their skip reasons."""
    lines = path.read_text(encoding="utf-8").splitlines()
    page = path.relative_to(ROOT).as_posix()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        if not _FENCE_OPEN.match(lines[i]):
            i += 1
            continue
        start = i
        previous = next((lines[j] for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        skip = _SKIP.match(previous)
        i += 1
        body: list[str] = []
        while i < len(lines) and not _FENCE_CLOSE.match(lines[i]):
            body.append(lines[i])
            i += 1
        if i == len(lines):
            raise ValueError(f"{page}:{start + 1}: ```python block never closed")
        # Pad with blank lines so that tracebacks give the line number in the Markdown file.
        source = "\n" * (start + 1) + "\n".join(body) + "\n"
        found.append(Block(page, start + 1, source, skip.group(1) if skip else None))
        i += 1
    return found


ALL_BLOCKS = [block for page in PAGES for block in blocks_of(page)]


def _backend(anyio_backend: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(anyio_backend, tuple):
        return anyio_backend[0], dict(anyio_backend[1])
    return anyio_backend, {}


def _execute(
    block: Block, namespace: dict[str, Any], backend: str, options: dict[str, Any]
) -> None:
    code = compile(block.source, block.id, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    if code.co_flags & inspect.CO_COROUTINE:

        async def top_level() -> None:
            await eval(code, namespace)

        _real_anyio_run(top_level, backend=backend, backend_options=options)
    else:
        exec(code, namespace)


_real_anyio_run = anyio.run


@contextlib.contextmanager
def _default_backend(backend: str, options: dict[str, Any]) -> Iterator[None]:
    """``anyio.run`` without ``backend=`` runs on ``backend`` for the duration."""

    def run(func: Any, *args: Any, backend_options: Any = None, **kwargs: Any) -> Any:
        if "backend" not in kwargs:
            kwargs["backend"] = backend
            if backend_options is None:
                backend_options = options
        return _real_anyio_run(func, *args, backend_options=backend_options, **kwargs)

    anyio.run = run  # type: ignore[assignment]
    try:
        yield
    finally:
        anyio.run = _real_anyio_run


def test_blocks_are_found() -> None:
    """The extraction itself: the pages exist and their blocks are seen."""
    pages = {block.page for block in ALL_BLOCKS}
    assert {"README.md", "docs/executor.md", "docs/pipeline.md"} <= pages
    assert all(block.source.strip() for block in ALL_BLOCKS)


@pytest.mark.parametrize("block", ALL_BLOCKS, ids=[block.id for block in ALL_BLOCKS])
def test_block_runs(
    block: Block, anyio_backend: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if block.skip is not None:
        pytest.skip(block.skip)
    backend, options = _backend(anyio_backend)
    earlier = [
        b for b in ALL_BLOCKS if b.page == block.page and b.line < block.line and b.skip is None
    ]
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    monkeypatch.chdir(tmp_path)  # files a block writes land in a fresh directory
    with _default_backend(backend, options), isolated_flowkit():
        with contextlib.redirect_stdout(io.StringIO()):
            for setup in earlier:
                _execute(setup, namespace, backend, options)
        _execute(block, namespace, backend, options)
