"""The papers' experiments as named presets: which methods on which datasets, grown together.

A preset runs in steps of ``step`` items: every cell gets its next items before any
cell gets more, so an interrupted run leaves a balanced partial table, and the report
compares methods only on the items all of them finished.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langgraph.graph.state import CompiledStateGraph

from evaluation.datasets import sample
from evaluation.report import load_rows, markdown_report
from evaluation.rows import read_rows
from evaluation.runner import DATASETS, matching_calls, regrade, run_bench
from toolmaker.costs import Budget, Spend

MATCHED = "pot-vote"
"""Majority vote gets, item by item, as many samples as CREATOR made model calls."""
MATCHED_TO = "creator"


@dataclass(frozen=True)
class Preset:
    """One experiment: the cells it fills and what it shows."""

    name: str
    description: str
    datasets: tuple[str, ...]
    methods: tuple[str, ...]


_PAPER_DATASETS = ("math", "tabmwp", "creation")

PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            "main",
            "CREATOR's main table: every method on MATH (numeric), TabMWP and the Creation Challenge, "
            "with program-of-thought majority vote matched to CREATOR's calls item by item",
            _PAPER_DATASETS,
            ("cot", "pot-rectify", "entangled", MATCHED_TO, MATCHED),
        ),
        Preset(
            "rounds",
            "Accuracy in one pass and after 1, 2 and 3 rectification rounds",
            _PAPER_DATASETS,
            ("pot-rectify", "creator"),
        ),
        Preset(
            "hints",
            "Creation Challenge without hints, with the utility hint, and with all hints",
            ("creation", "creation-utility", "creation-all"),
            ("creator",),
        ),
    )
}


def results_file(folder: Path, method: str, dataset: str) -> Path:
    """Where a cell's rows go; presets sharing a folder share cells (``rounds`` reuses ``main``)."""
    return folder / f"{method}-{dataset}.jsonl"


def run_preset(
    preset: Preset,
    folder: Path,
    *,
    n: int,
    step: int,
    seed: int = 0,
    context_overrides: dict[str, Any] | None = None,
    command: str = "",
    graphs: Mapping[str, CompiledStateGraph[Any, Any, Any, Any]] | None = None,
    concurrency: int = 1,
    budget: Budget | None = None,
) -> Path:
    """Grow every cell of ``preset`` to ``n`` items, ``step`` at a time; return the report's path.

    The report is rewritten after every step, so partial results can be read (and
    committed) while the run goes on. ``graphs`` replaces methods' own graphs (tests).
    A ``budget`` covers every cell's rows, those of earlier runs too (``BudgetReached``).
    """
    cells = [results_file(folder, m, d) for d in preset.datasets for m in preset.methods]
    spend = Spend.of(row for cell in cells for row in read_rows(cell))
    for size in range(min(step, n), n + step, step):
        size = min(size, n)
        for dataset in preset.datasets:
            for method in preset.methods:
                per_item = (
                    matching_calls(results_file(folder, MATCHED_TO, dataset)) if method == MATCHED else None
                )
                run_bench(
                    dataset,
                    method,
                    results_file(folder, method, dataset),
                    n=size,
                    seed=seed,
                    context_overrides=context_overrides,
                    item_overrides=per_item,
                    graph=(graphs or {}).get(method),
                    concurrency=concurrency,
                    budget=budget,
                    spend=spend,
                )
        report = write_preset_report(preset, folder, n=n, seed=seed, command=command)
        if size == n:
            break
    return report


def common_rows(preset: Preset, folder: Path, *, n: int, seed: int) -> list[dict[str, Any]]:
    """The preset's rows on the sampled items that every one of its methods has finished."""
    rows = []
    for dataset in preset.datasets:
        wanted = {item["id"] for item in sample(DATASETS[dataset][0](), n, seed)}
        cells = {}
        for method in preset.methods:
            path = results_file(folder, method, dataset)
            found = regrade(load_rows([path] if path.exists() else []))
            cells[method] = [row for row in found if row["id"] in wanted]
            wanted &= {row["id"] for row in cells[method]}
        rows += [row for cell in cells.values() for row in cell if row["id"] in wanted]
    return rows


def write_preset_report(preset: Preset, folder: Path, *, n: int, seed: int, command: str = "") -> Path:
    """Write ``folder/PRESET.md`` (tables on common items) and its plots under ``folder/plots/PRESET``."""
    from evaluation.plots import write_plots

    rows = common_rows(preset, folder, n=n, seed=seed)
    lines = [f"# Experiment `{preset.name}`", "", preset.description + ".", ""]
    if command:
        lines += ["Command:", "", "```", command, "```", ""]
    counts = {
        dataset: len({row["id"] for row in rows if row["dataset"] == dataset}) for dataset in preset.datasets
    }
    lines.append(
        f"Items every method finished (of {n} drawn with seed {seed}): "
        + ", ".join(f"{dataset} {count}" for dataset, count in counts.items())
        + "."
    )
    text = "\n".join(lines) + "\n\n" + markdown_report(rows)
    report = folder / f"{preset.name}.md"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(text, encoding="utf-8")
    if rows:
        write_plots(rows, folder / "plots" / preset.name)
    return report


def preset_command(preset: Preset, options: list[str]) -> str:
    """The command line that reproduces a preset run, for its report."""
    return shlex.join(["toolmaker", "experiment", preset.name, *options])
