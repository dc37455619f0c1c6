"""Check a built site's API reference: no raw Sphinx role, no constant name as a default.

Run by the ``docs`` nox session after the build (``python docs/_ext/check_api_pages.py SITE``)
and by ``tests/test_docs_api.py``. Exits 1, listing each finding, if a page of ``SITE/api/``
shows a role such as ``:class:`` as text or a signature default such as ``DEFAULT_MAX_WORKERS``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

_RAW_ROLE = re.compile(r":(?:py:)?(?:class|meth|func|attr|exc|mod|data|obj|const):(?:`|<code>)")
_CONSTANT_DEFAULT = re.compile(
    r'<span class="o">=</span>\s*<span class="n">([A-Z][A-Z0-9_]+)</span>'
)


def findings(site: Path) -> list[str]:
    """Each raw role and each constant-name default on the API pages of the site at ``site``."""
    pages = sorted((site / "api").rglob("*.html"))
    if not pages:
        return [f"no API pages under {site / 'api'}: is it a built site?"]
    found = []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        name = page.relative_to(site).as_posix()
        found += [f"{name}: raw role {m.group(0)!r}" for m in _RAW_ROLE.finditer(text)]
        found += [f"{name}: default shown as {m[1]}" for m in _CONSTANT_DEFAULT.finditer(text)]
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python docs/_ext/check_api_pages.py SITE_DIR", file=sys.stderr)
        return 2
    problems = findings(Path(argv[0]))
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
