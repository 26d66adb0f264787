"""Latency per call of the sandboxed REPL against langchain-experimental's in-process one.

Run: ``python -m benchmarks.repl_latency [--cells 20] [--out results/repl_latency.md]``.
One session of ``--cells`` cells that each build on the one before, through
``PythonREPL`` (``exec`` in this process) and through ``SandboxedPythonREPL`` (a fresh
confined process per call that replays the session's earlier cells first).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from sandbox.repl import SandboxedPythonREPL


def _cells(count: int) -> list[str]:
    return ["total = 0"] + [f"total += {index}\nprint(total)" for index in range(1, count)]


def _timed(run: Callable[[str], str], cells: list[str]) -> tuple[list[float], list[str]]:
    seconds, outputs = [], []
    for cell in cells:
        started = time.perf_counter()
        outputs.append(run(cell))
        seconds.append(1000 * (time.perf_counter() - started))
    return seconds, outputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=20)
    parser.add_argument("--out", default="results/repl_latency.md")
    parser.add_argument("--note", default="", help="what else ran on the machine, for the results file")
    args = parser.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from langchain_experimental.utilities import PythonREPL
    cells = _cells(args.cells)
    theirs, their_outputs = _timed(PythonREPL().run, cells)
    ours, our_outputs = _timed(SandboxedPythonREPL().run, cells)
    same = sum(a == b for a, b in zip(their_outputs, our_outputs, strict=True))
    rows = [
        ("langchain-experimental `PythonREPL` (exec in this process)", theirs),
        ("`SandboxedPythonREPL` (a confined process per call, replaying the session)", ours),
    ]
    lines = [
        "# REPL latency per call",
        "",
        f"Command: `python -m benchmarks.repl_latency --cells {args.cells}`",
        f"Machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        *([f"While it ran: {args.note}."] if args.note else []),
        "",
        "| REPL | median ms | first cell ms | last cell ms | whole session s |",
        "|---|---|---|---|---|",
        *(
            f"| {name} | {statistics.median(ms):.2f} | {ms[0]:.2f} | {ms[-1]:.2f} | {sum(ms) / 1000:.2f} |"
            for name, ms in rows
        ),
        "",
        f"The same output from both on {same} of {len(cells)} cells.",
        "",
    ]
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
