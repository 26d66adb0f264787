"""The papers' experiments as named presets: which methods on which datasets, grown together.

A preset runs in steps of ``step`` items: every cell gets its next items before any
cell gets more, so an interrupted run leaves a balanced partial table, and the report
compares methods only on the items all of them finished.
"""

from __future__ import annotations

import shlex
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from langgraph.graph.state import CompiledStateGraph

from evaluation.datasets import sample
from evaluation.report import load_rows, markdown_report
from evaluation.rows import read_rows
from evaluation.runner import DATASETS, matching_calls, regrade, run_bench
from toolmaker.costs import Budget, Spend


@dataclass(frozen=True)
class Cell:
    """One method's column of a preset, on each of its datasets.

    ``label`` names the results files and the table's row (the method's name unless two
    columns run one method); ``matched_to`` is the label of the column whose model calls
    per item majority vote gets as samples, so the two are compute-matched; ``context``
    is the column's own configuration, over the command's (``{"agree_sampling": "calls"}``).
    """

    method: str
    label: str = ""
    matched_to: str | None = None
    context: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The column's label: its files' and its row's name."""
        return self.label or self.method


@dataclass(frozen=True)
class Preset:
    """One experiment: the cells it fills, what it shows, and which columns it tests pairwise."""

    name: str
    description: str
    datasets: tuple[str, ...]
    cells: tuple[Cell, ...]
    comparisons: tuple[tuple[str, str], ...] = ()
    """(column, baseline) pairs given a paired sign test on the items both finished."""
    dataset_comparisons: tuple[tuple[str, str], ...] = ()
    """(dataset, baseline dataset) pairs of the same items, given a paired sign test per column."""

    def __post_init__(self) -> None:
        """Refuse columns that would share a results file, and missing columns or datasets named."""
        names = [cell.name for cell in self.cells]
        if len(set(names)) < len(names):
            raise ValueError(f"preset {self.name}: two columns share a label (their results file): {names}")
        for index, cell in enumerate(self.cells):
            if cell.matched_to is not None and cell.matched_to not in names[:index]:
                raise ValueError(f"preset {self.name}: {cell.name} is matched to no column before it")
        if unknown := {name for pair in self.comparisons for name in pair} - set(names):
            raise ValueError(f"preset {self.name}: comparisons name no column {sorted(unknown)}")
        if unknown := {name for pair in self.dataset_comparisons for name in pair} - set(self.datasets):
            raise ValueError(f"preset {self.name}: dataset comparisons name no dataset {sorted(unknown)}")

    def only(self, labels: Collection[str]) -> Preset:
        """This preset with only the columns ``labels`` and those they are matched to (which run first).

        Raises:
            ValueError: A label names none of the preset's columns.
        """
        names = [cell.name for cell in self.cells]
        if unknown := set(labels) - set(names):
            missing = ", ".join(sorted(unknown))
            raise ValueError(f"preset {self.name} has no column {missing}; its columns: {', '.join(names)}")
        wanted = set(labels)
        for cell in reversed(self.cells):  # a column is matched to one before it
            if cell.name in wanted and cell.matched_to:
                wanted.add(cell.matched_to)
        return _with_columns(self, wanted)


def _with_columns(preset: Preset, names: Collection[str]) -> Preset:
    """``preset`` with the columns ``names`` in its order, and the comparisons between two of them."""
    return replace(
        preset,
        cells=tuple(cell for cell in preset.cells if cell.name in names),
        comparisons=tuple(pair for pair in preset.comparisons if set(pair) <= set(names)),
    )


_PAPER_DATASETS = ("math", "tabmwp", "creation")
_SHARED_DEMOS = {f"{node}_prompt": "demos" for node in ("create", "decide", "rectify")}
_FAMILY_DEMOS = {f"{node}_prompt": "demos-{dataset}" for node in ("create", "decide", "rectify")}

PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            "main",
            "CREATOR's main table: every method on MATH (numeric), TabMWP and the Creation Challenge, "
            "with program-of-thought majority vote matched to CREATOR's calls item by item",
            _PAPER_DATASETS,
            (
                Cell("cot"),
                Cell("pot-rectify"),
                Cell("entangled"),
                Cell("creator"),
                Cell("pot-vote", matched_to="creator"),
            ),
            (("creator", "pot-rectify"), ("creator", "pot-vote")),
        ),
        Preset(
            "rounds",
            "Accuracy in one pass and after 1, 2 and 3 rectification rounds",
            _PAPER_DATASETS,
            (Cell("pot-rectify"), Cell("creator")),
        ),
        Preset(
            "hints",
            "Creation Challenge without hints, with the utility hint, and with all hints: the paper's "
            "CREATOR with the default prompts, and creator-general with the shared worked examples "
            "(the paper, CREATOR on ChatGPT: 63.8, 67.2 and 75.7)",
            ("creation", "creation-utility", "creation-all"),
            (Cell("creator"), Cell("creator-general", "creator-general-demos", context=_SHARED_DEMOS)),
            dataset_comparisons=(
                ("creation-utility", "creation"),
                ("creation-all", "creation"),
                ("creation-all", "creation-utility"),
            ),
        ),
        Preset(
            "quality",
            "CREATOR made to earn its cost: general tools (creator-general) and agreement of 3 sampled "
            "candidates (creator-agree) against program-of-thought, the entangled ablation, and majority "
            "vote matched item by item to each CREATOR column's calls",
            _PAPER_DATASETS,
            (
                Cell("pot-rectify"),
                Cell("creator-general"),
                Cell("creator-agree"),
                Cell("entangled"),
                Cell("pot-vote", "pot-vote-vs-creator-general", matched_to="creator-general"),
                Cell("pot-vote", "pot-vote-vs-creator-agree", matched_to="creator-agree"),
            ),
            (
                ("creator-general", "pot-rectify"),
                ("creator-agree", "pot-rectify"),
                ("entangled", "pot-rectify"),
                ("creator-general", "pot-vote-vs-creator-general"),
                ("creator-agree", "pot-vote-vs-creator-agree"),
            ),
        ),
        Preset(
            "demos",
            "Worked examples of each dataset's own kind (demos-math, demos-tabmwp, demos-creation) "
            "against the shared set (demos), for creator-general, and against program-of-thought and "
            "majority vote matched item by item to the family column's calls; run in the quality preset's "
            "folder with the quality run's prompt options, it shares that run's creator-general and "
            "pot-rectify columns",
            _PAPER_DATASETS,
            (
                Cell("creator-general", context=_SHARED_DEMOS),
                Cell("creator-general", "creator-general-family-demos", context=_FAMILY_DEMOS),
                Cell("pot-rectify"),
                Cell(
                    "pot-vote",
                    "pot-vote-vs-creator-general-family-demos",
                    matched_to="creator-general-family-demos",
                ),
            ),
            (
                ("creator-general-family-demos", "creator-general"),
                ("creator-general-family-demos", "pot-rectify"),
                ("creator-general-family-demos", "pot-vote-vs-creator-general-family-demos"),
            ),
        ),
        Preset(
            "agreement",
            "What creator-agree's further candidates sample: a new tool and call (both, the default), "
            "a new tool with a greedy call (tools), or a new call of the solved tool (calls)",
            _PAPER_DATASETS,
            (
                Cell("creator-agree"),
                Cell("creator-agree", "creator-agree-tools", context={"agree_sampling": "tools"}),
                Cell("creator-agree", "creator-agree-calls", context={"agree_sampling": "calls"}),
            ),
            (("creator-agree-tools", "creator-agree"), ("creator-agree-calls", "creator-agree")),
        ),
        Preset(
            "generalize",
            "The general-version round shown worked examples (generalize=demos) against its default "
            "prompt, for creator-general: the share of general tools, and whether accuracy holds; run in "
            "the quality preset's folder with the quality run's prompt options, it shares that run's "
            "creator-general column",
            _PAPER_DATASETS,
            (
                Cell("creator-general"),
                Cell(
                    "creator-general",
                    "creator-general-generalize-demos",
                    context={"generalize_prompt": "demos"},
                ),
            ),
            (("creator-general-generalize-demos", "creator-general"),),
        ),
    )
}


def results_file(folder: Path, cell: str, dataset: str) -> Path:
    """Where a cell's rows go; presets sharing a folder share cells (``rounds`` reuses ``main``)."""
    return folder / f"{cell}-{dataset}.jsonl"


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
    columns: Collection[str] = (),
) -> Path:
    """Grow every cell of ``preset`` to ``n`` items, ``step`` at a time; return the report's path.

    With ``columns``, only those columns grow, and the columns they are matched to (see
    :meth:`Preset.only`). The report is rewritten after every step, so partial results can
    be read (and committed) while the run goes on; it shows every column with rows in
    ``folder``. ``graphs`` replaces cells' own graphs, by label (tests). A ``budget`` covers
    the growing cells' rows, those of earlier runs too (``BudgetReached``).
    """
    growing = preset.only(columns) if columns else preset
    files = [results_file(folder, c.name, d) for d in growing.datasets for c in growing.cells]
    spend = Spend.of(row for file in files for row in read_rows(file))
    for size in range(min(step, n), n + step, step):
        size = min(size, n)
        for dataset in growing.datasets:
            for cell in growing.cells:
                matched = cell.matched_to
                per_item = matching_calls(results_file(folder, matched, dataset)) if matched else None
                run_bench(
                    dataset,
                    cell.method,
                    results_file(folder, cell.name, dataset),
                    n=size,
                    seed=seed,
                    context_overrides={**(context_overrides or {}), **cell.context},
                    item_overrides=per_item,
                    graph=(graphs or {}).get(cell.name),
                    concurrency=concurrency,
                    budget=budget,
                    spend=spend,
                )
        report = write_preset_report(preset, folder, n=n, seed=seed, command=command)
        if size == n:
            break
    return report


def common_rows(preset: Preset, folder: Path, *, n: int, seed: int) -> list[dict[str, Any]]:
    """The preset's rows on the sampled items that every one of its cells has finished.

    A row's ``method`` is its cell's label, so two columns of one method stay apart.
    """
    rows = []
    for dataset in preset.datasets:
        wanted = {item["id"] for item in sample(DATASETS[dataset][0](), n, seed)}
        cells = {}
        for cell in preset.cells:
            path = results_file(folder, cell.name, dataset)
            found = regrade(load_rows([path] if path.exists() else []))
            cells[cell.name] = [{**row, "method": cell.name} for row in found if row["id"] in wanted]
            wanted &= {row["id"] for row in cells[cell.name]}
        rows += [row for cell in cells.values() for row in cell if row["id"] in wanted]
    return rows


_PROMPT_CACHE = {True: "on", False: "off", None: "no embedded server", "not recorded": "not recorded"}


def write_preset_report(preset: Preset, folder: Path, *, n: int, seed: int, command: str = "") -> Path:
    """Write ``folder/PRESET.md`` (tables on common items) and its plots under ``folder/plots/PRESET``.

    Columns with no rows in ``folder`` are named and left out of the tables.
    """
    from evaluation.plots import write_plots

    # Columns not run yet would leave no item that every column finished; a vote is shown
    # only beside the column it is matched to.
    run: list[str] = []
    for cell in preset.cells:
        has_rows = any(results_file(folder, cell.name, dataset).exists() for dataset in preset.datasets)
        if has_rows and (cell.matched_to is None or cell.matched_to in run):
            run.append(cell.name)
    shown = _with_columns(preset, run)
    rows = common_rows(shown, folder, n=n, seed=seed)
    lines = [f"# Experiment `{preset.name}`", "", preset.description + ".", ""]
    if command:
        lines += ["Command:", "", "```", command, "```", ""]
    if not_run := [cell.name for cell in preset.cells if cell.name not in run]:
        left_out = ", ".join(not_run)
        lines += [f"Columns left out, with no rows here (or none in the column matched to): {left_out}.", ""]
    counts = {
        dataset: len({row["id"] for row in rows if row["dataset"] == dataset}) for dataset in preset.datasets
    }
    lines.append(
        f"Items every method finished (of {n} drawn with seed {seed}): "
        + ", ".join(f"{dataset} {count}" for dataset, count in counts.items())
        + "."
    )
    made_by = Counter(str(row.get("code") or "not recorded") for row in rows)
    if len(made_by) > 1:
        commits = ", ".join(f"{code} {count}" for code, count in made_by.most_common())
        lines += ["", f"The cells grew across commits; rows by the commit that made them: {commits}."]
    for dataset in preset.datasets:
        told = [bool(row.get("one_value_answers")) for row in rows if row["dataset"] == dataset]
        if 0 < sum(told) < len(told):
            lines += [
                "",
                f"On {dataset}, {sum(told)} of {len(told)} rows were judged with `one_value_answers` "
                "(the others took a printed tuple or list as an answer).",
            ]
    caches = Counter(_PROMPT_CACHE[row.get("prompt_cache", "not recorded")] for row in rows)
    if len(caches) > 1:
        by_cache = ", ".join(f"{state} {count}" for state, count in caches.most_common())
        lines += ["", f"Rows by the embedded server's prompt cache: {by_cache}."]
    text = (
        "\n".join(lines)
        + "\n\n"
        + markdown_report(rows, comparisons=shown.comparisons, dataset_comparisons=preset.dataset_comparisons)
    )
    report = folder / f"{preset.name}.md"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(text, encoding="utf-8")
    if rows:
        write_plots(rows, folder / "plots" / preset.name)
    return report


def experiment_command(name: str, options: list[str]) -> str:
    """The command line that reproduces an experiment's run (a preset's, or transfer's), for its report."""
    return shlex.join(["toolmaker", "experiment", name, *options])
