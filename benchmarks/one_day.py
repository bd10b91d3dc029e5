"""A built project's rebuilds, with the time of each stage: nothing changed, then one more
synthetic day (benchmarks/bench.py's), then nothing changed again, each in this process.

    python benchmarks/one_day.py PROJECT [--date YYYY-MM-DD] [--again N]

PROJECT is a folder bench.py built (``--work DIR`` keeps them: ``DIR/n100000``). The day is
added to its content folder, so each run needs a new date (the default is the day after its
newest digest).
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench  # noqa: E402

from generator.build import build  # noqa: E402


def timed(label: str) -> None:
    stages: list[tuple[str, float]] = []
    start = time.perf_counter()
    result = build(Path("content"), config_file=Path("mkdocs.yml"), out=Path("site"),
                   progress=lambda stage, seconds, _: seconds is not None
                   and stages.append((stage, seconds)))
    spent = time.perf_counter() - start
    print(f"| {label} | {spent:.2f} | {' '.join(f'{s}={t:.2f}' for s, t in stages) or '-'} "
          f"| {result.written} |", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--date", type=datetime.date.fromisoformat)
    parser.add_argument("--again", type=int, default=3)
    args = parser.parse_args()
    os.chdir(args.project)
    newest = max(datetime.date.fromisoformat(p.stem)
                 for p in Path("content/digests").glob("*.yaml"))
    date = args.date or newest + datetime.timedelta(days=1)
    print("| build | seconds | stages (seconds) | files written |\n| --- | ---: | --- | ---: |")
    timed("nothing changed")
    bench.one_more_day(Path.cwd(), date)
    timed(f"one more day ({date}, {bench.PER_DAY} papers)")
    for _ in range(args.again):
        timed("nothing changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
