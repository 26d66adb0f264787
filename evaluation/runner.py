"""Run a method on a dataset, one JSONL row per item, resuming where a run stopped."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import ExitStack
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, get_args

from langgraph.graph import StateGraph
from langgraph.graph.state import CompiledStateGraph
from rich.progress import Progress

from evaluation.datasets import (
    BBH_TASKS,
    Item,
    load_bbh,
    load_creation_challenge,
    load_items,
    load_math,
    load_tabmwp,
    sample,
)
from evaluation.rows import BenchError, append_row, budget_stop, read_rows
from graphs.baselines import build_cot_graph, build_entangled_graph, build_pot_graph, build_pot_vote_graph
from graphs.creator import build_creator_graph
from graphs.persistence import has_saved_steps, item_thread, open_checkpointer, run_config
from graphs.running import SolveReport, solve
from nodes.common.context import ModelContext
from nodes.common.grading import grade_answer, grade_bbh, grade_math, grade_numeric, grade_rounded
from nodes.common.usage import Role, seconds_by, usage_by
from nodes.creator.context import CreatorContext, PromptNode
from nodes.creator.state import CreatorInput
from prompts import PromptError, load_prompt
from toolmaker.costs import Budget, PriceTable, Spend
from toolmaker.models import served_embedded
from toolmaker.settings import get_settings

Grader = Callable[[str | None, str], bool]
_FAILURE_CHARS = 300

DATASETS: dict[str, tuple[Callable[[], list[Item]], Grader]] = {
    "math": (lambda: load_math("numeric"), grade_numeric),
    "math-full": (lambda: load_math("full"), grade_math),
    "tabmwp": (lambda: load_tabmwp("1000"), grade_numeric),
    "tabmwp-creator": (lambda: load_tabmwp("creator"), grade_numeric),
    "creation": (lambda: load_creation_challenge("none"), grade_rounded),
    "creation-utility": (lambda: load_creation_challenge("utility"), grade_rounded),
    "creation-all": (lambda: load_creation_challenge("all"), grade_rounded),
}
"""Dataset name → (loader, grader)."""

DATASET_CONTEXT: dict[str, dict[str, Any]] = {
    "tabmwp": {"one_value_answers": True},
    "tabmwp-creator": {"one_value_answers": True},
}
"""What every method is told about a dataset's problems: each TabMWP answer is one value."""


def _bbh_dataset(task: str) -> tuple[Callable[[], list[Item]], Grader]:
    return (lambda: load_bbh(task, "test")), partial(grade_bbh, task=task)


DATASETS |= {f"bbh-{task}": _bbh_dataset(task) for task in BBH_TASKS}
"""LATM's six Big-Bench tasks, on their 240 test items (the first 10 are for making tools)."""

Build = Callable[[], StateGraph[Any, Any, Any, Any]]
METHODS: dict[str, tuple[Build, CreatorContext]] = {
    "cot": (build_cot_graph, CreatorContext()),
    "pot": (build_pot_graph, CreatorContext(max_rectify_rounds=0)),
    "pot-rectify": (build_pot_graph, CreatorContext()),
    "pot-vote": (build_pot_vote_graph, CreatorContext()),
    "entangled": (build_entangled_graph, CreatorContext(register_tools=False, general_tools=False)),
    # The paper's CREATOR: a tool that is not general is judged so, not rewritten.
    "creator": (build_creator_graph, CreatorContext(register_tools=False, general_tools=False)),
    "creator-general": (build_creator_graph, CreatorContext(register_tools=False)),
    # The paper's CREATOR, its first answer put to a vote of 3 candidates (issue: silent wrong answers).
    "creator-agree": (
        build_creator_graph,
        CreatorContext(register_tools=False, general_tools=False, agree_candidates=3),
    ),
    "creator-self-checks": (
        build_creator_graph,
        CreatorContext(register_tools=False, self_checks=True, general_tools=False),
    ),
}
"""Method name → (graph builder, its configuration); all use the same models and sandbox."""


def resolve_dataset(dataset: str) -> tuple[Callable[[], list[Item]], Grader]:
    """The loader and grader of a name in :data:`DATASETS`, or of a ``.jsonl`` file of one's own items.

    The file is read only when the loader is called, so its rows can be graded again without it.

    Raises:
        BenchError: ``dataset`` is neither.
    """
    if dataset in DATASETS:
        return DATASETS[dataset]
    if dataset.endswith(".jsonl"):
        return partial(load_items, Path(dataset)), grade_answer
    raise BenchError(f"no dataset {dataset!r}: one of {', '.join(DATASETS)}, or a .jsonl file of items")


def calls_per_item(out: Path) -> dict[str, int]:
    """Model calls each finished item of a results file used, over all roles."""
    return {row["id"]: sum(usage["calls"] for usage in row["tokens"].values()) for row in read_rows(out)}


def matching_calls(out: Path) -> Callable[[Item], dict[str, Any]]:
    """Per-item overrides giving majority vote as many samples as the run in ``out`` made calls."""

    def overrides(item: Item) -> dict[str, Any]:
        calls = calls_per_item(out)
        if item["id"] not in calls:
            raise BenchError(f"{out} has no row for {item['id']}: run the method to match on it first")
        return {"vote_samples": calls[item["id"]]}

    return overrides


def _answer_after_round(report: SolveReport, rounds: int) -> str | None:
    """The answer had at most ``rounds`` rectifications been allowed (for the rounds curve).

    A run that stopped before ``rounds`` keeps its final answer: for methods that never
    rectify (chain-of-thought, majority vote) that is the answer at every round.
    """
    if rounds >= report["rounds"]:
        return report["answer"]
    answers = [a["answer"] for a in report["attempts"] if a["round"] <= rounds and a["answer"] is not None]
    return answers[-1] if answers else None


def _failure_summary(failure: str | None) -> str | None:
    """A failure's first line, as short as a row can carry: why an attempt gave no answer."""
    if failure is None:
        return None
    lines = failure.strip().splitlines()
    first = lines[0] if lines else ""
    return first if len(first) <= _FAILURE_CHARS else first[: _FAILURE_CHARS - 1] + "…"


def regrade(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows graded again by their dataset's current grader, from the answers they recorded.

    A grader fix thus reaches rows written before it. Rows from before per-round answers
    were recorded keep their per-round verdicts (used only for rounds before their last).
    Rows of datasets :func:`resolve_dataset` does not know are returned as they are.
    """
    graded = []
    for row in rows:
        try:
            _, grade = resolve_dataset(row["dataset"])
        except BenchError:
            graded.append(row)
            continue
        gold = row["gold"]
        row = {**row, "correct": grade(row["prediction"], gold)}
        if "answer_after_round" in row:
            by_round = row["answer_after_round"].items()
            row["correct_after_round"] = {r: grade(answer, gold) for r, answer in by_round}
        graded.append(row)
    return graded


def ensure_one_setup(rows: list[dict[str, Any]], context: CreatorContext, out: Path) -> None:
    """Refuse, before any item runs, a prompt variant that does not load, and rows of another setup.

    A results file holds one model's rows with one set of prompt variants.
    """
    for node in get_args(PromptNode):
        try:
            load_prompt(node, context.prompt_variant(node))
        except PromptError as exc:
            raise BenchError(f"{exc} (no item of {out} was run)") from exc
    model, prompts = maker_model(context), context.non_default_prompts()
    if others := {row["model"] for row in rows if "model" in row} - {model}:
        raise BenchError(f"{out} holds rows of another model ({', '.join(sorted(others))}); write elsewhere")
    if others := {json.dumps(row.get("prompts", {}), sort_keys=True) for row in rows} - {
        json.dumps(prompts, sort_keys=True)
    }:
        raise BenchError(
            f"{out} holds rows of other prompt variants ({', '.join(sorted(others))}); write elsewhere"
        )


def dataset_family(dataset: str) -> str:
    """What ``{dataset}`` in a prompt variant stands for: ``math`` for math-full, a file's stem."""
    return dataset.split("-")[0] if dataset in DATASETS else Path(dataset).stem


def for_dataset(overrides: dict[str, Any], dataset: str) -> dict[str, Any]:
    """``overrides`` with ``{dataset}`` in prompt variants filled, so one option picks a variant a family.

    ``create_prompt="demos-{dataset}"`` is ``demos-math`` on MATH, ``demos-tabmwp`` on TabMWP.
    """
    family = dataset_family(dataset)
    prompts = {k: v.replace("{dataset}", family) for k, v in overrides.items() if k.endswith("_prompt")}
    return {**overrides, **prompts}


def maker_model(context: CreatorContext) -> str:
    """The maker role's model name, as rows record it."""
    return context.maker_model or get_settings().maker.model


def embedded_prompt_cache(context: ModelContext, *roles: Role) -> bool | None:
    """Whether embedded servers answering ``roles`` (default: the acting one) reuse prompt prefixes.

    None if no embedded server answers them. Rows record it: with the cache on, a greedy
    reply depends on the request before it.
    """
    settings = get_settings()
    requests = [context.model_request(role) for role in roles or (context.acting_role,)]
    return settings.embedded_prompt_cache if any(served_embedded(r, settings) for r in requests) else None


def run_bench(
    dataset: str,
    method: str,
    out: Path,
    *,
    graph: CompiledStateGraph[Any, Any, Any, Any] | None = None,
    n: int | None = None,
    seed: int = 0,
    context_overrides: dict[str, Any] | None = None,
    item_overrides: Callable[[Item], dict[str, Any]] | None = None,
    concurrency: int = 1,
    budget: Budget | None = None,
    spend: Spend | None = None,
) -> list[dict[str, Any]]:
    """Solve the sampled items not yet in ``out`` and append one row per item.

    ``dataset`` is a name or a ``.jsonl`` file of items (see :func:`resolve_dataset`);
    ``graph`` replaces the method's own graph (tests pass one with scripted models);
    ``item_overrides`` adds configuration per item (see :func:`matching_calls`);
    ``concurrency`` items are solved at once (for remote endpoints: the embedded server
    answers one request at a time). Each item's steps are checkpointed in the run store
    (``runs.sqlite`` in the data directory, or PostgreSQL), so an item a kill cut short
    goes on from its last step when the command runs again; its thread is deleted once
    its row is written. Rows, in the order items finish: id, dataset,
    method, model, whether the embedded server's prompt cache was on (None: no embedded
    server), prompts, whether answers had to be one value, level, prediction, gold,
    correct, the answer (and its correctness)
    after 0..3 rectification rounds, status, rounds, tokens and calls per role, seconds,
    tool id, the final tool's code and call (a program's, for program-of-thought), and
    each execution's answer as judged (None where it gave none; a general version's is
    last; agree's further candidates are not executions of the run and are not listed)
    and the first line of why it was not accepted (None where it was).
    Interrupted runs resume without redoing finished items. A failure outside the model's
    code (a dead endpoint) stops the run with :class:`BenchError` once the
    items under way are written, and writes no row for that item, so a rerun retries it.
    With a ``budget``, no item starts that, costing as much as the costliest so far, could
    pass it: :class:`BudgetReached` once the items under way are written. What counts
    against it is ``spend`` (shared by a preset's cells), by default the rows ``out``
    already holds, so a rerun with a larger budget goes on.
    """
    load, grade = resolve_dataset(dataset)
    build, configuration = METHODS[method]
    context = replace(
        configuration, **{**DATASET_CONTEXT.get(dataset, {}), **for_dataset(context_overrides or {}, dataset)}
    )
    model = maker_model(context)
    previous = read_rows(out)
    ensure_one_setup(previous, context, out)
    prices = PriceTable.from_file(get_settings().prices_file)
    items = sample(load(), n, seed)
    done = {row["id"] for row in previous}
    todo = [item for item in items if item["id"] not in done]
    out.parent.mkdir(parents=True, exist_ok=True)

    # A graph given by the caller (tests' scripted ones) runs without checkpoints.
    stack = ExitStack()
    saver = None if graph else stack.enter_context(open_checkpointer(get_settings()))
    compiled = graph or build().compile(name=method, checkpointer=saver)

    def solve_item(item: Item) -> dict[str, Any]:
        item_context = replace(context, **item_overrides(item)) if item_overrides else context
        problem: CreatorInput | None = {"problem": item["question"], "table": item["table"]}
        config = None
        if saver is not None:
            config = run_config(item_thread("bench", out, item["id"]), f"bench:{method}", item_context)
            problem = None if has_saved_steps(compiled, config) else problem
        report = solve(compiled, problem, item_context, config=config)
        if report["error"]:
            raise BenchError(f"{method} on {item['id']}: {report['error']}")
        by_round = {r: _answer_after_round(report, r) for r in range(4)}
        return {
            "id": item["id"],
            "dataset": dataset,
            "method": method,
            "model": model,
            "prompt_cache": embedded_prompt_cache(context),
            "prompts": context.non_default_prompts(),
            "one_value_answers": context.one_value_answers,
            "level": item["level"],
            "prediction": report["answer"],
            "gold": item["answer"],
            "correct": grade(report["answer"], item["answer"]),
            "correct_after_round": {str(r): grade(a, item["answer"]) for r, a in by_round.items()},
            "answer_after_round": {str(r): answer for r, answer in by_round.items()},
            "status": report["status"],
            "rounds": report["rounds"],
            "tokens": report["tokens"],
            "tokens_by_node": usage_by(report["model_calls"], "node"),
            "seconds_by_role": seconds_by(report["model_calls"], "role"),
            "dollars": prices.dollars(report["model_calls"]),
            "seconds": report["seconds"],
            "tool_id": report["tool_id"],
            "tool_code": report["tool"]["code"] if report["tool"] else None,
            "call": report["call"],
            "attempt_answers": [attempt["answer"] for attempt in report["attempts"]],
            "attempt_failures": [_failure_summary(attempt["failure"]) for attempt in report["attempts"]],
            "generality": report["generality"],
            "generality_before": report["generality_before"],
            "general_version": report["general_version"],
        }

    spend = spend if spend is not None else Spend.of(previous)
    rows: list[dict[str, Any]] = []
    failure: BenchError | None = None
    workers = max(1, concurrency)
    waiting = iter(todo)
    with stack, Progress() as progress, ThreadPoolExecutor(max_workers=workers) as pool:
        task = progress.add_task(f"{method} on {dataset}", total=len(items), completed=len(items) - len(todo))
        pending: set[Future[dict[str, Any]]] = set()
        while True:
            while failure is None and len(pending) < workers and (item := next(waiting, None)) is not None:
                before = f"item {item['id']} of {method} on {dataset}"
                if stop := budget_stop(budget, spend, before, out, under_way=len(pending)):
                    failure = stop
                    break
                pending.add(pool.submit(solve_item, item))
            if not pending:
                break
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                try:
                    row = future.result()
                except BenchError as exc:
                    failure = failure or exc
                    continue
                append_row(out, row)
                if saver is not None:
                    saver.delete_thread(item_thread("bench", out, row["id"]))
                rows.append(row)
                spend.add(row)
                progress.advance(task)
    if failure is not None:
        raise failure
    return rows
