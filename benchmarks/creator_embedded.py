"""Seconds, tokens and accuracy of CREATOR per problem on the embedded models.

Run: ``python -m benchmarks.creator_embedded [--configs ...] [--out results/...]``.
Resumable: rows already in the JSONL file are kept and not run again.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
from pathlib import Path
from typing import Any

from rich.progress import track

from benchmarks.problems import PROBLEMS
from graphs.creator import build_creator_graph
from graphs.running import solve
from nodes.common.grading import grade_numeric
from nodes.creator.context import CreatorContext

CONFIGS: dict[str, CreatorContext] = {
    "1.5b": CreatorContext(creator_role="maker"),
    "1.5b-self-checks": CreatorContext(creator_role="maker", self_checks=True),
    "0.5b": CreatorContext(creator_role="user"),
    "0.5b-self-checks": CreatorContext(creator_role="user", self_checks=True),
}


def run(configs: list[str], out: Path) -> list[dict[str, Any]]:
    """Run every (config, problem) pair not yet in ``out``; return all rows."""
    rows = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    done = {(row["config"], row["id"]) for row in rows}
    graph = build_creator_graph().compile()
    todo = [(c, p) for c in configs for p in PROBLEMS if (c, p["id"]) not in done]
    for config, problem in track(todo, description="CREATOR on the embedded models"):
        report = solve(
            graph, {"problem": problem["problem"], "table": problem.get("table", "")}, CONFIGS[config]
        )
        row = {
            "config": config,
            "id": problem["id"],
            "gold": problem["answer"],
            "answer": report["answer"],
            "correct": grade_numeric(report["answer"], str(problem["answer"])),
            "status": report["status"],
            "rounds": report["rounds"],
            "seconds": report["seconds"],
            "tokens": report["tokens"],
            "error": report["error"],
        }
        rows.append(row)
        with out.open("a") as handle:
            handle.write(json.dumps(row) + "\n")
    return rows


def summarise(rows: list[dict[str, Any]]) -> str:
    """A markdown table per configuration, with how it was made."""
    lines = [
        f"`python -m benchmarks.creator_embedded` on {platform.machine()}, {os.cpu_count()} cores, "
        f"{len(PROBLEMS)} problems from `benchmarks/problems.py`; greedy decoding; rows in "
        "`creator_embedded.jsonl`. 1.5b = Qwen2.5-Coder-1.5B-Instruct (maker role), 0.5b = "
        "Qwen2.5-Coder-0.5B-Instruct (user role), both Q4_K_M on llama.cpp.",
        "",
        "| config | problems | correct | solved (any answer) | mean rounds | median s | mean s "
        "| mean input tokens | mean output tokens |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for config in dict.fromkeys(row["config"] for row in rows):
        group = [row for row in rows if row["config"] == config]
        seconds = [row["seconds"] for row in group]
        inputs = [sum(u["input"] for u in row["tokens"].values()) for row in group]
        outputs = [sum(u["output"] for u in row["tokens"].values()) for row in group]
        lines.append(
            f"| {config} | {len(group)} | {sum(r['correct'] for r in group)} "
            f"| {sum(r['status'] == 'solved' for r in group)} "
            f"| {statistics.mean(r['rounds'] for r in group):.2f} | {statistics.median(seconds):.1f} "
            f"| {statistics.mean(seconds):.1f} | {statistics.mean(inputs):.0f} "
            f"| {statistics.mean(outputs):.0f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    """Parse arguments, run, and write the JSONL rows and the markdown summary."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--configs", nargs="+", default=["1.5b", "1.5b-self-checks", "0.5b"], choices=list(CONFIGS)
    )
    parser.add_argument("--out", type=Path, default=Path("results/creator_embedded.jsonl"))
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows = run(args.configs, args.out)
    summary = summarise(rows)
    args.out.with_suffix(".md").write_text(summary)
    print(summary)


if __name__ == "__main__":
    main()
