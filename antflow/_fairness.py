"""How often the engine's hot loops yield to the event loop, whatever the work does.

Taking an item already queued, and a call that returns without awaiting, are not checkpoints.
A loop of them would keep every other task of the event loop waiting (200,000 calls that never
await held it for 2-3 s), and trio's rule is that a long-running loop must yield. So the stage
workers, the pipeline's feeder, the executor's workers and ``as_completed`` over futures already
done each checkpoint at least once every :data:`CHECKPOINT_EVERY` items they handle without
waiting.
"""

from __future__ import annotations

__all__ = ["CHECKPOINT_EVERY"]

#: A checkpoint costs a turn of the event loop (5-10 us). Every 128 items it costs under 1% of
#: pipeline_throughput and executor_throughput (callgrind instruction counts; 1.7% at 64), and
#: other tasks still get a turn every ~50 us when the work itself is nothing.
CHECKPOINT_EVERY = 128
