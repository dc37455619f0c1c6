from __future__ import annotations

import io
import json
import subprocess
import sys

from flowkit import DAG, FlowkitLogger, LogLevel, configure_logging, task


def test_importing_and_running_prints_nothing_until_configured() -> None:
    code = (
        "from flowkit import task, DAG\n"
        "@task()\n"
        "def boom():\n"
        "    raise ValueError('x')\n"
        "try:\n"
        "    DAG().run()\n"
        "except ValueError:\n"
        "    pass\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == ""
    assert out.stderr == ""


async def test_json_output_is_one_object_per_line() -> None:
    stream = io.StringIO()
    logger = configure_logging(level=LogLevel.DEBUG, json_output=True, stream=stream)
    assert isinstance(logger, FlowkitLogger)

    @task()
    def hello() -> str:
        return "hi"

    await DAG("greet").run_async()
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert {"SYSTEM", "DEBUG", "SUCCESS"} <= {r["level"] for r in records}
    assert any(r.get("task") == "hello" for r in records)
    assert all(r["logger"] == "flowkit" for r in records)


def test_text_lines_carry_the_level_label_and_respect_the_level() -> None:
    stream = io.StringIO()
    log = configure_logging(level=LogLevel.INFO, use_colors=False, stream=stream)
    log.debug("hidden")
    log.info("shown")
    log.success("done")
    log.system("worker released")
    log.warning("slow")
    log.error("bad")
    lines = stream.getvalue().splitlines()
    assert [line.split("  ", 1)[1] for line in lines] == [
        "[INFO] shown",
        "[SUCCESS] done",
        "[SYSTEM] worker released",
        "[WARN] slow",
        "[ERROR] bad",
    ]


def test_colors_go_through_rich_as_ansi_codes() -> None:
    stream = io.StringIO()
    configure_logging(use_colors=True, stream=stream).error("bad")
    assert "\x1b[31m[ERROR]" in stream.getvalue()


def test_configuring_twice_does_not_double_lines() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging(stream=first, use_colors=False)
    configure_logging(stream=second, use_colors=False).info("once")
    assert first.getvalue() == ""
    assert len(second.getvalue().splitlines()) == 1
