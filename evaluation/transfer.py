"""Tool transfer: a tool made on one scenario, found in the registry and reused on two others.

Per group of CREATOR's transfer set: scenario 1 is solved from scratch and its tool goes
into a registry that all groups share (so retrieval has to pick the right tool among
many); scenarios 2 and 3 are solved from scratch and again with ``reuse_tools`` on.
The paper offered only tools that answered correctly; here any tool whose run produced
an answer is registered, as in deployment, where correctness is unknown.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from langgraph.graph import StateGraph
from langgraph.graph.state import CompiledStateGraph
from pydantic import ValidationError
from rich.progress import Progress

from evaluation.datasets import Item, TransferGroup, load_tool_transfer, sample
from evaluation.report import sign_test, wins_and_losses
from evaluation.rows import BenchError, append_row, budget_stop, read_rows
from evaluation.runner import embedded_prompt_cache, ensure_one_setup, maker_model
from graphs.creator import build_creator_graph
from graphs.running import SolveReport, solve
from nodes.common.grading import grade_rounded
from nodes.common.usage import total_tokens
from nodes.creator.context import CreatorContext
from toolmaker.costs import Budget, PriceTable, Spend
from toolmaker.settings import get_settings
from tools_registry import ToolRecord, ToolRegistry
from tools_registry.storage import sqlite_registry

Build = Callable[[], StateGraph[Any, Any, Any, Any]]
Compiled = CompiledStateGraph[Any, Any, Any, Any]

EXPERIMENT = "transfer"
"""The experiment's name on the command line (``toolmaker experiment transfer``)."""
ROWS = "transfer.jsonl"
REGISTRY = "transfer-tools.sqlite"
REPORT = "transfer.md"


def _row(
    item: Item,
    arm: str,
    base: CreatorContext,
    report: SolveReport,
    registry: ToolRegistry,
    prices: PriceTable,
) -> dict[str, Any]:
    reused = report["reused_tool_id"]
    record = registry.get(reused) if reused else None
    stored = registry.get(report["tool_id"]) if arm == "make" and report["tool_id"] else None
    return {
        "id": item["id"],
        "model": maker_model(base),
        "prompt_cache": embedded_prompt_cache(base),
        "prompts": base.non_default_prompts(),
        "group": item["meta"]["group"],
        "scenario": int(item["id"].rsplit("/", 1)[1]),
        "arm": arm,
        "prediction": report["answer"],
        "gold": item["answer"],
        "correct": grade_rounded(report["answer"], item["answer"]),
        "status": report["status"],
        "rounds": report["rounds"],
        "tokens": report["tokens"],
        "dollars": prices.dollars(report["model_calls"]),
        "seconds": report["seconds"],
        "tool_id": report["tool_id"],
        "reused_tool_id": reused,
        "reused_from_problem": record.provenance.problem if record and record.provenance else None,
        # the registry is not in git: with its tools in the rows, a clone can go on with the run
        "stored_tool": stored.model_dump(mode="json") if stored else None,
    }


def run_transfer(
    folder: Path,
    *,
    n: int,
    seed: int = 0,
    context_overrides: dict[str, Any] | None = None,
    build: Build = build_creator_graph,
    budget: Budget | None = None,
    command: str = "",
) -> Path:
    """Run ``n`` groups (drawn by ``seed``) in both arms, resumably; return the report's path.

    ``command``, the command line that reproduces the run, heads the report.

    With a ``budget``, no problem starts that, costing like the costliest so far (the rows
    already written count), could pass it (``BudgetReached``).
    """
    out = folder / ROWS
    previous = read_rows(out)
    spend = Spend.of(previous)
    prices = PriceTable.from_file(get_settings().prices_file)
    base = replace(CreatorContext(), **(context_overrides or {}))
    ensure_one_setup(previous, base, out)
    done = {(row["id"], row["arm"]) for row in previous}
    groups = sample(load_tool_transfer(), n, seed)
    folder.mkdir(parents=True, exist_ok=True)
    with sqlite_registry(folder / REGISTRY) as registry, Progress() as progress:
        with_store = build().compile(store=registry.store, name="creator-transfer")
        without_store = build().compile(name="creator")
        steps = [(item, arm) for group in groups for item, arm in _plan(group)]
        todo = [(item, arm) for item, arm in steps if (item["id"], arm) not in done]
        if todo:
            _match_registry_to_rows(previous, registry, folder / REGISTRY)
        task = progress.add_task("tool transfer", total=len(steps), completed=len(steps) - len(todo))
        for item, arm in todo:
            if stop := budget_stop(budget, spend, f"{arm} on {item['id']}", out):
                raise stop
            graph, context = _arm(arm, base, with_store, without_store)
            report = solve(graph, {"problem": item["question"], "table": ""}, context)
            if report["error"]:
                raise BenchError(f"{arm} on {item['id']}: {report['error']}")
            row = _row(item, arm, base, report, registry, prices)
            append_row(out, row)
            spend.add(row)
            progress.advance(task)
    return write_transfer_report(folder, groups, command=command)


def _match_registry_to_rows(previous: list[dict[str, Any]], registry: ToolRegistry, path: Path) -> None:
    """Make the registry hold the tools finished scenario-1 runs stored, and only those.

    A tool the registry lacks is put back from its row. Rows written before they kept their
    tool cannot give it back; the run then refuses to go on, since the runs still to do would
    choose among fewer tools than the finished ones did. A tool no row names was stored by a
    scenario-1 run killed before its row was written: it goes, as the rerun stores its own.
    """
    held = {record.id for record in registry.records()}
    made = {
        row["tool_id"]: row.get("stored_tool") for row in previous if row["arm"] == "make" and row["tool_id"]
    }
    for stray in sorted(held - set(made)):
        registry.remove(stray)
    missing = []
    for tool_id, kept in sorted(made.items()):
        if tool_id in held:
            continue
        try:
            registry.restore(ToolRecord.model_validate(kept))
        except ValidationError:
            missing.append(tool_id)
    if missing:
        raise BenchError(
            f"{path} lacks {len(missing)} tools that scenario-1 runs stored, and their rows do not "
            f"hold them (first: {missing[0]}), so the runs still to do would choose among fewer tools "
            "than the finished ones did; put the registry back, or start the run over in a new --out-dir"
        )


def _plan(group: TransferGroup) -> list[tuple[Item, str]]:
    """Scenario 1 makes the tool; 2 and 3 are solved from scratch, then with the registry."""
    first, *others = group["scenarios"]
    return [
        (first, "make"),
        *[(item, "scratch") for item in others],
        *[(item, "transfer") for item in others],
    ]


def _arm(
    arm: str, base: CreatorContext, with_store: Compiled, without_store: Compiled
) -> tuple[Compiled, CreatorContext]:
    if arm == "make":
        return with_store, replace(base, register_tools=True, reuse_tools=False)
    if arm == "transfer":
        return with_store, replace(base, register_tools=False, reuse_tools=True)
    return without_store, replace(base, register_tools=False, reuse_tools=False)


def _reused_own(row: dict[str, Any], made_by: dict[Any, str | None]) -> bool:
    """Whether a transfer run reused the tool its own group's scenario 1 made."""
    return bool(row["reused_tool_id"]) and row["reused_tool_id"] == made_by.get(row["group"])


def _share(flags: list[bool]) -> str:
    return f"{sum(flags) / len(flags):.1%} ({len(flags)})" if flags else "—"


def _mean_tokens(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "—"
    total = sum(total_tokens(row["tokens"]) for row in rows)
    return f"{total / len(rows):.0f}"


def report_transfer(folder: Path, *, n: int, seed: int = 0, command: str = "") -> Path:
    """Rewrite the report of ``n`` groups drawn by ``seed`` from the rows in ``folder``."""
    return write_transfer_report(folder, sample(load_tool_transfer(), n, seed), command=command)


Pair = tuple[dict[str, Any], dict[str, Any]]


def _pairs(scratch: list[dict[str, Any]], transferred: list[dict[str, Any]]) -> list[Pair]:
    """(from scratch, reusing) rows of the scenarios solved both ways."""
    before = {row["id"]: row for row in scratch}
    return [(before[row["id"]], row) for row in transferred if row["id"] in before]


def _group_changes(pairs: list[Pair]) -> dict[str, int]:
    """How many groups with both scenarios solved both ways reusing improved, left the same, or made worse."""
    by_group: dict[str, list[int]] = {}
    for earlier, after in pairs:
        by_group.setdefault(after["group"], []).append(int(after["correct"]) - int(earlier["correct"]))
    complete = [sum(changes) for changes in by_group.values() if len(changes) == 2]
    return {
        "improved": sum(change > 0 for change in complete),
        "the same": sum(change == 0 for change in complete),
        "worse": sum(change < 0 for change in complete),
    }


def _paired_correct(pairs: list[Pair]) -> dict[str, list[bool]]:
    """Which of the paired scenarios were right from scratch, and which reusing."""
    return {
        "from scratch": [bool(earlier["correct"]) for earlier, _ in pairs],
        "reusing": [bool(after["correct"]) for _, after in pairs],
    }


def _paired_counts(pairs: list[Pair]) -> tuple[str, str, int, int]:
    """Accuracy from scratch and reusing, and the items only reusing and only scratch got right."""
    correct = _paired_correct(pairs)
    wins, losses = wins_and_losses(zip(correct["reusing"], correct["from scratch"], strict=True))
    return _share(correct["from scratch"]), _share(correct["reusing"]), wins, losses


def _by_stored_tool_section(pairs: list[Pair], made_right: dict[Any, bool]) -> list[str]:
    """Transfer against scratch, split by whether the tool reused answered its own scenario 1 right."""
    lines = [
        "",
        "## By whether the stored tool had answered its own scenario right",
        "",
        "The paper stored only tools that answered scenario 1 correctly; this run stores every tool",
        "that answered, as a deployment must. Pairs split by their group's scenario-1 answer:",
        "",
        "| scenario 1 | pairs | from scratch | reusing | only reusing right | only scratch right | p |",
        "|---|---|---|---|---|---|---|",
    ]
    for right, label in ((True, "right"), (False, "wrong or none")):
        members = [pair for pair in pairs if made_right.get(pair[1]["group"]) == right]
        scratch, reusing, wins, losses = _paired_counts(members)
        lines.append(
            f"| {label} | {len(members)} | {scratch} | {reusing} | {wins} | {losses} "
            f"| {sign_test(wins, losses):.3f} |"
        )
    return lines


def _paired_section(pairs: list[Pair]) -> list[str]:
    """Scenarios 2 and 3 with and without the stored tool: items and groups that gained or lost."""
    scratch_accuracy, transfer_accuracy, wins, losses = _paired_counts(pairs)
    groups = _group_changes(pairs)
    return [
        "",
        "## Transfer against scratch, paired",
        "",
        f"- scenarios 2 and 3 solved both ways: accuracy {scratch_accuracy} from scratch, "
        f"{transfer_accuracy} reusing",
        f"- items only reusing got right: {wins}; only from scratch: {losses}; "
        f"sign test p = {sign_test(wins, losses):.3f}",
        f"- groups with both scenarios solved both ways: {sum(groups.values())}; improved "
        f"{groups['improved']}, the same {groups['the same']}, worse {groups['worse']}",
        "- the paper (ChatGPT, 100 groups): 63.0 → 78.3, 39 groups improved and 2 worse",
    ]


def write_transfer_report(folder: Path, groups: list[TransferGroup], *, command: str = "") -> Path:
    """Accuracy and cost per arm, transfer against scratch paired, retrieval, and reuses per offered tool.

    Read from the rows alone, so a clone without the run's registry writes the same report.
    """
    from evaluation.plots import write_transfer_plot

    wanted = {item["id"] for group in groups for item in group["scenarios"]}
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for row in read_rows(folder / ROWS):  # the first row of an item and arm, for every section alike
        if row["id"] in wanted and (row["id"], row["arm"]) not in seen:
            seen.add((row["id"], row["arm"]))
            rows.append(row)
    arms = {arm: [row for row in rows if row["arm"] == arm] for arm in ("make", "scratch", "transfer")}
    transferred = arms["transfer"]
    lines = [
        "# Experiment `transfer`",
        "",
        "Tool made on scenario 1 of a group, stored in one registry shared by all groups, and",
        "retrieved for scenarios 2 and 3 (`reuse_tools`), against solving 2 and 3 from scratch.",
        *(["", "Command:", "", "```", command, "```"] if command else []),
        "",
        "| arm | scenarios | accuracy | tokens / item | seconds / item |",
        "|---|---|---|---|---|",
    ]
    for arm, label in (
        ("make", "1 (tool made)"),
        ("scratch", "2, 3 from scratch"),
        ("transfer", "2, 3 reusing"),
    ):
        members = arms[arm]
        seconds = f"{sum(row['seconds'] for row in members) / len(members):.1f}" if members else "—"
        accuracy = _share([row["correct"] for row in members])
        lines.append(f"| {arm} | {label} | {accuracy} | {_mean_tokens(members)} | {seconds} |")
    # By tool id, not by problem: two groups may share scenario 1's text (transfer 5 and 9 do).
    made_by = {row["group"]: row["tool_id"] for row in arms["make"]}
    pairs = _pairs(arms["scratch"], transferred)
    lines += _paired_section(pairs)
    lines += _by_stored_tool_section(pairs, {row["group"]: bool(row["correct"]) for row in arms["make"]})
    stored = [row for row in arms["make"] if row["tool_id"]]
    # A single-use tool is stored but never offered: the reuse figures are over the offered ones.
    single_use = [row["tool_id"] for row in stored if (row.get("stored_tool") or {}).get("single_use")]
    recorded = all(row.get("stored_tool") for row in stored)
    offered = [row["tool_id"] for row in stored if row["tool_id"] not in single_use]
    with_own_offered = [row for row in transferred if made_by.get(row["group"]) in offered]
    lines += [
        "",
        "## Retrieval",
        "",
        "- transfer runs that reused a stored tool: "
        + _share([bool(r["reused_tool_id"]) for r in transferred]),
        "- ... and it was the tool made on their own group's scenario 1: "
        + _share([_reused_own(row, made_by) for row in transferred]),
    ]
    if recorded:
        lines.append(
            "- runs whose own group's tool was offered for reuse, that reused it: "
            + _share([_reused_own(row, made_by) for row in with_own_offered])
        )
    reuses = Counter(row["reused_tool_id"] for row in transferred if row["reused_tool_id"])
    uses = [reuses[tool_id] for tool_id in offered]
    lines += [
        "",
        "## Reuse of stored tools",
        "",
        f"- tools stored: {len(stored)} (from {len(arms['make'])} scenario-1 runs)",
        f"- ... single-use, never offered for reuse: {len(single_use)}"
        if recorded
        else "- ... single-use, never offered for reuse: not recorded (rows older than stored_tool)",
        f"- reuses per offered tool: {sum(uses) / len(uses):.2f}" if uses else "- reuses per offered tool: —",
        f"- offered tools reused at least once: {_share([u > 0 for u in uses])}",
        f"- offered tools reused more than once: {_share([u > 1 for u in uses])}",
    ]
    if pairs:
        each_way = {way: 100 * sum(flags) / len(flags) for way, flags in _paired_correct(pairs).items()}
        plot = write_transfer_plot(each_way, _group_changes(pairs), folder / "plots" / "transfer.png")
        lines += ["", f"![Scenarios 2 and 3, reusing against from scratch]({plot.relative_to(folder)})"]
    path = folder / REPORT
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
