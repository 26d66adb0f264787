"""LATM's experiment on its six Big-Bench tasks: make tools with several seeds, use them on test items.

Cells, each a resumable JSONL file under the results folder, on the same test items:
``user-cot`` and ``maker-cot`` (chain-of-thought of each model, through ``run_bench``),
``making-TASK`` (one row per making run, greedy or a sampled seed: verified or not, proposals,
cost, tool and card), and ``latm-ROLE-RUN`` (the tool that run made, used by the user or by the
maker). Seconds are wall-clock, sandbox runs included, as for the CoT rows.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Literal, NamedTuple, cast

from langgraph.checkpoint.base import BaseCheckpointSaver
from rich.progress import Progress

from evaluation.datasets import load_bbh, sample
from evaluation.plots import write_amortised_cost_plot
from evaluation.rows import BenchError, append_row, budget_stop, read_rows, row_seconds
from evaluation.runner import embedded_prompt_cache, regrade, run_bench
from graphs.latm import build_tool_maker_graph, build_tool_user_graph
from graphs.persistence import item_thread, open_checkpointer, resume_or_start, run_config
from graphs.running import RUN_ERRORS, describe_run_error
from nodes.common.grading import grade_bbh
from nodes.common.usage import total_seconds, total_tokens, usage_by
from nodes.latm import Example, LatmContext, ToolMakingInput, ToolUseInput
from nodes.latm.examples import DEMOS_PER_SPLIT
from prompts import prompt_label
from toolmaker.costs import Budget, PriceTable, Spend
from toolmaker.settings import get_settings

EXPERIMENT = "latm"
USER_ROLES = {"user": "the light model (user role)", "maker": "the maker model as user"}
NO_SLOT = "No time slot works."
MAKER_TEMPERATURE = 0.3
"""LATM's maker samples at 0.3, so each making seed is a different draw (greedy would repeat one)."""


class MakingRun(NamedTuple):
    """One making of a task's tool: ``greedy`` (as ``toolmaker latm make`` does) or a sampled seed."""

    label: str
    seed: int
    temperature: float


def making_runs(sampled: int) -> list[MakingRun]:
    """The greedy run, then ``sampled`` runs at LATM's temperature, one per seed."""
    runs = [MakingRun(f"s{seed}", seed, MAKER_TEMPERATURE) for seed in range(sampled)]
    return [MakingRun("greedy", 0, 0.0), *runs]


TASKS = (
    "word_sorting",
    "dyck_languages",
    "chinese_remainder_theorem",
    "schedule_meeting",
    "logical_deduction_five_objects",
    "tracking_shuffled_objects_five_objects",
)
"""LATM's six tasks, those whose tools the embedded maker made in a first probe first (see REFERENCES)."""


def bbh_demos(task: str, *, spare: bool = False) -> ToolMakingInput:
    """LATM's demos of a Big-Bench task: its first 3 train and first 3 validation items.

    ``spare``: the train and validation items after those instead (2 of each in LATM's split),
    which no scored making uses, so maker prompts can be compared on them.
    """
    chosen = slice(DEMOS_PER_SPLIT, None) if spare else slice(DEMOS_PER_SPLIT)

    def demos(split: Literal["train", "valid"]) -> list[Example]:
        items = load_bbh(task, split)[chosen]
        return [Example(question=item["question"], answer=item["answer"]) for item in items]

    return ToolMakingInput(task=task, train=demos("train"), valid=demos("valid"))


def make_tools(
    demos: ToolMakingInput,
    out: Path,
    runs: list[MakingRun],
    prices: PriceTable,
    prompts: dict[str, str] | None = None,
    *,
    budget: Budget | None = None,
    spend: Spend | None = None,
) -> list[dict[str, Any]]:
    """Make the task's tool from ``demos`` once per run (resumable); one row per run in ``out``.

    ``prompts`` are the makers' prompt variants (``LatmContext`` fields such as
    ``propose_prompt``), recorded in each row; rows made with other prompts are an error, so
    two variants never share a cell. Each making's steps are checkpointed in the run store, so
    one a kill cut short goes on from its last step (a making takes minutes on the embedded 1.5B).

    With a ``budget``, no making starts that, costing as much as the costliest item of
    ``spend`` so far (by default this file's rows), could pass it.

    Raises:
        BenchError: ``out`` holds a row made with other prompts, or a making failed.
        BudgetReached: The next making could pass the budget.
    """
    prompts = prompts or {}
    recorded = _prompt_labels(prompts)
    rows = read_rows(out)
    spend = spend if spend is not None else Spend.of(rows)
    if other := next((row for row in rows if row.get("prompts", {}) != recorded), None):
        raise BenchError(
            f"{out} holds making rows with prompts {other.get('prompts', {})}, not {recorded}: "
            "give each variant a results folder of its own"
        )
    with open_checkpointer(get_settings()) as saver:
        graph = build_tool_maker_graph(prices=prices).compile(name="latm-tool-maker", checkpointer=saver)
        for run in runs:
            if not any(row["run"] == run.label for row in rows):
                before = f"making {demos['task']}'s tool ({run.label})"
                if stop := budget_stop(budget, spend, before, out):
                    raise stop
                rows.append(_make_tool(graph, saver, demos, out, run, prices, prompts))
                spend.add(rows[-1])
    return rows


def _prompt_labels(prompts: dict[str, str]) -> dict[str, str]:
    """How a making row records its prompt variants: by name or path, a prompt's text by its hash."""
    return {name: prompt_label(variant) for name, variant in prompts.items()}


def _make_tool(
    graph: Any,
    saver: BaseCheckpointSaver[Any],
    demos: ToolMakingInput,
    out: Path,
    run: MakingRun,
    prices: PriceTable,
    prompts: dict[str, str],
) -> dict[str, Any]:
    """One making run's row, appended to ``out``; its checkpoints are deleted once it is written."""
    task = demos["task"]
    variants: dict[str, Any] = dict(prompts)
    context = LatmContext(seed=run.seed, temperature=run.temperature, **variants)
    config = run_config(item_thread("latm-making", out, run.label), "latm-tool-maker", context)
    started = time.monotonic()
    try:
        state = resume_or_start(graph, demos, config, context)
    except RUN_ERRORS as exc:
        raise BenchError(f"making a {task} tool ({run.label}): {describe_run_error(exc)}") from exc
    calls = state.get("model_calls", [])
    row = {
        "task": task,
        "run": run.label,
        "prompt_cache": embedded_prompt_cache(context, "maker"),
        "prompts": _prompt_labels(prompts),
        "seed": run.seed,
        "temperature": run.temperature,
        "verified": state.get("status") == "verified",
        "reason": state.get("reason"),
        "proposals": state.get("proposals", []),
        "tool": state.get("tool"),
        "card": state.get("card"),
        "tokens": usage_by(calls, "role"),
        "seconds": round(time.monotonic() - started, 2),
        "model_seconds": total_seconds(calls),
        "dollars": prices.dollars(calls),
    }
    append_row(out, row)
    saver.delete_thread(str(config["configurable"]["thread_id"]))
    return row


def use_tool(
    task: str,
    making: dict[str, Any],
    role: str,
    folder: Path,
    *,
    n: int,
    seed: int,
    prices: PriceTable,
    budget: Budget | None = None,
    spend: Spend | None = None,
) -> Path:
    """Answer the sampled test items with one made tool (resumable rows, as ``run_bench`` writes).

    A ``budget`` is kept as :func:`make_tools` keeps it (``BudgetReached``).
    """
    out = folder / f"latm-{role}-{making['run']}-bbh-{task}.jsonl"
    previous = read_rows(out)
    done = {row["id"] for row in previous}
    spend = spend if spend is not None else Spend.of(previous)
    settings = get_settings()
    endpoint = settings.user if role == "user" else settings.maker
    model = endpoint.model
    # One repair allowed; the paper's no-repair setting is read off the first run (round 0).
    context = LatmContext(user_model=model, user_base_url=endpoint.base_url, user_repair_rounds=1)
    graph = build_tool_user_graph().compile(name="latm-tool-user")
    todo = [item for item in sample(load_bbh(task, "test"), n, seed) if item["id"] not in done]
    with Progress() as progress:
        bar = progress.add_task(f"latm {role} {making['run']} on {task}", total=len(todo))
        for item in todo:
            if stop := budget_stop(budget, spend, f"item {item['id']} of latm-{role}", out):
                raise stop
            request = {"request": item["question"], "tool": making["tool"], "card": making["card"]}
            try:
                state, first_try_seconds, seconds = _timed_use(graph, cast(ToolUseInput, request), context)
            except RUN_ERRORS as exc:
                raise BenchError(f"latm {role} on {item['id']}: {describe_run_error(exc)}") from exc
            calls = state.get("model_calls", [])
            repaired = state.get("repairs", 0) > 0
            first_try = [call for call in calls if call["node"] != "repair_call"]
            answers = {"0": None if repaired else state.get("answer"), "1": state.get("answer")}
            row = {
                "id": item["id"],
                "dataset": f"bbh-{task}",
                "method": f"latm-{role}",
                "making_run": making["run"],
                "model": model,
                "prompt_cache": embedded_prompt_cache(context, "user"),
                "prediction": answers["0"],
                "gold": item["answer"],
                "correct": grade_bbh(answers["0"], item["answer"], task),
                "answer_after_round": answers,
                "correct_after_round": {r: grade_bbh(a, item["answer"], task) for r, a in answers.items()},
                "status": state.get("status"),
                "rounds": state.get("repairs", 0),
                # The paper's setting (no repair) is the row's cost; what the repair added is kept apart.
                "tokens": usage_by(first_try, "role"),
                "seconds": first_try_seconds,
                "dollars": prices.dollars(first_try),
                "tokens_with_repair": usage_by(calls, "role"),
                "seconds_with_repair": seconds,
                "dollars_with_repair": prices.dollars(calls),
            }
            append_row(out, row)
            spend.add(row)
            progress.advance(bar)
    return out


def _timed_use(
    graph: Any, request: ToolUseInput, context: LatmContext
) -> tuple[dict[str, Any], float, float]:
    """The tool user's final state, the wall-clock seconds to its first answer, and to its last."""
    started = time.monotonic()
    state: dict[str, Any] = {}
    first_try: float | None = None
    for mode, chunk in graph.stream(request, context=context, stream_mode=["updates", "values"]):
        if mode == "values":
            state = dict(chunk)
        elif first_try is None and "run_call" in chunk:
            first_try = round(time.monotonic() - started, 2)
    seconds = round(time.monotonic() - started, 2)
    return state, seconds if first_try is None else first_try, seconds


def run_latm(
    folder: Path,
    *,
    n: int,
    step: int,
    seed: int = 1,
    sampled_makings: int = 3,
    tasks: tuple[str, ...] = TASKS,
    prices: PriceTable | None = None,
    budget: Budget | None = None,
) -> Path:
    """Make every task's tools, then grow every cell to ``n`` test items, ``step`` at a time.

    Tools come first because the dispatcher benchmark starts from them. The report is
    rewritten after every task's making and every step, so partial results can be read and
    committed. A ``budget`` covers the tasks' makings, tool uses and chain-of-thought rows,
    those of earlier runs too (``BudgetReached``: a rerun with a larger one goes on).
    """
    prices = prices or PriceTable.from_file(get_settings().prices_file)
    settings = get_settings()
    spend = Spend.of(row for task in tasks for path in _task_files(folder, task) for row in read_rows(path))
    makings = {}
    for task in tasks:
        out = folder / f"making-{task}.jsonl"
        runs = making_runs(sampled_makings)
        makings[task] = make_tools(bbh_demos(task), out, runs, prices, budget=budget, spend=spend)
        write_latm_report(folder, n=n, seed=seed, tasks=tasks)
    for size in range(min(step, n), n + step, step):
        size = min(size, n)
        for task, making in makings.items():
            for role, endpoint in (("user", settings.user), ("maker", settings.maker)):
                # CoT asks the maker role: point it at this role's endpoint.
                played_by = {"maker_model": endpoint.model, "maker_base_url": endpoint.base_url}
                run_bench(f"bbh-{task}", "cot", folder / f"{role}-cot-bbh-{task}.jsonl", n=size, seed=seed,
                          context_overrides=played_by, budget=budget, spend=spend)  # fmt: skip
                for made in making:
                    if made["verified"]:
                        use_tool(task, made, role, folder, n=size, seed=seed, prices=prices, budget=budget,
                                 spend=spend)  # fmt: skip
        write_latm_report(folder, n=n, seed=seed, tasks=tasks)
        if size == n:
            break
    return folder / f"{EXPERIMENT}.md"


def _task_files(folder: Path, task: str) -> list[Path]:
    """The results files of one task in ``folder``: its makings, CoT rows and tool uses."""
    return [
        folder / f"making-{task}.jsonl",
        *folder.glob(f"*-cot-bbh-{task}.jsonl"),
        *folder.glob(f"latm-*-bbh-{task}.jsonl"),
    ]


def _cell(rows: list[dict[str, Any]], ids: set[str], *, repaired: bool = False) -> dict[str, float]:
    kept = [row for row in rows if row["id"] in ids]
    if not kept:
        return {}
    tokens = [total_tokens(row["tokens"]) for row in kept]
    right = [row["correct_after_round"]["1"] if repaired else row["correct"] for row in kept]
    return {
        "accuracy": 100 * sum(right) / len(kept),
        "tokens": sum(tokens) / len(kept),
        "seconds": sum(float(row["seconds"]) for row in kept) / len(kept),
        "dollars": sum(float(row.get("dollars", 0.0)) for row in kept) / len(kept),
        "n": len(kept),
    }


def _by_run(
    uses: dict[tuple[str, str], list[dict[str, Any]]], wanted: set[str], role: str, *, repaired: bool = False
) -> str:
    """Accuracy of each made tool in ``role``'s hands, by making run (with one repair allowed)."""
    found = [(run, _cell(rows, wanted, repaired=repaired)) for (r, run), rows in uses.items() if r == role]
    return ", ".join(f"{run}: {c['accuracy']:.1f}" for run, c in found if c) or "no tool (yet)"


def _amortised_section(amortised: dict[str, dict[str, float]], folder: Path) -> list[str]:
    """The cost-over-n plot and, per task, from which n on LATM costs less than maker CoT."""
    complete = {task: cost for task, cost in amortised.items() if {"making", "use", "cot"} <= set(cost)}
    if not complete:
        return []
    plot = write_amortised_cost_plot(complete, folder / "plots" / "latm" / "cost_over_n.png")
    lines = [
        "",
        "## Cost of n requests (wall-clock seconds)",
        "",
        f"![C + n·c against n·C]({plot.relative_to(folder)})",
        "",
    ]
    for task, cost in complete.items():
        saving = cost["cot"] - cost["use"]
        breakeven = f"from n = {math.ceil(cost['making'] / saving)} on" if saving > 0 else "never"
        lines.append(
            f"- {task}: one verified tool cost C = {cost['making']:.0f} s to make, "
            f"then c = {cost['use']:.1f} s per request, against {cost['cot']:.1f} s for maker CoT: "
            f"LATM is cheaper {breakeven}."
        )
    return lines


def _making_line(task: str, makings: list[dict[str, Any]]) -> str:
    greedy = next((m for m in makings if m["temperature"] == 0), None)
    sampled = [m for m in makings if m["temperature"] != 0]
    greedy_cell = "—" if greedy is None else "verified" if greedy["verified"] else "no tool"
    tokens = sum(total_tokens(m["tokens"]) for m in makings) / len(makings)
    return (
        f"| {task} | {greedy_cell} | {sum(m['verified'] for m in sampled)} / {len(sampled)} | "
        f"{sum(len(m['proposals']) for m in makings) / len(makings):.1f} | {tokens:.0f} | "
        f"{sum(row_seconds(m) for m in makings) / len(makings):.0f} |"
    )


def write_latm_report(folder: Path, *, n: int, seed: int, tasks: tuple[str, ...] = TASKS) -> Path:
    """``latm.md``: accuracy and cost per request, making success and cost, and amortised cost."""
    lines = [
        "# Experiment `latm`",
        "",
        "LATM's six Big-Bench tasks: tools made from the first 3 train and 3 validation items with "
        "several seeds, used on test items only; chain-of-thought of each model on the same items.",
        "",
        f"Command: `toolmaker experiment latm --n {n} --seed {seed} --out-dir {folder}`",
        "",
        "## Accuracy per request (items every method finished; LATM: each verified tool, by making run)",
        "",
        "| task | items | user CoT | maker CoT | LATM maker → user | LATM maker → user, 1 repair "
        "| LATM maker → maker |",
        "|---|---|---|---|---|---|---|",
    ]
    making_lines = [
        f"| task | greedy run | sampled runs verified (T = {MAKER_TEMPERATURE}) | proposals per run "
        "| making tokens | making s |",
        "|---|---|---|---|---|---|",
    ]
    cost_lines = [
        "| task | method | tokens / request | seconds / request | $ / request |",
        "|---|---|---|---|---|",
    ]
    amortised: dict[str, dict[str, float]] = {}
    for task in tasks:
        wanted = {item["id"] for item in sample(load_bbh(task, "test"), n, seed)}
        cells = {
            name: regrade(read_rows(folder / f"{name}-cot-bbh-{task}.jsonl")) for name in ("user", "maker")
        }
        makings = read_rows(folder / f"making-{task}.jsonl")
        uses = {
            (role, making["run"]): regrade(
                read_rows(folder / f"latm-{role}-{making['run']}-bbh-{task}.jsonl")
            )
            for making in makings
            if making["verified"]
            for role in USER_ROLES
        }
        for rows in [*cells.values(), *uses.values()]:
            wanted &= {row["id"] for row in rows}
        summary = {name: _cell(rows, wanted) for name, rows in cells.items()}

        cot = {name: f"{c['accuracy']:.1f}" if c else "—" for name, c in summary.items()}
        lines.append(
            f"| {task} | {len(wanted)} | {cot['user']} | {cot['maker']} | "
            f"{_by_run(uses, wanted, 'user')} | {_by_run(uses, wanted, 'user', repaired=True)} | "
            f"{_by_run(uses, wanted, 'maker')} |"
        )
        verified = [m for m in makings if m["verified"]]
        amortised[task] = {}
        if verified:  # the cost of one verified tool: every making run's seconds, failed ones too
            amortised[task]["making"] = sum(row_seconds(m) for m in makings) / len(verified)
            used = [_cell(rows, wanted) for (role, _), rows in uses.items() if role == "user"]
            if used := [cell for cell in used if cell]:
                amortised[task]["use"] = sum(cell["seconds"] for cell in used) / len(used)
        if summary["maker"]:
            amortised[task]["cot"] = summary["maker"]["seconds"]
        if makings:
            making_lines.append(_making_line(task, makings))
        for label, cell in [("user CoT", summary["user"]), ("maker CoT", summary["maker"])] + [
            (f"LATM maker → {role} ({run})", _cell(rows, wanted)) for (role, run), rows in uses.items()
        ]:
            if cell:
                figures = f"{cell['tokens']:.0f} | {cell['seconds']:.1f} | {cell['dollars']:.5f}"
                cost_lines.append(f"| {task} | {label} | {figures} |")
        if task == "schedule_meeting" and wanted:
            constant = sum(
                grade_bbh(NO_SLOT, item["answer"], task)
                for item in load_bbh(task, "test")
                if item["id"] in wanted
            )
            lines.append(
                f'| (constant "{NO_SLOT}") | {len(wanted)} | {100 * constant / len(wanted):.1f} | | | | |'
            )
    sections = [*lines, "", "## Making a tool (per run: the greedy one, and one per sampled seed)", "",
                *making_lines, "",
                "Making s: a run's wall clock, or its model seconds where a kill split the run "
                "(a resumed run's wall clock counts its last part only).", ""]  # fmt: skip
    sections += [
        "## Cost per request (on the same items)",
        "",
        *cost_lines,
        *_amortised_section(amortised, folder),
    ]
    text = "\n".join(sections)
    report = folder / f"{EXPERIMENT}.md"
    report.write_text(text + "\n", encoding="utf-8")
    return report
