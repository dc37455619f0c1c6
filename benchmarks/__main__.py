"""Run every benchmark and print one report: ``python -m benchmarks [--quick]``.

Each figure is printed beside its baseline measured in the same run, with the ratio of the
medians and min/median/max over the repeats; the report also goes to ``docs/img/benchmarks.png``
(needs matplotlib: ``pip install -e ".[bench]"``), which the docs' benchmarks page shows.
``--quick`` (a tenth of the work, 3 repeats) is a smoke run of a minute or two; its figures are
noisier and are not the ones to publish.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from benchmarks._harness import BACKENDS
from benchmarks._report import MODULES, Row, available, print_report, run_module, write_chart

DEFAULT_CHART = Path(__file__).resolve().parent.parent / "docs" / "img" / "benchmarks.png"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="less work and 3 repeats")
    parser.add_argument("--backend", choices=[*BACKENDS, "all"], default="all")
    parser.add_argument("--repeats", type=int, help="repeats per contender (module default)")
    parser.add_argument("--only", nargs="+", metavar="MODULE", help="run these modules only")
    parser.add_argument("--chart", type=Path, default=DEFAULT_CHART, help="where the PNG goes")
    parser.add_argument("--no-chart", action="store_true", help="do not write the PNG")
    args = parser.parse_args()
    repeats = args.repeats if args.repeats is not None else (3 if args.quick else None)
    backends = BACKENDS if args.backend == "all" else (args.backend,)
    modules = [m for m in MODULES if not args.only or m.name in args.only]
    if args.only:
        unknown = set(args.only) - {m.name for m in MODULES}
        if unknown:
            parser.error(
                f"unknown modules {sorted(unknown)}; choose from {[m.name for m in MODULES]}"
            )

    rows: list[Row] = []
    started = time.perf_counter()
    for module in modules:
        if not available(module):
            print(f"\n-- benchmarks.{module.name}: not in this checkout, skipped")
            continue
        for backend in backends:
            print(f"\n-- benchmarks.{module.name} [{backend}]", flush=True)
            found = run_module(module, backend, args.quick, repeats)
            if not found:
                print(f"-- benchmarks.{module.name} recorded no rows: only its output above")
            rows.extend(found)
    print(f"\nall benchmarks ran in {time.perf_counter() - started:.0f} s\n")
    print_report(rows)
    if not args.no_chart and rows:
        write_chart(rows, args.chart)
        print(f"chart written to {args.chart.name} (docs/img/)")


if __name__ == "__main__":
    main()
