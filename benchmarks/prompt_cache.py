"""The embedded server's prompt cache: the same CREATOR problems with it on, off, and off again.

Run: ``python -m benchmarks.prompt_cache [--out-dir results/prompt_cache] [--report-only]``.

Each run is ``benchmarks.creator_embedded`` (config 1.5b) in a process of its own, since the
server reads ``TOOLMAKER_EMBEDDED_PROMPT_CACHE`` when it starts; each resumes. The report
compares them problem by problem: whether the replies were the same (answer and tokens),
and the seconds of the problems whose replies were, where both runs did the same work.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

RUNS = {"on": "on", "off": "off", "off-again": "off"}
"""Results file stem → the cache setting it ran with."""


def _rows(path: Path) -> dict[str, dict[str, Any]]:
    lines = path.read_text().splitlines() if path.exists() else []
    return {row["id"]: row for row in map(json.loads, lines)}


def run(out_dir: Path) -> None:
    """Run the problems with the cache on, off, and off again (each resuming its own file)."""
    for stem, cache in RUNS.items():
        environment = {**os.environ, "TOOLMAKER_EMBEDDED_PROMPT_CACHE": cache}
        command = [sys.executable, "-m", "benchmarks.creator_embedded", "--configs", "1.5b"]
        subprocess.run([*command, "--out", str(out_dir / f"{stem}.jsonl")], env=environment, check=True)


def _same(first: dict[str, Any], second: dict[str, Any]) -> bool:
    return bool(first["answer"] == second["answer"] and first["tokens"] == second["tokens"])


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def report(out_dir: Path) -> str:
    """The comparison as markdown."""
    on, off, again = (_rows(out_dir / f"{stem}.jsonl") for stem in RUNS)
    problems = [problem for problem in off if problem in on]
    lines = [
        "# The embedded server's prompt cache",
        "",
        "`python -m benchmarks.prompt_cache`: `benchmarks.creator_embedded --configs 1.5b` with "
        "`TOOLMAKER_EMBEDDED_PROMPT_CACHE` on, off, and off again; rows in `on.jsonl`, `off.jsonl`, "
        "`off-again.jsonl`. Same reply: the same answer and token counts.",
        "",
        "| problem | same reply, on and off | same reply, off twice | seconds on | seconds off |",
        "|---|---|---|---|---|",
    ]
    for problem in problems:
        twice = _yes(_same(off[problem], again[problem])) if problem in again else "—"
        lines.append(
            f"| {problem} | {_yes(_same(on[problem], off[problem]))} | {twice} "
            f"| {on[problem]['seconds']:.1f} | {off[problem]['seconds']:.1f} |"
        )
    alike = [problem for problem in problems if _same(on[problem], off[problem])]
    seconds_on = sum(on[problem]["seconds"] for problem in alike)
    seconds_off = sum(off[problem]["seconds"] for problem in alike)
    repeated = [problem for problem in problems if problem in again]
    lines += [
        "",
        f"- same reply with the cache on and off: {len(alike)} of {len(problems)}",
        f"- same reply, off twice: {sum(_same(off[p], again[p]) for p in repeated)} of {len(repeated)}",
        f"- correct: on {sum(on[p]['correct'] for p in problems)}, "
        f"off {sum(off[p]['correct'] for p in problems)}",
    ]
    if alike and seconds_on:
        lines.append(
            f"- seconds of the {len(alike)} problems with the same reply: on {seconds_on:.1f}, "
            f"off {seconds_off:.1f} ({100 * (seconds_off / seconds_on - 1):+.1f}%)"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    """Parse arguments, run (unless ``--report-only``), and write ``OUT_DIR/prompt_cache.md``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out-dir", type=Path, default=Path("results/prompt_cache"))
    parser.add_argument("--report-only", action="store_true", help="only compare the rows already written")
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    if not args.report_only:
        run(args.out_dir)
    text = report(args.out_dir)
    (args.out_dir / "prompt_cache.md").write_text(text)
    print(text, end="")


if __name__ == "__main__":
    main()
