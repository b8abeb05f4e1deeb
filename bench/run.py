"""`make bench`: what each cart operation costs, beside its target.

    .venv/bin/python bench/run.py [--skip-local] [--skip-assets]

Prints a table and writes bench/results/bench.json. Sections: AWS requests per operation (in-process,
counted with botocore's before-send event on the runtime's own clients), handler time in-process,
latency p50/p95 through the local stack, cold-start import times, asset sizes, aggregator throughput,
and what each operation the cost model prices is billed for (bench.json's `operations`, `background`
and `capacity`, read by scripts/cost_model.py).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# Like pytest's pythonpath: the repository (tests.*, bench.*) and runtime/ (cart, products).
for entry in (str(REPO_ROOT), str(REPO_ROOT / "runtime")):
    if entry not in sys.path:
        sys.path.insert(0, entry)

from bench import inprocess, memory, system  # noqa: E402


def table(figures: list[inprocess.Figure]) -> str:
    rows = [("group", "figure", "measured", "target", "unit", "ok")]
    for figure in figures:
        ok = "-" if figure.met is None else ("yes" if figure.met else "MISS")
        rows.append((figure.group, figure.name, str(figure.measured), str(figure.target), figure.unit, ok))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-local", action="store_true", help="no latency through the local stack")
    parser.add_argument(
        "--skip-assets", action="store_true", help="no asset sizes (pip download of the layer)"
    )
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "results" / "bench.json")
    arguments = parser.parse_args(argv)
    started = time.monotonic()
    figures, cost = inprocess.measure()
    figures += system.cold_start()
    if not arguments.skip_local:
        figures += system.latency()
        figures += memory.rss_over_rounds()
    if not arguments.skip_assets:
        figures += system.asset_sizes()
    print(table(figures))
    missed = [f for f in figures if f.met is False]
    print(
        f"\n{len(figures)} figures, {len(missed)} miss their target; took {time.monotonic() - started:.0f} s"
    )
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    arguments.out.write_text(
        json.dumps(
            {
                "command": "make bench",
                "machine": {
                    "python": platform.python_version(),
                    "platform": platform.platform(),
                    "cpus": __import__("os").cpu_count(),
                },
                "figures": [figure.as_dict() for figure in figures],
                # What scripts/cost_model.py reads (keys of docs/cost-inputs.json): per-call counts of
                # the priced operations, the background rates, and how capacity was measured.
                **cost,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {arguments.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
