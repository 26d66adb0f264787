"""Summarise benchmark JSONL files as markdown tables."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from math import comb
from pathlib import Path
from typing import Any

from evaluation.rows import read_rows
from nodes.common.usage import total_tokens
from tools_registry.analysis import issue_kind


def load_rows(paths: list[Path]) -> list[dict[str, Any]]:
    """Every row of every results file."""
    return [row for path in paths for row in read_rows(path)]


def labelled_rows(sources: Sequence[str]) -> list[dict[str, Any]]:
    """Rows of ``FILE`` or ``LABEL=FILE`` sources; a label replaces its rows' method as their column.

    A file that exists is read as a file, ``=`` in its name or not; a label ends at the first ``=``.

    Raises:
        ValueError: A file that does not exist, an empty label, or an item that two sources
            give the same column (each column holds one row per item).
    """
    rows: list[dict[str, Any]] = []
    source_of: dict[tuple[str, str, str], str] = {}
    for source in sources:
        label, equals, path = source.partition("=")
        if not equals or Path(source).exists():
            label, path = "", source
        elif not label:
            raise ValueError(f"{source!r} has an empty label: give LABEL=FILE, or FILE alone")
        if not Path(path).is_file():
            raise ValueError(f"no results file {path}")
        for row in read_rows(Path(path)):
            row = {**row, "method": label} if label else row
            key = (row["method"], row["dataset"], row["id"])
            if key in source_of:
                raise ValueError(
                    f"{source} and {source_of[key]} both give column {key[0]!r} item {key[2]} of {key[1]}: "
                    "give one of them a label of its own"
                )
            source_of[key] = source
            rows.append(row)
    return rows


def by_cell(rows: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Rows grouped by (method, dataset), in that order."""
    cells: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        cells[(row["method"], row["dataset"])].append(row)
    return dict(sorted(cells.items()))


def _accuracy(rows: list[dict[str, Any]], key: str = "correct") -> str:
    return f"{sum(bool(row[key]) for row in rows) / len(rows):.1%} ({len(rows)})" if rows else "—"


def _mean(values: list[float]) -> str:
    return f"{sum(values) / len(values):.1f}" if values else "—"


ONE_PASS_OF = {"pot-rectify": "pot (one pass)"}
"""Methods whose first pass is itself a method: program-of-thought without rectification."""


def summary_table(rows: list[dict[str, Any]]) -> str:
    """Accuracy per method × dataset with the mean cost of an item (calls, tokens, seconds).

    Program-of-thought without rectification is read off ``pot-rectify``'s first pass
    (same model, same prompt, temperature 0), so its cost columns stay empty.
    """
    datasets = sorted({row["dataset"] for row in rows})
    cells = defaultdict(list, by_cell(rows))
    header = (
        "| method | " + " | ".join(datasets) + " | calls / item | tokens in+out / item | seconds / item |"
    )
    lines = ["## Main table (accuracy, items in parentheses; cost per item over all datasets)", "", header]
    lines.append("|---" * (len(datasets) + 4) + "|")
    for method in sorted({row["method"] for row in rows}):
        own = [row for row in rows if row["method"] == method]
        calls = [float(sum(u["calls"] for u in row["tokens"].values())) for row in own]
        tokens = [float(total_tokens(row["tokens"])) for row in own]
        seconds = [float(row["seconds"]) for row in own]
        accuracy = " | ".join(_accuracy(cells[(method, d)]) for d in datasets)
        lines.append(f"| {method} | {accuracy} | {_mean(calls)} | {_mean(tokens)} | {_mean(seconds)} |")
        if method in ONE_PASS_OF:
            for_pass = " | ".join(_accuracy_after(cells[(method, d)], 0) for d in datasets)
            lines.append(f"| {ONE_PASS_OF[method]} | {for_pass} | — | — | — |")
    return "\n".join(lines) + "\n"


def correct_after(row: dict[str, Any], rounds: int) -> bool:
    """Whether the item was solved with at most ``rounds`` rectifications allowed.

    A run that stopped before ``rounds`` kept its final answer (for methods that never
    rectify, such as chain-of-thought or majority vote, that is every round).
    """
    if rounds >= row.get("rounds", 0):
        return bool(row["correct"])
    return bool(row["correct_after_round"][str(rounds)])


def rectifying_cells(rows: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Rows by (method, dataset), for the cells where the method rectified at least once."""
    return {cell: group for cell, group in by_cell(rows).items() if any(row["rounds"] for row in group)}


def _accuracy_after(rows: list[dict[str, Any]], rounds: int) -> str:
    if not rows:
        return "—"
    return f"{sum(correct_after(row, rounds) for row in rows) / len(rows):.1%} ({len(rows)})"


def general_tools_section(rows: list[dict[str, Any]]) -> list[str]:
    """Per cell, the share of solved runs whose tool is general: the first tool, and the final one."""
    judged = {
        cell: [r for r in group if r.get("generality") is not None] for cell, group in by_cell(rows).items()
    }
    judged = {cell: group for cell, group in judged.items() if group}
    if not judged:
        return []
    lines = [
        "",
        "## General tools",
        "",
        "Solved runs whose tool takes parameters, is called with the problem's values and does not hard-code "
        "its numbers: the first tool that solved the problem, and the final one (after one request for a "
        "general version, where the method asks). How those requests ended: a general version, one still "
        "single-use, one that answered otherwise or failed (then the first tool stands); rows made before "
        "this was recorded show —.",
        "",
        "| method | dataset | solved runs judged | general, first tool | general, final tool "
        "| why final tools are not (tools) | general versions asked: how they ended |",
        "|---|---|---|---|---|---|---|",
    ]
    for (method, dataset), group in judged.items():
        before = sum(not row["generality_before"] for row in group) / len(group)
        after = sum(not row["generality"] for row in group) / len(group)
        kinds = Counter(kind for row in group for kind in {issue_kind(issue) for issue in row["generality"]})
        why = ", ".join(f"{kind} {count}" for kind, count in kinds.most_common()) or "—"
        lines.append(
            f"| {method} | {dataset} | {len(group)} | {before:.0%} | {after:.0%} | {why} "
            f"| {_general_versions(group)} |"
        )
    return lines


def _general_versions(rows: list[dict[str, Any]]) -> str:
    """``asked n: general a, still single-use b, ...`` over the rows that record it."""
    recorded = [row for row in rows if "general_version" in row]
    if not recorded:
        return "—"
    outcomes = Counter(row["general_version"] for row in recorded if row["general_version"])
    shown = ", ".join(f"{outcome} {count}" for outcome, count in outcomes.most_common())
    unrecorded = f" (not recorded in {len(rows) - len(recorded)})" if len(recorded) < len(rows) else ""
    return f"{sum(outcomes.values())}{': ' + shown if shown else ''}{unrecorded}"


_FAILURE_KINDS = (
    (re.compile(r"Running the ([\w-]+) failed with (\w+)"), "{1} ({0})"),
    (re.compile(r"Your own check"), "own check failed"),
    (re.compile(r"printed nothing"), "printed nothing"),
    (re.compile(r"The code printed (no value|several values)"), "{0}"),
    (re.compile(r"The code printed"), "unusable answer"),
    (re.compile(r"step's reply held no usable"), "unreadable reply"),
    (re.compile(r"changed neither"), "unchanged fix"),
)


def failure_kind(failure: str) -> str:
    """A short kind for why an attempt gave no answer (``TypeError (call)``, ``printed nothing``)."""
    for pattern, kind in _FAILURE_KINDS:
        if match := pattern.search(failure):
            return kind.format(*match.groups())
    return "other"


def _last_failures(rows: list[dict[str, Any]]) -> str:
    """The kinds of the last failure of runs that ended with no answer, over the rows that record it."""
    recorded = [row for row in rows if row.get("attempt_failures") is not None]
    if not recorded:
        return "—"
    kinds = Counter(
        failure_kind(row["attempt_failures"][-1] or "") if row["attempt_failures"] else "no code ran"
        for row in recorded
    )
    unrecorded = f" (not recorded in {len(rows) - len(recorded)})" if len(recorded) < len(rows) else ""
    return ", ".join(f"{kind} {count}" for kind, count in kinds.most_common()) + unrecorded


def misses_section(rows: list[dict[str, Any]]) -> list[str]:
    """Per cell, the items missed: with no answer at all (and why), or with a wrong one from code that ran."""
    lines = [
        "",
        "## Misses",
        "",
        "Items a method got wrong: with no answer (the run failed, or gave up), or with a wrong answer, "
        "which rectification never sees when the code ran. For runs with no answer, how their last "
        "attempt failed (rows made before this was recorded show —).",
        "",
        "| method | dataset | items | missed | no answer | wrong answer | how no-answer runs last failed |",
        "|---|---|---|---|---|---|---|",
    ]
    for (method, dataset), group in by_cell(rows).items():
        missed = [row for row in group if not row["correct"]]
        unanswered = [row for row in missed if row["prediction"] is None]
        wrong = len(missed) - len(unanswered)
        why = _last_failures(unanswered) if unanswered else ""
        lines.append(
            f"| {method} | {dataset} | {len(group)} | {len(missed)} | {len(unanswered)} | {wrong} | {why} |"
        )
    return lines


def sign_test(wins: int, losses: int) -> float:
    """Two-sided exact sign test: how likely a split this uneven is if either side wins an item at 1/2."""
    decided = wins + losses
    tail = sum(comb(decided, k) for k in range(min(wins, losses) + 1)) / (1 << decided)
    return min(1.0, 2 * tail)


def paired_tests_section(rows: list[dict[str, Any]], comparisons: Sequence[tuple[str, str]]) -> list[str]:
    """Per (column, baseline) pair and dataset, and over all datasets: items only one got right, and p."""
    verdicts = {(row["method"], row["dataset"], row["id"]): bool(row["correct"]) for row in rows}
    datasets = sorted({row["dataset"] for row in rows})
    lines = [
        "## Paired sign tests",
        "",
        "On the items both finished: how many only the column got right (wins), how many only the baseline "
        "got right (losses), and the two-sided exact sign test's p (ties left out).",
        "",
        "| column | baseline | dataset | items | wins | losses | p |",
        "|---|---|---|---|---|---|---|",
    ]
    for column, baseline in comparisons:
        for dataset in [*datasets, "all"]:
            pairs = [
                (right, verdicts[(baseline, d, item)])
                for (method, d, item), right in verdicts.items()
                if method == column and dataset in (d, "all") and (baseline, d, item) in verdicts
            ]
            lines.append(f"| {column} | {baseline} | {dataset} | {_sign_test_cells(pairs)} |")
    return [*lines, ""]


def wins_and_losses(pairs: Iterable[tuple[bool, bool]]) -> tuple[int, int]:
    """Of (mine, theirs) verdicts on the same items: how many only mine got right, and only theirs."""
    verdicts = list(pairs)
    wins = sum(mine and not theirs for mine, theirs in verdicts)
    return wins, sum(theirs and not mine for mine, theirs in verdicts)


def _sign_test_cells(pairs: list[tuple[bool, bool]]) -> str:
    """``items | wins | losses | p`` of (mine, theirs) verdicts on the same items."""
    wins, losses = wins_and_losses(pairs)
    p = f"{sign_test(wins, losses):.3f}" if pairs else "—"
    return f"{len(pairs)} | {wins} | {losses} | {p}"


def dataset_pairs_section(rows: list[dict[str, Any]], comparisons: Sequence[tuple[str, str]]) -> list[str]:
    """Per method and pair of datasets holding the same items: items only one got right, and p.

    For datasets that pose the same problems otherwise (the Creation Challenge with and
    without hints), so a method is compared with itself item by item.
    """
    verdicts = {(row["method"], row["dataset"], row["id"]): bool(row["correct"]) for row in rows}
    lines = [
        "## Paired sign tests between datasets of the same items",
        "",
        "Per method, on the items both datasets hold: how many it got right only on the dataset (wins), "
        "only on the baseline dataset (losses), and the two-sided exact sign test's p (ties left out).",
        "",
        "| method | dataset | baseline dataset | items | wins | losses | p |",
        "|---|---|---|---|---|---|---|",
    ]
    for method in sorted({row["method"] for row in rows}):
        for dataset, baseline in comparisons:
            pairs = [
                (right, verdicts[(method, baseline, item)])
                for (m, d, item), right in verdicts.items()
                if m == method and d == dataset and (method, baseline, item) in verdicts
            ]
            lines.append(f"| {method} | {dataset} | {baseline} | {_sign_test_cells(pairs)} |")
    return [*lines, ""]


def rounds_section(rows: list[dict[str, Any]]) -> list[str]:
    """Accuracy after each rectification round, for the cells that rectified (none: no section)."""
    cells = rectifying_cells(rows)
    if not cells:
        return []
    lines = [
        "## Accuracy after 0, 1, 2 and 3 rectification rounds",
        "",
        "Cells where the method rectified at least once; 0 is the first pass.",
        "",
        "| method | dataset | 0 | 1 | 2 | 3 |",
        "|---|---|---|---|---|---|",
    ]
    for (method, dataset), group in cells.items():
        curve = [f"{sum(correct_after(row, r) for row in group) / len(group):.1%}" for r in range(4)]
        lines.append(f"| {method} | {dataset} | " + " | ".join(curve) + " |")
    return lines


def markdown_report(
    rows: list[dict[str, Any]],
    comparisons: Sequence[tuple[str, str]] = (),
    dataset_comparisons: Sequence[tuple[str, str]] = (),
) -> str:
    """Every section: main table, sign tests, rounds, general tools, misses, levels.

    ``comparisons`` are (column, baseline) pairs; ``dataset_comparisons`` (dataset, baseline
    dataset) pairs of datasets that hold the same items.
    """
    lines = [
        summary_table(rows),
        *(paired_tests_section(rows, comparisons) if comparisons else []),
        *(dataset_pairs_section(rows, dataset_comparisons) if dataset_comparisons else []),
        *rounds_section(rows),
    ]
    lines += general_tools_section(rows)
    lines += misses_section(rows)
    lines += ["", "## Accuracy by level", "", "| method | dataset | level | accuracy |", "|---|---|---|---|"]
    for (method, dataset), group in by_cell(rows).items():
        levels: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in group:
            levels[row["level"] or "—"].append(row)
        for level, members in sorted(levels.items()):
            lines.append(f"| {method} | {dataset} | {level} | {_accuracy(members)} |")
    return "\n".join(lines) + "\n"
