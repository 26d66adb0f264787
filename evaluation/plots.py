"""Plots of benchmark rows (matplotlib, written as PNG files)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import matplotlib

from nodes.common.usage import total_tokens

matplotlib.use("Agg")  # files only: no display is needed or wanted
import matplotlib.pyplot as plt  # noqa: E402

from evaluation.report import by_cell, correct_after, rectifying_cells  # noqa: E402


def _accuracy(rows: list[dict[str, Any]], key: str = "correct") -> float:
    return 100 * sum(bool(row[key]) for row in rows) / len(rows)


def _tokens(row: dict[str, Any]) -> int:
    return total_tokens(row.get("tokens", {}))


def write_plots(rows: list[dict[str, Any]], folder: Path) -> list[Path]:
    """Accuracy per method × dataset, vs rectification rounds, by level, and vs tokens."""
    folder.mkdir(parents=True, exist_ok=True)
    groups = by_cell(rows)
    methods = sorted({method for method, _ in groups})
    datasets = sorted({dataset for _, dataset in groups})
    written = []

    figure, axes = plt.subplots(figsize=(8, 4))
    width = 0.8 / max(len(methods), 1)
    for offset, method in enumerate(methods):
        values = [_accuracy(groups[(method, d)]) if (method, d) in groups else 0 for d in datasets]
        axes.bar([i + offset * width for i in range(len(datasets))], values, width, label=method)
    axes.set_xticks([i + width * (len(methods) - 1) / 2 for i in range(len(datasets))], datasets)
    axes.set_ylabel("accuracy (%)")
    axes.set_title("Accuracy per method and dataset")
    axes.legend()
    written.append(_save(figure, folder / "accuracy.png"))

    figure, axes = plt.subplots(figsize=(6, 4))
    rectifying = rectifying_cells(rows)
    for (method, dataset), group in rectifying.items():
        curve = [100 * sum(correct_after(row, k) for row in group) / len(group) for k in range(4)]
        axes.plot(range(4), curve, marker="o", label=f"{method} / {dataset}")
    axes.set_xticks(range(4))
    axes.set_xlabel("rectification rounds allowed")
    axes.set_ylabel("accuracy (%)")
    axes.set_title("Accuracy vs rectification rounds")
    if rectifying:
        axes.legend(fontsize="small")
    else:
        axes.text(1.5, 50, "no run rectified", ha="center")
    written.append(_save(figure, folder / "rounds.png"))

    colour = {method: f"C{index}" for index, method in enumerate(methods)}
    marker = {dataset: "os^Dvp"[index % 6] for index, dataset in enumerate(datasets)}

    # One panel per dataset: MATH levels and TabMWP grades do not share an axis.
    figure, panels = plt.subplots(1, len(datasets), figsize=(4 * len(datasets), 4), squeeze=False)
    for panel, dataset in zip(panels[0], datasets, strict=True):
        for method in methods:
            levels: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for row in groups.get((method, dataset), []):
                levels[row.get("level") or "—"].append(row)
            names = sorted(levels)
            accuracy = [_accuracy(levels[name]) for name in names]
            panel.plot(names, accuracy, marker="o", color=colour[method], label=method)
        panel.set_title(dataset)
        panel.tick_params(axis="x", rotation=30)
    panels[0][0].set_ylabel("accuracy (%)")
    panels[0][-1].legend(fontsize="small")
    figure.suptitle("Accuracy by difficulty level")
    written.append(_save(figure, folder / "levels.png"))

    figure, axes = plt.subplots(figsize=(6, 4))
    for (method, dataset), group in groups.items():
        mean_tokens = sum(_tokens(row) for row in group) / len(group)
        axes.scatter(mean_tokens, _accuracy(group), color=colour[method], marker=marker[dataset])
    for method in methods:
        axes.plot([], [], color=colour[method], linewidth=6, label=method)
    for dataset in datasets:
        axes.scatter([], [], color="grey", marker=marker[dataset], label=dataset)
    axes.set_xlabel("mean tokens per problem")
    axes.set_ylabel("accuracy (%)")
    axes.set_title("Accuracy vs tokens (colour: method, shape: dataset)")
    axes.legend(fontsize="small")
    written.append(_save(figure, folder / "tokens.png"))
    return written


def _save(figure: Any, path: Path) -> Path:
    for axes in figure.axes:
        axes.set_ylim(0, 100)  # accuracy axes always show the whole scale
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def write_amortised_cost_plot(costs: dict[str, dict[str, float]], path: Path, requests: int = 240) -> Path:
    """Seconds for n requests per task: LATM's C + n·c (maker → user) against maker CoT's n·C.

    ``costs`` maps a task to ``making`` (seconds to obtain one verified tool), ``use``
    (seconds per request with it) and ``cot`` (maker CoT's seconds per request).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    figure, panels = plt.subplots(1, max(len(costs), 1), figsize=(4 * max(len(costs), 1), 3.5), squeeze=False)
    counts = list(range(0, requests + 1, max(1, requests // 48)))
    for axes, (task, cost) in zip(panels[0], costs.items(), strict=False):
        if "making" in cost and "use" in cost:
            axes.plot(counts, [cost["making"] + n * cost["use"] for n in counts], label="LATM maker → user")
        if "cot" in cost:
            axes.plot(counts, [n * cost["cot"] for n in counts], label="maker CoT", linestyle="--")
        axes.set_title(task, fontsize=9)
        axes.set_xlabel("requests n")
        axes.set_ylabel("model seconds")
        axes.legend(fontsize=7)
    figure.suptitle("Cost of n requests: C + n·c against n·C", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def write_transfer_plot(accuracy: dict[str, float], groups: dict[str, int], path: Path) -> Path:
    """Transfer's scenarios 2 and 3 solved both ways: accuracy each way, and groups improved, same or worse.

    ``accuracy`` maps a way ("from scratch", "reusing") to its accuracy (%) on the paired
    scenarios; ``groups`` maps "improved", "the same" and "worse" to how many groups reusing
    changed that way against solving from scratch.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    figure, (arms, changes) = plt.subplots(1, 2, figsize=(9, 3.5))
    arms.bar(list(accuracy), list(accuracy.values()), color=[f"C{index}" for index in range(len(accuracy))])
    arms.set_ylim(0, 100)
    arms.set_ylabel("accuracy (%)")
    arms.set_title("Scenarios 2 and 3, paired")
    changes.bar(list(groups), list(groups.values()), color=["C2", "C7", "C3"])
    changes.set_ylabel("groups")
    changes.set_title("Groups, reusing against scratch")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
