"""Dynamic mapping: fan out over a list known only at run time.

``list_pages`` decides at run time which pages there are; ``fetch.map(list_pages)`` runs
``fetch`` once per page, as ``fetch[0]``, ``fetch[1]``, ..., each with its own retries, at most
``max_workers`` at a time; ``summarize`` gets the list of results in page order. One page fails
on the first run; with the state saved to a file, the second run fetches that page only.

Run: ``python examples/dynamic_mapping.py [--backend asyncio|trio]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import anyio

from flowkit import DAG, StateManager, task

fetched: list[str] = []
server_fixed = False


@task()
def list_pages() -> list[str]:
    return [f"/page/{n}" for n in range(1, 7)]


@task()
def site() -> str:
    return "https://example.org"


@task(retries=1, delay=0.01)
async def fetch(page: str, site: str) -> int:
    await anyio.sleep(0.005)  # the request
    fetched.append(page)
    if page == "/page/6" and not server_fixed:
        raise ConnectionError(f"{site}{page}: 503")
    return int(page.rsplit("/", 1)[1]) * 1_000  # its size


@task(when=lambda sizes: bool(sizes))
def summarize(sizes: list[int]) -> str:
    return f"{len(sizes)} pages, {sum(sizes):,} bytes"


fetch.map(list_pages, unmapped=site) >> summarize


def main(backend: str) -> None:
    global server_fixed
    dag = DAG("crawl", max_workers=3)
    print(dag.visualize())
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "state.json"
        try:
            dag.run(state=StateManager(storage_path=path), backend=backend)
        except ConnectionError as exc:
            notes = getattr(exc, "__notes__", [])  # Python >= 3.11: which element raised it
            print(f"first run failed: {exc}", *notes)
        print("fetched on the first run:", len(fetched), "calls")

        server_fixed = True
        fetched.clear()
        results = dag.run(state=StateManager(storage_path=path), backend=backend)
        print("fetched on the second run:", fetched)
        print("sizes:", results["fetch"])
        print("summary:", results["summarize"])
        assert fetched == ["/page/6"]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    try:
        main(parser.parse_args().backend)
    except KeyboardInterrupt:
        sys.exit(130)
