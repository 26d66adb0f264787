"""Registry search: latency at 1k and 10k tools, and retrieval accuracy on tool transfer.

Run: ``python -m benchmarks.registry_search [--out results/registry_search.md]``.
Accuracy: CREATOR's tool-transfer set has 100 groups of 3 scenarios sharing one tool;
the 100 reference tools are registered, and each of the 300 scenarios is a query that
should find its group's tool. Latency: synthetic tools in a SQLite registry.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from rich.progress import track

from benchmarks.percentiles import median_and_p95
from nodes.common.parsing import require_code
from toolmaker.datasets import dataset_file
from tools_registry import ToolSourceError, sqlite_registry, tool_from_source

_WORDS = (
    "area volume perimeter interest profit speed distance prime factor digit sum average median "
    "probability combination permutation matrix vector angle triangle circle rectangle tax discount "
    "salary loan population growth decay temperature pressure density velocity energy power ratio"
).split()


def transfer_accuracy() -> dict[str, float]:
    """Share of the 300 tool-transfer scenarios whose group's tool is ranked 1st / in the top 3."""
    lines = dataset_file("tool_transfer/transfer_300.jsonl").read_text().splitlines()
    with tempfile.TemporaryDirectory() as folder, sqlite_registry(Path(folder) / "t.sqlite") as registry:
        groups = []
        for line in lines:
            group = json.loads(line)
            try:
                record = registry.add(tool_from_source(require_code(group["tool"], "tool")))
            except ToolSourceError:
                continue
            groups.append((record.id, [group[f"scn{i}"] for i in (1, 2, 3)]))
        top1 = top3 = total = 0
        for tool_id, scenarios in track(groups, description="tool-transfer retrieval"):
            for scenario in scenarios:
                found = [record.id for record, _ in registry.search(scenario, k=3)]
                top1 += found[:1] == [tool_id]
                top3 += tool_id in found
                total += 1
    return {"groups": len(groups), "queries": total, "top1": top1 / total, "top3": top3 / total}


def _synthetic_tool(index: int, rng: random.Random) -> str:
    words = rng.sample(_WORDS, 3)
    name = f"{'_'.join(words)}_{index}"
    return (
        f"def {name}(x: float, y: float = 1.0) -> float:\n"
        f'    """Compute the {words[0]} from the {words[1]} and the {words[2]}."""\n'
        f"    return x * y + {index}\n"
    )


def search_latency(size: int, queries: int = 200) -> dict[str, float]:
    """Median and p95 milliseconds of one search over ``size`` tools (index already built)."""
    rng = random.Random(size)
    with tempfile.TemporaryDirectory() as folder, sqlite_registry(Path(folder) / "t.sqlite") as registry:
        for index in track(range(size), description=f"registering {size} tools"):
            registry.add(tool_from_source(_synthetic_tool(index, rng)))
        started = time.perf_counter()
        registry.search("a first query builds the index")
        build_ms = (time.perf_counter() - started) * 1000
        timings = []
        for _ in range(queries):
            query = f"what is the {' and the '.join(rng.sample(_WORDS, 3))}"
            started = time.perf_counter()
            registry.search(query, k=5)
            timings.append((time.perf_counter() - started) * 1000)
    p50, p95 = median_and_p95(timings)
    return {"tools": size, "index_build_ms": build_ms, "p50_ms": p50, "p95_ms": p95}


def main() -> None:
    """Measure and write a markdown summary."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("results/registry_search.md"))
    args = parser.parse_args()
    accuracy = transfer_accuracy()
    latencies = [search_latency(size) for size in (1000, 10000)]
    lines = [
        "## Retrieval on CREATOR's tool-transfer set (TF-IDF over name, signature, docstring)",
        "",
        f"{accuracy['groups']} reference tools registered, {accuracy['queries']} scenario queries.",
        "",
        "| top-1 | top-3 |",
        "|---|---|",
        f"| {accuracy['top1']:.1%} | {accuracy['top3']:.1%} |",
        "",
        "## Search latency (SQLite registry, index cached between queries; first query builds it)",
        "",
        "| tools | index build ms | p50 ms | p95 ms |",
        "|---|---|---|---|",
        *(
            f"| {row['tools']} | {row['index_build_ms']:.0f} | {row['p50_ms']:.2f} | {row['p95_ms']:.2f} |"
            for row in latencies
        ),
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
