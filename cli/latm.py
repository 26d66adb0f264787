"""``toolmaker latm ...``: make a verified tool, solve one request, or serve a stream of them."""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

from rich.console import Console
from rich.progress import Progress

from cli.output import describe_tokens
from cli.prompting import prompt_overrides, split_choice
from cli.runs import (
    EXIT_ERROR,
    EXIT_FAILED,
    RunError,
    add_approve_tools,
    add_run_options,
    at_least_one,
    checkpointed_graph,
    run_with_decisions,
    stop_code,
)
from nodes.common.usage import total_seconds, total_tokens, usage_of

if TYPE_CHECKING:
    from graphs.running import MakeReport, RequestReport


def _context(args: argparse.Namespace, **extra: Any) -> Any:
    from nodes.latm import LatmContext

    overrides = {
        name: value
        for name, value in (
            ("maker_model", args.model),
            ("maker_base_url", args.base_url),
            ("user_model", args.user_model),
            ("user_base_url", args.user_base_url),
        )
        if value
    }
    if args.queue_threshold is not None:
        overrides["queue_threshold"] = args.queue_threshold
    overrides |= prompt_overrides(args.prompt_variant)
    return LatmContext(seed=args.seed, user_repair_rounds=args.user_repairs, **overrides, **extra)


def _latm_prompt_choice(text: str) -> str:
    from nodes.latm.context import LatmPromptNode

    node, variant = split_choice(text)
    if not variant or node not in get_args(LatmPromptNode):
        raise argparse.ArgumentTypeError(
            f"give NODE=VARIANT with NODE one of {', '.join(get_args(LatmPromptNode))}, not {text!r}"
        )
    return text


def _prices(args: argparse.Namespace) -> Any:
    from toolmaker.costs import PriceTable
    from toolmaker.settings import get_settings

    return PriceTable.from_file(Path(args.prices) if args.prices else get_settings().prices_file)


def _read_demos(path: Path) -> tuple[list[Any], list[Any]]:
    """Rows ``{"question", "answer"[, "split"]}``; without splits the first 3 train, the next 3 validate."""
    from nodes.latm.examples import DEMOS_PER_SPLIT

    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            rows.append((row.get("split"), {"question": str(row["question"]), "answer": str(row["answer"])}))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{path}:{number}: not a demo row with question and answer ({exc})") from exc
    if any(split for split, _ in rows):
        return [r for s, r in rows if s == "train"], [r for s, r in rows if s == "valid"]
    demos = [row for _, row in rows]
    return demos[:DEMOS_PER_SPLIT], demos[DEMOS_PER_SPLIT : 2 * DEMOS_PER_SPLIT]


def _task_demos(task: str, demos: str | None) -> tuple[list[Any], list[Any]]:
    from evaluation.datasets import BBH_TASKS
    from evaluation.latm import bbh_demos

    if demos:
        return _read_demos(Path(demos))
    if task not in BBH_TASKS:
        known = ", ".join(BBH_TASKS)
        raise ValueError(f"no demos for task {task!r}: give --demos FILE.jsonl, or one of {known}")
    made = bbh_demos(task)
    return list(made["train"]), list(made["valid"])


def _make(args: argparse.Namespace) -> int:
    from toolmaker.datasets import DatasetError

    err = Console(stderr=True)
    try:
        train, valid = _task_demos(args.task, args.demos)
        prices = _prices(args)
    except (ValueError, OSError, DatasetError) as exc:
        err.print(f"[red]error:[/] {exc}")
        return EXIT_ERROR
    if not train or not valid:
        err.print("[red]error:[/] making a tool needs at least one train and one validation demo")
        return EXIT_ERROR
    demos = {"task": args.task, "train": train, "valid": valid}
    context = _context(args, approve_tools=args.approve_tools or args.approve is not None)
    return finish_making(demos, context, args.thread_id or uuid.uuid4().hex[:12], args, prices)


def make_checkpointed(demos: Any, context: Any, thread_id: str, prices: Any, err: Console) -> MakeReport:
    """Make a tool from ``demos`` in thread ``thread_id``, or with ``demos`` None resume that thread's run.

    Raises:
        RunError: The thread's run is finished, or there is no run to resume.
    """
    from graphs.latm import build_tool_maker_graph
    from graphs.running import MakeReport, stream_run

    builder = build_tool_maker_graph(prices=prices)
    with checkpointed_graph(builder, "latm-tool-maker", thread_id, context, demos, err) as run:
        with err.status("making a tool: proposal 1…") as spinner:
            seen: dict[str, Any] = {}

            def progress(node: str, update: dict[str, Any]) -> None:
                seen.update(update)
                spinner.update(
                    f"{node}: proposal {seen.get('proposal', 0) + 1}, fix round {seen.get('fix_rounds', 0)}…"
                )

            state, waiting, error = stream_run(
                run.graph, run.inputs, context, config=run.config, on_progress=progress
            )
    calls = state.get("model_calls", [])
    return MakeReport(
        task=state.get("task", ""),
        status=state.get("status"),
        tool_id=state.get("tool_id"),
        reason=state.get("reason") if error is None else error,
        card=state.get("card"),
        proposals=state.get("proposals", []),
        tokens=state.get("tokens", {}),
        seconds=total_seconds(calls),
        dollars=prices.dollars(calls),
        approval=state.get("approval"),
        waiting_for=waiting,
        error=error,
    )


def finish_making(demos: Any, context: Any, thread_id: str, args: argparse.Namespace, prices: Any) -> int:
    """Make (or resume making) a tool with the decisions it asks for; print it; its exit code."""
    err = Console(stderr=True)
    try:
        report = run_with_decisions(
            lambda inputs: make_checkpointed(inputs, context, thread_id, prices, err), demos, args, err
        )
    except RunError as exc:
        err.print(f"[red]error:[/] {exc}")
        return EXIT_ERROR
    if args.json:
        print(json.dumps({**report, "thread_id": thread_id}, indent=2))
    elif report["tool_id"]:
        out = Console()
        out.print(report["card"])
        out.print(f"[bold]registered[/] {report['tool_id']} for {report['task']}; {_cost_line(report)}")
    elif report["approval"]:
        err.print(f"[yellow]not registered[/]: the tool was rejected ({report['approval'].get('reason')})")
    elif report["waiting_for"] is None:
        err.print(f"[yellow]no tool[/] for {report['task']}: {report['reason']}")
    if (code := stop_code(report, thread_id, err)) is not None:
        return code
    err.print(f"[dim]run {thread_id}[/]")
    return 0 if report["tool_id"] else EXIT_FAILED


def _cost_line(report: MakeReport) -> str:
    tokens = describe_tokens(report["tokens"])
    return f"tokens: {tokens}; {report['seconds']} s; ${report['dollars']:.4f}"


def _requests(source: str) -> Iterator[str]:
    """Lines of a file or stdin, read as they come: plain text, or JSONL with ``request`` (or ``question``).

    Raises:
        ValueError: A JSON line holds no request.
    """
    handle = sys.stdin if source == "-" else Path(source).open(encoding="utf-8")
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            if not line.lstrip().startswith("{"):
                yield line.strip()
                continue
            try:
                row = json.loads(line)
                yield str(row.get("request") or row["question"])
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise ValueError(f"{source}:{number}: not a request (a JSON line needs 'request')") from exc


def _dispatcher(args: argparse.Namespace, store: Any) -> Any:
    from graphs.latm import build_dispatcher_graph

    return build_dispatcher_graph(prices=_prices(args)).compile(name="latm-dispatcher", store=store)


def _report_dict(report: Any, prices: Any) -> dict[str, Any]:
    maker = usage_of(report["model_calls"], "maker")
    return {
        **report,
        "maker_tokens": maker["input"] + maker["output"],
        "dollars": prices.dollars(report["model_calls"]),
    }


def _solve(args: argparse.Namespace) -> int:
    from toolmaker.costs import PriceError

    try:
        prices = _prices(args)
    except PriceError as exc:
        Console(stderr=True).print(f"[red]error:[/] {exc}")
        return EXIT_ERROR
    context = _context(args, approve_tools=args.approve_tools or args.approve is not None)
    return finish_request(args.request, context, args.thread_id or uuid.uuid4().hex[:12], args, prices)


def dispatch_checkpointed(
    request: Any, context: Any, thread_id: str, prices: Any, err: Console
) -> RequestReport:
    """Dispatch ``request`` in thread ``thread_id``, or with ``request`` None resume that thread's run.

    Raises:
        RunError: The thread's run is finished, or there is no run to resume.
    """
    from graphs.latm import build_dispatcher_graph
    from graphs.running import dispatch_request

    builder = build_dispatcher_graph(prices=prices)
    with checkpointed_graph(builder, "latm-dispatcher", thread_id, context, request, err) as run:
        with err.status("dispatching (a tool may be made now: that takes minutes)…"):
            return dispatch_request(run.graph, run.inputs, context, config=run.config)


def finish_request(request: Any, context: Any, thread_id: str, args: argparse.Namespace, prices: Any) -> int:
    """Dispatch (or resume) one request with the decisions it asks for; print it; its exit code."""
    err = Console(stderr=True)
    try:
        report = run_with_decisions(
            lambda inputs: dispatch_checkpointed(inputs, context, thread_id, prices, err), request, args, err
        )
    except RunError as exc:
        err.print(f"[red]error:[/] {exc}")
        return EXIT_ERROR
    shown = {**_report_dict(report, prices), "thread_id": thread_id}
    if args.json:
        print(json.dumps(shown, indent=2))
    else:
        Console().print(
            f"[bold]route:[/] {shown['route']} ({shown['family']})   [bold]answer:[/] {shown['answer']}\n"
            f"maker tokens: {shown['maker_tokens']}   ${shown['dollars']:.4f}   {shown['seconds']} s"
        )
    if (code := stop_code(report, thread_id, err)) is not None:
        return code
    err.print(f"[dim]run {thread_id}[/]")
    return 0 if report["answer"] is not None else EXIT_FAILED


def _serve(args: argparse.Namespace) -> int:
    from evaluation.rows import budget_stop
    from graphs.running import dispatch_request
    from toolmaker.costs import Budget, PriceError, Spend
    from toolmaker.settings import get_settings
    from tools_registry import open_registry

    err = Console(stderr=True)
    out = Path(args.out) if args.out else None
    try:
        prices = _prices(args)
        budget = Budget.parse(args.budget) if args.budget else Budget()
        served = _served(out) if out else {}
        total = None if args.source == "-" else sum(1 for _ in _requests(args.source))
    except (PriceError, OSError, ValueError) as exc:
        err.print(f"[red]error:[/] {exc}")
        return EXIT_ERROR
    reports = list(served.values())
    spend = Spend.of(reports)
    if served:
        err.print(f"{len(served)} requests already served in {out}: continuing after them")
    with open_registry(get_settings()) as registry, Progress(console=err) as progress:
        graph = _dispatcher(args, registry.store)
        bar = progress.add_task("requests", total=total, completed=len(served))
        try:
            for index, request in enumerate(_requests(args.source), start=1):
                if index in served:
                    if served[index]["request"] != request:
                        raise ValueError(
                            f"{out} holds the answers of another stream (request {index} differs): "
                            "give another --out"
                        )
                    continue
                before = f"request {index}" + (f" of {total}" if total else "")
                if stop := budget_stop(budget, spend, before, out):
                    err.print(f"[yellow]budget:[/] {stop}")
                    _print_totals(reports, err)
                    return EXIT_FAILED
                report = {
                    "index": index,
                    "request": request,
                    **_report_dict(dispatch_request(graph, request, _context(args)), prices),
                }
                _show(report, args.json, progress.console)
                if report["error"]:
                    # Not written: a rerun asks this request again.
                    err.print(f"[red]error:[/] request {index}: {report['error']}")
                    _print_totals(reports, err)
                    return EXIT_ERROR
                if out:
                    with out.open("a", encoding="utf-8") as handle:
                        handle.write(json.dumps(report) + "\n")
                reports.append(report)
                spend.add(report)
                progress.advance(bar)
        except (OSError, ValueError) as exc:
            err.print(f"[red]error:[/] {exc}")
            _print_totals(reports, err)
            return EXIT_ERROR
    _print_totals(reports, err)
    return 0


def _served(out: Path) -> dict[int, dict[str, Any]]:
    """The rows an earlier run of the stream wrote to ``out``, by request number."""
    from evaluation.rows import read_rows

    rows = read_rows(out)
    try:
        return {int(row["index"]): row for row in rows}
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{out} is not a file of served requests (a row has no index)") from exc


def _show(report: dict[str, Any], as_json: bool, console: Console) -> None:
    if as_json:
        print(json.dumps(report), flush=True)
        return
    console.print(
        f"[bold]{report['route']}[/] ({report['family']}): {report['answer']}  "
        f"[dim]{total_tokens(report['tokens'])} tokens, ${report['dollars']:.4f}, {report['seconds']} s[/]"
    )


CREATOR_NODES = frozenset({"create", "decide", "rectify", "generalize"})
"""The nodes through which the maker answers a request directly (making a tool is not that)."""


def _print_totals(reports: list[dict[str, Any]], err: Console) -> None:
    """Totals, and the cost per request against the maker answering every request itself."""
    if not reports:
        return
    routes: dict[str, int] = {}
    for report in reports:
        routes[str(report["route"])] = routes.get(str(report["route"]), 0) + 1
    tokens = sum(total_tokens(r["tokens"]) for r in reports)
    direct = [
        sum(c["input"] + c["output"] for c in r["model_calls"] if c["node"] in CREATOR_NODES)
        for r in reports
        if r["route"] in ("queued", "no tool")
    ]
    line = (
        f"{len(reports)} requests: "
        + ", ".join(f"{count} {route}" for route, count in routes.items())
        + f"; {tokens / len(reports):.0f} tokens per request"
    )
    if direct:
        line += f" (the maker answering directly took {sum(direct) / len(direct):.0f} per request here)"
    err.print(line)


def add_latm_parser(commands: Any) -> None:
    """Register ``toolmaker latm make|solve|serve``."""
    latm = commands.add_parser(
        "latm", help="LATM: make verified tools with the maker, use them with the user"
    )
    actions = latm.add_subparsers(dest="latm_command", required=True)

    def common(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--model", help="model of the maker role (default: settings / embedded 1.5B)")
        parser.add_argument("--base-url", help="OpenAI-compatible base URL of the maker role")
        parser.add_argument("--user-model", help="model of the user role (default: settings / embedded 0.5B)")
        parser.add_argument("--user-base-url", help="OpenAI-compatible base URL of the user role")
        parser.add_argument(
            "--user-repairs", type=int, default=0, help="repairs of a failed call (default 0)"
        )
        parser.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
        parser.add_argument("--prices", help="a JSON price table (default: TOOLMAKER_PRICES, else free)")
        parser.add_argument(
            "--prompt-variant",
            action="append",
            metavar="NODE=VARIANT",
            type=_latm_prompt_choice,
            help="a prompt variant (name, .md path or the prompt's text) for a LATM node; "
            "repeat for several nodes",
        )
        parser.add_argument("--json", action="store_true", help="print JSON")

    make = actions.add_parser("make", help="make and verify a tool for a task, and register it")
    make.add_argument(
        "--task", required=True, help="a Big-Bench task (its LATM demos) or any name with --demos"
    )
    make.add_argument("--demos", help="JSONL demos: question, answer[, split train|valid]")
    add_approve_tools(make)
    add_run_options(make)
    common(make)
    make.set_defaults(handler=_make, queue_threshold=None)  # make queues nothing

    solve = actions.add_parser("solve", help="dispatch one request: a cached tool, or the maker (and queue)")
    solve.add_argument("request", help="the request, in natural language")
    add_approve_tools(solve)
    add_run_options(solve)
    add_queue_threshold(solve)
    common(solve)
    solve.set_defaults(handler=_solve)

    serve = actions.add_parser("serve", help="dispatch a stream of requests (a file, or - for stdin)")
    serve.add_argument("source", help="requests, one per line, or JSONL with a request (or question) field")
    serve.add_argument("--budget", help="stop before passing this many tokens (20000) or dollars ($0.50)")
    serve.add_argument(
        "--out", help="append each answered request to this JSONL file; a rerun continues after them"
    )
    add_queue_threshold(serve)
    common(serve)
    serve.set_defaults(handler=_serve)


def add_queue_threshold(parser: argparse.ArgumentParser) -> None:
    """``--queue-threshold``: how many requests of a new family wait before its tool is made."""
    parser.add_argument(
        "--queue-threshold",
        type=at_least_one,
        help="requests of a new family that wait before the maker makes its tool (default 6)",
    )
