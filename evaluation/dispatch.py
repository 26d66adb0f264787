"""The dispatcher benchmark: a shuffled stream of the six tasks' test items, two tasks with no tool.

As in LATM's set-up, the registry starts with a verified tool for every task but the
held-out ones (tools from ``experiment latm``'s making rows). Each request is dispatched
once, in order; its row says where it went and what that cost. The registry and the
queues live in a SQLite file beside the rows, and each request's steps are checkpointed in
the run store, so a killed run resumes where it stopped: inside the request it was on (a
tool being made for a full queue included), without queueing that request twice.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from rich.progress import Progress

from evaluation.datasets import load_bbh, sample
from evaluation.latm import TASKS, bbh_demos
from evaluation.rows import BenchError, append_row, budget_stop, read_rows, row_seconds
from evaluation.runner import embedded_prompt_cache
from graphs.latm import build_dispatcher_graph
from graphs.persistence import has_saved_steps, item_thread, open_checkpointer, run_config, runs
from graphs.running import RequestReport, dispatch_request
from nodes.common.grading import grade_bbh
from nodes.common.usage import total_seconds, total_tokens
from nodes.latm import LatmContext
from toolmaker.costs import Budget, PriceTable, Spend
from toolmaker.settings import get_settings
from tools_registry import Demo, LatmInfo, Provenance, ToolRegistry, sqlite_registry

EXPERIMENT = "latm-dispatch"
HELD_OUT = ("schedule_meeting", "tracking_shuffled_objects_five_objects")
"""Tasks with no tool at the start of the stream."""


def _first_verified(folder: Path, task: str) -> dict[str, Any] | None:
    """The task's first making row whose tool passed validation, if one did."""
    return next((row for row in read_rows(folder / f"making-{task}.jsonl") if row["verified"]), None)


def _seed_registry(registry: ToolRegistry, folder: Path, held_out: tuple[str, ...]) -> list[str]:
    """Register the first verified tool of every task not held out; the tasks that have one."""
    existing = {record.latm.family for record in registry.tools() if record.latm is not None}
    seeded = []
    for task in TASKS:
        if task in held_out:
            continue
        made = _first_verified(folder, task)
        if task not in existing and made is not None:
            demos = bbh_demos(task)
            questions = [example["question"] for example in [*demos["train"], *demos["valid"]]]
            registry.add(
                made["tool"],
                demos=[Demo(question=question, call="", output="") for question in questions],
                provenance=Provenance(problem=questions[0], method="latm"),
                tags=["latm", f"family:{task}"],
                latm=LatmInfo(family=task, card=made["card"], verified="gold"),
            )
        if task in existing or made is not None:
            seeded.append(task)
    return seeded


def stream_items(per_task: int, seed: int) -> list[tuple[str, Any]]:
    """``per_task`` test items of each task, shuffled into one stream by ``seed``."""
    stream = [(task, item) for task in TASKS for item in sample(load_bbh(task, "test"), per_task, seed)]
    random.Random(seed).shuffle(stream)
    return stream


def run_dispatch(
    folder: Path,
    *,
    per_task: int,
    seed: int = 1,
    held_out: tuple[str, ...] = HELD_OUT,
    budget: Budget | None = None,
) -> Path:
    """Dispatch the stream (resumable); write ``latm-dispatch.jsonl`` rows and ``latm-dispatch.md``.

    With a ``budget``, no request starts that, costing like the costliest so far (the rows
    already written count), could pass it (``BudgetReached``).
    """
    out, registry_file = folder / f"{EXPERIMENT}.jsonl", folder / f"{EXPERIMENT}.sqlite"
    rows = read_rows(out)
    spend = Spend.of(rows)
    done = {row["id"] for row in rows}
    prices = PriceTable.from_file(get_settings().prices_file)
    fresh = not registry_file.exists()
    if fresh and rows:
        raise BenchError(
            f"{out} holds {len(rows)} requests of a stream whose registry and queues ({registry_file}) "
            "are gone, so the rest cannot be dispatched as it was: run the stream in a new --out-dir "
            "with the making-*.jsonl rows copied there, or move the rows away to start over"
        )
    with sqlite_registry(registry_file) as registry, open_checkpointer(get_settings()) as saver:
        if fresh:  # requests half done in a folder since deleted must not resume against this one
            _forget_requests(saver, out)
        seeded = _seed_registry(registry, folder, held_out)
        if not seeded:
            raise BenchError(
                f"no verified tools in {folder}/making-*.jsonl: run 'toolmaker experiment latm' first"
            )
        builder = build_dispatcher_graph(prices=prices)
        graph = builder.compile(name="latm-dispatcher", store=registry.store, checkpointer=saver)
        stream = [(task, item) for task, item in stream_items(per_task, seed) if item["id"] not in done]
        with Progress() as progress:
            bar = progress.add_task("dispatching the stream", total=len(stream))
            origin = _family_origins(rows, seeded)
            # From the rows, not the registry: a resumed request may have made its family's tool.
            tooled = {*seeded, *(origin[str(row["family"])] for row in rows if row["route"] == "made now")}
            for task, item in stream:
                if stop := budget_stop(budget, spend, f"request {item['id']}", out):
                    raise stop
                had_tool = task in tooled
                thread = item_thread(EXPERIMENT, out, item["id"])
                context = LatmContext(seed=seed)
                report, resumed = _dispatch(graph, item["question"], context, thread)
                if report["error"]:
                    raise BenchError(f"{item['id']}: {report['error']} (a rerun goes on from there)")
                row = {
                    "id": item["id"],
                    "task": task,
                    "prompt_cache": embedded_prompt_cache(context, "maker", "user"),
                    "task_had_tool": had_tool,
                    "route": report["route"],
                    "family": report["family"],
                    "family_task": origin.setdefault(str(report["family"]), task),
                    "answer": report["answer"],
                    "gold": item["answer"],
                    "correct": grade_bbh(report["answer"], item["answer"], task),
                    "waiters": len(report["waiters"]),
                    "tokens": report["tokens"],
                    "seconds": report["seconds"],
                    "model_seconds": total_seconds(report["model_calls"]),
                    "resumed": resumed,
                    "dollars": prices.dollars(report["model_calls"]),
                }
                append_row(out, row)
                spend.add(row)
                saver.delete_thread(thread)
                if row["route"] == "made now":
                    tooled.add(row["family_task"])
                progress.advance(bar)
    return write_dispatch_report(folder, seeded=seeded, held_out=held_out, per_task=per_task, seed=seed)


def _forget_requests(saver: BaseCheckpointSaver[Any], out: Path) -> None:
    """Delete the checkpointed requests of the stream whose rows go to ``out``."""
    prefix = item_thread(EXPERIMENT, out, "")
    for run in runs(saver):
        if run.thread_id.startswith(prefix):
            saver.delete_thread(run.thread_id)


def _dispatch(graph: Any, request: str, context: LatmContext, thread: str) -> tuple[RequestReport, bool]:
    """Dispatch ``request`` in its own checkpointed thread, or finish it there; and whether it resumed.

    A resumed request's wall clock counts its last part only; its model seconds add up
    every part's calls (:func:`~evaluation.rows.row_seconds` takes the larger). A failed
    run's finished steps stay in the thread for a rerun.
    """
    config = run_config(thread, f"experiment:{EXPERIMENT}", context)
    resumed = has_saved_steps(graph, config)
    return dispatch_request(graph, None if resumed else request, context, config=config), resumed


def _family_origins(rows: list[dict[str, Any]], seeded: list[str]) -> dict[str, str]:
    """Each family with its true task: a seeded task's own, or that of the first request named so."""
    origin = {task: task for task in seeded}
    for row in rows:
        origin.setdefault(str(row["family"]), row["task"])
    return origin


def seeded_tasks(folder: Path, held_out: tuple[str, ...] = HELD_OUT) -> list[str]:
    """The tasks a stream starts with a tool for: those not held out with a verified making row."""
    return [task for task in TASKS if task not in held_out and _first_verified(folder, task) is not None]


def _mean(values: list[float] | list[int]) -> float:
    return sum(values) / len(values) if values else 0.0


def _mean_seconds(rows: list[dict[str, Any]]) -> float:
    return _mean([row_seconds(row) for row in rows])


def _right(rows: list[dict[str, Any]]) -> int:
    return sum(bool(row["correct"]) for row in rows)


def write_dispatch_report(
    folder: Path, *, seeded: list[str], per_task: int, seed: int, held_out: tuple[str, ...] = HELD_OUT
) -> Path:
    """Right-tool and reuse-vs-new rates, queue counts, accuracy and cost per request of the stream."""
    rows = read_rows(folder / f"{EXPERIMENT}.jsonl")
    with_tool = [row for row in rows if row["task_had_tool"]]
    without = [row for row in rows if not row["task_had_tool"]]
    right_tool = sum(row["route"] == "cached tool" and row["family_task"] == row["task"] for row in with_tool)
    right_decision = sum((row["route"] == "cached tool") == row["task_had_tool"] for row in rows)
    tokens = [total_tokens(row["tokens"]) for row in rows]

    def share(count: int, total: int) -> str:
        return f"{100 * count / total:.1f}% ({count}/{total})" if total else "—"

    lines = [
        f"# Experiment `{EXPERIMENT}`",
        "",
        f"A shuffled stream of the six tasks' test items; tools at the start for {', '.join(seeded)}; "
        f"held out (no tool at the start): {', '.join(held_out)}.",
        "",
        f"Command: `toolmaker experiment {EXPERIMENT} --n {per_task} --seed {seed} --out-dir {folder}`",
        "",
        "| figure | value |",
        "|---|---|",
        f"| requests | {len(rows)} |",
        f"| right tool (requests of a family that had a tool) | {share(right_tool, len(with_tool))} |",
        f"| right reuse-vs-new decision (all requests) | {share(right_decision, len(rows))} |",
        f"| requests that waited in a queue | {sum(row['route'] == 'queued' for row in rows)} |",
        f"| tools made during the stream | {sum(row['route'] == 'made now' for row in rows)} |",
        f"| accuracy, end to end | {share(sum(row['correct'] for row in rows), len(rows))} |",
        f"| accuracy, requests of a family that had a tool | {share(_right(with_tool), len(with_tool))} |",
        f"| accuracy, the others (the maker answering) | {share(_right(without), len(without))} |",
        f"| tokens per request | {_mean(tokens):.0f} |",
        f"| seconds per request (with a tool / the others) | {_mean_seconds(rows):.1f} "
        f"({_mean_seconds(with_tool):.1f} / {_mean_seconds(without):.1f}) |",
    ]
    report = folder / f"{EXPERIMENT}.md"
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return report
