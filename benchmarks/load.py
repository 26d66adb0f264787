"""Many CREATOR solves at once in one process, against a scripted OpenAI-compatible endpoint.

Run: ``python -m benchmarks.load [--problems 50] [--concurrency 50] [--out results/load.md]``.
The endpoint on 127.0.0.1 answers the create and decide prompts at once, so what is left
is our own work: the graph, the HTTP client, the registry and the sandbox. It reports
whether every solve finished with the right answer, throughput, peak memory, the sandbox
processes left behind (none should be), and the graph's own overhead per problem: a
solve's wall-clock time less its model calls' and its executions' time, measured one
solve at a time and under the concurrent load.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from langgraph.store.memory import InMemoryStore
from rich.progress import Progress

from benchmarks.percentiles import median_and_p95
from benchmarks.processes import live_descendants, scripted_endpoint_process
from graphs.creator import build_creator_graph
from graphs.running import SolveReport, solve
from nodes import CreatorContext
from tests.workers import product, scripted_reply


def _overhead_ms(report: SolveReport, wall_s: float) -> float:
    model = sum(call["seconds"] for call in report["model_calls"])
    executions = sum(a["result"]["seconds"] for a in report["attempts"] if a["result"])
    return 1000 * (wall_s - model - executions)


def _timed(graph: Any, a: int, b: int, context: CreatorContext) -> tuple[SolveReport, float]:
    started = time.perf_counter()
    report = solve(graph, {"problem": product(a, b)}, context)
    return report, time.perf_counter() - started


def _summary(overheads: list[float]) -> str:
    median, p95 = median_and_p95(overheads)
    return f"{median:.1f} ms median, {p95:.1f} ms p95"


def run(problems: int, concurrency: int, sequential: int, note: str) -> str:
    """Measure, and return the results as markdown (``note``: what else ran on the machine)."""
    pairs = [(a, b) for a in range(2, 40) for b in range(2, 40)][: max(problems, sequential)]
    with scripted_endpoint_process(scripted_reply) as base_url:
        context = CreatorContext(maker_model="scripted", maker_base_url=base_url)
        graph = build_creator_graph().compile(store=InMemoryStore())
        _timed(graph, 2, 3, context)  # imports, the HTTP client and the sandbox's first start
        alone = []
        with Progress() as progress:
            bar = progress.add_task("one at a time", total=sequential)
            for a, b in pairs[:sequential]:
                report, wall = _timed(graph, a, b, context)
                alone.append(_overhead_ms(report, wall))
                progress.advance(bar)
            bar = progress.add_task(f"{problems} at once", total=problems)
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=concurrency) as pool:
                futures = [pool.submit(_timed, graph, a, b, context) for a, b in pairs[:problems]]
                results = []
                for future in futures:
                    results.append(future.result())
                    progress.advance(bar)
            elapsed = time.perf_counter() - started
    right = sum(report["answer"] is not None and float(report["answer"]) == a * b
                for (report, _), (a, b) in zip(results, pairs, strict=False))  # fmt: skip
    loaded = [_overhead_ms(report, wall) for report, wall in results]
    left = live_descendants()
    attempts = [attempt for report, _ in results for attempt in report["attempts"]]
    backend = ", ".join(sorted({attempt["result"]["backend"] for attempt in attempts if attempt["result"]}))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return "\n".join(
        [
            "# Load: many CREATOR solves in one process",
            "",
            f"Command: `python -m benchmarks.load --problems {problems} --concurrency {concurrency}`",
            f"Machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
            "The endpoint is scripted (tests/fakes.py) and answers at once, from a process of its own; "
            f"every solve runs its code in the sandbox ({backend}).",
            *([f"While it ran: {note}."] if note else []),
            "",
            "| measure | value |",
            "|---|---|",
            f"| solves at once | {problems} ({concurrency} threads) |",
            f"| finished with the right answer | {right} / {problems} |",
            f"| wall-clock for all | {elapsed:.1f} s |",
            f"| throughput | {problems / elapsed:.1f} solves / s |",
            f"| peak memory of this process | {peak_mb:.0f} MB |",
            f"| processes left behind afterwards | {len(left)} |",
            f"| graph overhead per solve, one at a time ({sequential}) | {_summary(alone)} |",
            f"| graph overhead per solve, under the load | {_summary(loaded)} |",
            "",
            "Overhead is a solve's wall-clock time less its model calls' and its executions' time: "
            "LangGraph, parsing, judging and the registry. Under the load it also holds the time "
            "each thread waits for the interpreter while others work.",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--sequential", type=int, default=20, help="solves timed one at a time first")
    parser.add_argument("--out", default="results/load.md")
    parser.add_argument("--note", default="", help="what else ran on the machine, for the results file")
    args = parser.parse_args()
    markdown = run(args.problems, args.concurrency, args.sequential, args.note)
    Path(args.out).write_text(markdown)
    print(markdown)


if __name__ == "__main__":
    main()
