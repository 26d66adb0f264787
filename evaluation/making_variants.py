"""Maker prompt variants compared on LATM's spare demos, never on the items a tool is scored on.

``toolmaker experiment latm`` makes each task's tool from its first 3 train and 3 validation
items and scores it on test items. The train and validation items after those (2 of each in
LATM's split) serve no scored run, so this experiment makes each task's tool from them under a
prompt variant, with the same greedy and sampled runs, and counts the runs that verified. Each
variant's rows sit in a folder of their own (``<out-dir>/<label>/making-TASK.jsonl``); the
report puts every variant found side by side. A variant that makes more tools here is the one
worth a scored run.
"""

from __future__ import annotations

import re
from pathlib import Path

from evaluation.latm import MAKER_TEMPERATURE, TASKS, bbh_demos, make_tools, making_runs
from evaluation.rows import read_rows, row_seconds
from prompts import prompt_label
from toolmaker.costs import Budget, PriceTable, Spend
from toolmaker.settings import get_settings

EXPERIMENT = "latm-making"
DEFAULT = "default"
MAKER_NODES = ("propose", "fix", "verify")
"""The nodes whose prompts make a tool; the tool user's and the dispatcher's are measured elsewhere."""


def variant_label(prompts: dict[str, str]) -> str:
    """A folder name for a set of prompt variants: ``default``, or ``propose=explain+fix=short``.

    A variant given as a path is named by its file's stem, one given as text by its hash; rows
    record the whole path, so two files of one stem cannot share a folder unnoticed.
    """
    parts = []
    for name, variant in sorted(prompts.items()):
        shown = prompt_label(variant)
        parts.append(f"{name.removesuffix('_prompt')}={Path(shown).stem if shown.endswith('.md') else shown}")
    return re.sub(r"[^A-Za-z0-9_.=+-]", "_", "+".join(parts)) or DEFAULT


def run_making_variants(
    folder: Path,
    prompts: dict[str, str],
    *,
    sampled_makings: int = 3,
    tasks: tuple[str, ...] = TASKS,
    budget: Budget | None = None,
) -> Path:
    """Make every task's tool from its spare demos under ``prompts`` (resumable), then report.

    A ``budget`` covers this variant's makings, those of earlier runs too (``BudgetReached``).
    """
    prices = PriceTable.from_file(get_settings().prices_file)
    variant = folder / variant_label(prompts)
    spend = Spend.of(row for task in tasks for row in read_rows(variant / f"making-{task}.jsonl"))
    for task in tasks:
        demos = bbh_demos(task, spare=True)
        runs = making_runs(sampled_makings)
        make_tools(demos, variant / f"making-{task}.jsonl", runs, prices, prompts, budget=budget, spend=spend)
        write_making_variants_report(folder)
    return folder / f"{EXPERIMENT}.md"


def write_making_variants_report(folder: Path) -> Path:
    """``latm-making.md``: per task and variant, the runs that verified and what making cost."""
    found = folder.iterdir() if folder.is_dir() else iter(())
    variants = sorted(path for path in found if path.is_dir() and any(path.glob("making-*.jsonl")))
    lines = [
        f"# Experiment `{EXPERIMENT}`",
        "",
        "Maker prompt variants, each making every task's tool from LATM's spare demos (train[3:5], "
        "valid[3:5]; no scored making uses them) in a greedy run and runs sampled at "
        f"T = {MAKER_TEMPERATURE}. A cell: runs verified / runs, mean proposals per run, mean "
        "seconds per run (a run's wall clock, or its model seconds where a kill split it).",
        "",
        f"Command: `toolmaker experiment {EXPERIMENT} --out-dir {folder} "
        "[--prompt-variant NODE=VARIANT ...] [--task TASK ...]`",
        "",
        "| task | " + " | ".join(path.name for path in variants) + " |",
        "|---|" + "---|" * len(variants),
    ]
    for task in TASKS:
        cells = []
        for path in variants:
            rows = read_rows(path / f"making-{task}.jsonl")
            if not rows:
                cells.append("—")
                continue
            proposals = sum(len(row["proposals"]) for row in rows) / len(rows)
            seconds = sum(row_seconds(row) for row in rows) / len(rows)
            verified = sum(row["verified"] for row in rows)
            cells.append(f"{verified} / {len(rows)} ({proposals:.1f} proposals, {seconds:.0f} s)")
        if any(cell != "—" for cell in cells):
            lines.append(f"| {task} | " + " | ".join(cells) + " |")
    report = folder / f"{EXPERIMENT}.md"
    folder.mkdir(parents=True, exist_ok=True)
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return report
