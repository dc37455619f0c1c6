"""A batch API client: prepare requests, call a rate-limited API, parse the answers.

The "Call" stage has 16 workers, but the API allows 200 calls per second and at most 4 open
connections: ``call_rate=200, call_rate_period=1.0`` and ``call_concurrency=4`` on the stage,
and the task wraps only the call in ``rate_limit()`` and ``concurrency_limit()``, so building
the request and reading the answer run on all 16 workers at once. Before a cheap status poll,
``call_rate_has_capacity()`` tells whether the budget has room; if not, the poll is skipped
rather than waited for. The API is simulated (a few milliseconds per call), so the run
takes about a second and a half: a burst of 200 calls, then 200 per second (polls included).

Run: ``python examples/batch_api_client.py [--backend asyncio|trio]``
"""

from __future__ import annotations

import argparse
import sys
import time

import anyio
import anyio.lowlevel

from antflow import Pipeline, Stage
from antflow.context import (
    call_rate_has_capacity,
    concurrency_limit,
    rate_limit,
    set_task_status,
)

REQUESTS = 360
CALL_RATE = 200  # calls per second the API allows
CONNECTIONS = 4  # connections the API allows at once


class FakeBatchAPI:
    """Answers after a few milliseconds; records when each call came and the peak of open ones."""

    def __init__(self) -> None:
        self.calls: list[float] = []
        self.open = 0
        self.peak = 0
        self.polls = 0
        self.skipped_polls = 0

    async def submit(self, request: dict[str, object]) -> dict[str, object]:
        self.calls.append(time.monotonic())
        self.open += 1
        self.peak = max(self.peak, self.open)
        try:
            await anyio.sleep(0.003)
        finally:
            self.open -= 1
        return {"id": request["custom_id"], "status": "completed", "tokens": len(request["body"])}

    async def poll(self) -> None:
        self.calls.append(time.monotonic())
        self.polls += 1
        await anyio.lowlevel.checkpoint()


api = FakeBatchAPI()


async def prepare(n: int) -> dict[str, object]:
    return {"custom_id": f"req-{n}", "body": "summarize: " + "lorem " * (n % 7 + 1)}


async def call(request: dict[str, object]) -> dict[str, object]:
    set_task_status("waiting for the rate budget")
    async with rate_limit(), concurrency_limit():
        set_task_status("calling the API")
        answer = await api.submit(request)
    # An optional status poll: made only if the budget has room now, never waited for.
    if call_rate_has_capacity():
        async with rate_limit(), concurrency_limit():
            await api.poll()
    else:
        api.skipped_polls += 1
    return answer


async def parse(answer: dict[str, object]) -> int:
    tokens = answer["tokens"]
    assert isinstance(tokens, int)
    return tokens


async def main() -> None:
    pipeline = Pipeline(
        stages=[
            Stage("Prepare", 2, [prepare]),
            Stage(
                "Call",
                16,
                [call],
                call_rate=CALL_RATE,
                call_rate_period=1.0,
                call_concurrency=CONNECTIONS,
            ),
            Stage("Parse", 2, [parse]),
        ]
    )
    started = time.monotonic()
    results = await pipeline.run(
        range(REQUESTS), dashboard="compact", dashboard_update_interval=0.2
    )
    elapsed = time.monotonic() - started
    span = api.calls[-1] - api.calls[0]
    bound = CALL_RATE + CALL_RATE * span  # the bucket's burst, plus its rate over the span
    answered = sum(r.value for r in results)
    print(f"{len(results)} requests answered in {elapsed:.2f} s, {answered} tokens")
    print(
        f"{len(api.calls)} API calls in {span:.2f} s: at most {bound:.0f} allowed "
        f"(a burst of {CALL_RATE}, then {CALL_RATE}/s)"
    )
    print(f"at most {api.peak} calls open at once (limit {CONNECTIONS}), on 16 workers")
    print(f"optional polls made: {api.polls}, skipped for lack of budget: {api.skipped_polls}")
    assert len(results) == REQUESTS
    assert api.peak <= CONNECTIONS
    assert len(api.calls) <= bound + 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    try:
        anyio.run(main, backend=parser.parse_args().backend)
    except KeyboardInterrupt:  # Ctrl-C: stop quietly, with the usual status
        sys.exit(130)
