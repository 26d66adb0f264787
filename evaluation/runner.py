"""Run a method on a dataset, one JSONL row per item, resuming where a run stopped."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from langgraph.graph import StateGraph
from langgraph.graph.state import CompiledStateGraph
from rich.progress import Progress

from evaluation.datasets import Item, load_creation_challenge, load_math, load_tabmwp, sample
from evaluation.graders import grade_math, grade_numeric
from graphs.baselines import build_cot_graph, build_entangled_graph, build_pot_graph, build_pot_vote_graph
from graphs.creator import build_creator_graph
from nodes.context import CreatorContext
from nodes.state import Attempt
from toolmaker.solving import solve

Grader = Callable[[str | None, str], bool]

DATASETS: dict[str, tuple[Callable[[], list[Item]], Grader]] = {
    "math": (lambda: load_math("numeric"), grade_numeric),
    "math-full": (lambda: load_math("full"), grade_math),
    "tabmwp": (lambda: load_tabmwp("1000"), grade_numeric),
    "tabmwp-creator": (lambda: load_tabmwp("creator"), grade_numeric),
    "creation": (lambda: load_creation_challenge("none"), grade_numeric),
    "creation-utility": (lambda: load_creation_challenge("utility"), grade_numeric),
    "creation-all": (lambda: load_creation_challenge("all"), grade_numeric),
}
"""Dataset name → (loader, grader)."""

Build = Callable[[], StateGraph[Any, Any, Any, Any]]
METHODS: dict[str, tuple[Build, CreatorContext]] = {
    "cot": (build_cot_graph, CreatorContext()),
    "pot": (build_pot_graph, CreatorContext(max_rectify_rounds=0)),
    "pot-rectify": (build_pot_graph, CreatorContext()),
    "pot-vote": (build_pot_vote_graph, CreatorContext()),
    "entangled": (build_entangled_graph, CreatorContext(register_tools=False)),
    "creator": (build_creator_graph, CreatorContext(register_tools=False)),
    "creator-self-checks": (build_creator_graph, CreatorContext(register_tools=False, self_checks=True)),
}
"""Method name → (graph builder, its configuration); all use the same models and sandbox."""


def _done_ids(out: Path) -> set[str]:
    if not out.exists():
        return set()
    return {json.loads(line)["id"] for line in out.read_text().splitlines() if line.strip()}


def _answer_after_round(attempts: list[Attempt], rounds: int) -> str | None:
    """The answer the run had after ``rounds`` rectifications (for the rounds curve)."""
    answers = [a["answer"] for a in attempts if a["round"] <= rounds and a["answer"] is not None]
    return answers[-1] if answers else None


def run_bench(
    dataset: str,
    method: str,
    out: Path,
    *,
    graph: CompiledStateGraph[Any, Any, Any, Any] | None = None,
    n: int | None = None,
    seed: int = 0,
    context_overrides: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Solve the sampled items not yet in ``out`` and append one row per item.

    ``graph`` replaces the method's own graph (tests pass one with scripted models).
    Rows: id, dataset, method, level, prediction, gold, correct, the answer and its
    correctness after 0..3 rectification rounds, status, rounds, tokens per role,
    seconds, tool id and error. Interrupted runs resume without redoing finished items.
    """
    load, grade = DATASETS[dataset]
    build, configuration = METHODS[method]
    context = replace(configuration, **(context_overrides or {}))
    graph = graph or build().compile(name=method)
    items = sample(load(), n, seed)
    done = _done_ids(out)
    todo = [item for item in items if item["id"] not in done]
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    with Progress() as progress:
        task = progress.add_task(f"{method} on {dataset}", total=len(items), completed=len(items) - len(todo))
        for item in todo:
            report = solve(graph, {"problem": item["question"], "table": item["table"]}, context)
            by_round = {r: _answer_after_round(report["attempts"], r) for r in range(4)}
            row = {
                "id": item["id"],
                "dataset": dataset,
                "method": method,
                "level": item["level"],
                "prediction": report["answer"],
                "gold": item["answer"],
                "correct": grade(report["answer"], item["answer"]),
                "correct_after_round": {str(r): grade(a, item["answer"]) for r, a in by_round.items()},
                "status": report["status"],
                "rounds": report["rounds"],
                "tokens": report["tokens"],
                "seconds": report["seconds"],
                "tool_id": report["tool_id"],
                "error": report["error"],
            }
            with out.open("a") as handle:
                handle.write(json.dumps(row) + "\n")
            rows.append(row)
            progress.advance(task)
    return rows
