"""Latency and throughput of the sandbox backends against bare ``python -c``.

Run: ``python -m benchmarks.sandbox_latency [--runs N] [--out results/sandbox_latency.md]``.
Median and p95 latency of ``print(1)`` per backend, and runs per second at 1, 2 and 8
concurrent runs. Numbers depend on the machine: the results file names it.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rich.progress import track

from benchmarks.percentiles import median_and_p95
from sandbox import backend_names, get_executor

CODE = "print(1)"


def _bare_python() -> None:
    subprocess.run([sys.executable, "-I", "-c", CODE], check=True, capture_output=True)


def _backend(name: str) -> Callable[[], None]:
    executor = get_executor(name)

    def run() -> None:
        result = executor.run(CODE)
        if result["status"] != "ok":
            raise RuntimeError(f"{name}: {result}")

    return run


def _latencies(run: Callable[[], None], runs: int, label: str) -> list[float]:
    run()  # warm the page cache
    seconds = []
    for _ in track(range(runs), description=f"latency {label}"):
        started = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - started)
    return seconds


def _throughput(run: Callable[[], None], concurrency: int, runs: int) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(lambda _: run(), range(runs)))
    return runs / (time.perf_counter() - started)


def main() -> None:
    """Measure every backend and bare Python; write a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--out", type=Path, default=Path("results/sandbox_latency.md"))
    args = parser.parse_args()
    runners = {"bare python -I -c": _bare_python, **{name: _backend(name) for name in backend_names()}}
    rows = []
    baseline = None
    for label, run in runners.items():
        median, p95 = median_and_p95(s * 1000 for s in _latencies(run, args.runs, label))
        baseline = median if baseline is None else baseline
        throughput = [_throughput(run, c, args.runs) for c in (1, 2, 8)]
        rows.append((label, median, p95, median - baseline, *throughput))
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Linux {platform.release()}, "
        f"Python {platform.python_version()}; {args.runs} runs of `{CODE}` each.",
        "",
        "| backend | median ms | p95 ms | added vs bare (median) | runs/s ×1 | runs/s ×2 | runs/s ×8 |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, median, p95, added, *throughput in rows:
        lines.append(
            f"| {label} | {median:.1f} | {p95:.1f} | {added:+.1f} | "
            + " | ".join(f"{value:.1f}" for value in throughput)
            + " |"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
