"""``toolmaker solve`` and ``toolmaker runs``: CREATOR on one problem, every step checkpointed.

A run that was killed or stopped by a failing endpoint resumes from its last finished step
(``runs resume ID``, or ``solve --thread-id ID`` again): the steps it finished are not asked
of the model again. ``runs`` lists, shows and resumes ``latm make``'s and ``latm solve``'s runs too.
"""

from __future__ import annotations

import argparse
import json
import uuid
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table

from cli.output import describe_tokens
from cli.prompting import prompt_choice, prompt_overrides
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
from graphs.running import SolveReport

_NEXT_STEP = {
    "retrieve": "creating a tool…",
    "create": "deciding how to call the tool…",
    "decide": "executing in the sandbox…",
    "execute": "rectifying…",
    "rectify": "executing in the sandbox…",
    "agree": "working…",
}


def _describe_update(node: str, update: dict[str, Any]) -> str:
    if node == "retrieve":
        reused = update.get("reused_tool_id")
        return (
            f"reusing registered tool [bold]{reused}[/] (score {update.get('reuse_score')})" if reused else ""
        )
    if node == "register":
        return f"registered tool [bold]{update['tool_id']}[/]" if update.get("tool_id") else ""
    if node == "create":
        tool = update.get("tool")
        return f"created tool [bold]{tool['name']}[/]" if tool else "create: no usable tool"
    if node == "decide":
        return "decided the call" if update.get("call") else "decide: no usable call"
    if node == "rectify":
        asked = [call["node"] for call in update.get("model_calls", [])]
        kind = "general-version round" if asked == ["generalize"] else "rectify round"
        return f"{kind} {update.get('rounds')}: changed {update.get('last_fix')}"
    if node == "judge_generality":
        return _describe_generality(update)
    if node == "agree":
        return _describe_agreement(update)
    attempt = update["attempts"][-1]
    if attempt["answer"] is not None:
        return f"executed: answer [bold green]{attempt['answer']}[/]"
    first_line = (attempt["failure"] or "").splitlines()[0][:100]
    return f"executed: [yellow]{first_line}[/]"


def _describe_agreement(update: dict[str, Any]) -> str:
    answers = [candidate["answer"] for candidate in update.get("candidates", [])]
    shown = ", ".join("no answer" if answer is None else str(answer) for answer in answers)
    split = f"[yellow]the {len(answers)} candidates disagree[/] ({shown})"
    if update.get("rectify_request"):
        return f"{split}: rectify judges them"
    if "answer" not in update:
        return f"{split}; no round left to judge them: the first answer stands"
    return f"the {len(answers)} candidates voted ({shown}): [bold green]{update['answer']}[/] stands"


def _describe_generality(update: dict[str, Any]) -> str:
    issues = update.get("generality")
    if issues is None:
        return ""
    if not issues:
        return "judged: a general tool"
    if update.get("status") == "running":
        return f"[yellow]not a general tool[/] ({'; '.join(issues)}): asking for a general version"
    return f"[yellow]kept single-use[/] ({'; '.join(issues)}): it will not be offered for reuse"


def solve_checkpointed(problem: Any, context: Any, thread_id: str, err: Console) -> SolveReport:
    """Solve ``problem`` in thread ``thread_id``, or with ``problem`` None resume that thread's run.

    A thread whose run did not finish is resumed rather than started again.

    Raises:
        RunError: The thread's run is finished, or there is no run to resume.
    """
    from graphs.creator import build_creator_graph
    from graphs.running import solve

    with checkpointed_graph(build_creator_graph(), "creator", thread_id, context, problem, err) as run:
        with err.status("creating a tool (an embedded model first loads for a few seconds)…") as spinner:

            def progress(node: str, update: dict[str, Any]) -> None:
                if line := _describe_update(node, update):
                    err.print(f"[dim]•[/] {line}")
                spinner.update(_NEXT_STEP.get(node, "working…"))

            return solve(run.graph, run.inputs, context, on_progress=progress, config=run.config)


def _print_report(report: SolveReport) -> None:
    out = Console()
    if report["tool"]:
        out.print(Panel(Syntax(report["tool"]["code"], "python"), title="tool"))
    if report["call"]:
        out.print(Panel(Syntax(report["call"], "python"), title="call"))
    if report["attempts"]:
        last = report["attempts"][-1]
        stdout = last["result"]["stdout"].strip() if last["result"] else ""
        output = stdout or last["failure"] or ""
        out.print(Panel(output, title="output"))
    tokens = describe_tokens(report["tokens"])
    out.print(f"[bold]answer:[/] {report['answer']}   [bold]status:[/] {report['status']}")
    out.print(f"rounds: {report['rounds']}   tokens: {tokens}   seconds: {report['seconds']}")


def _finish(problem: Any, context: Any, thread_id: str, args: argparse.Namespace) -> int:
    err = Console(stderr=True)
    try:
        report = run_with_decisions(
            lambda inputs: solve_checkpointed(inputs, context, thread_id, err), problem, args, err
        )
    except RunError as exc:
        err.print(f"[red]error:[/] {exc}")
        return EXIT_ERROR
    if args.json:
        print(json.dumps({**report, "thread_id": thread_id}, indent=2))
    else:
        _print_report(report)
    if (code := stop_code(report, thread_id, err)) is not None:
        return code
    err.print(f"[dim]run {thread_id}[/]")
    return 0 if report["status"] == "solved" else EXIT_FAILED


def _solve(args: argparse.Namespace) -> int:
    from nodes.creator.context import CreatorContext

    try:
        table = Path(args.table).read_text(encoding="utf-8") if args.table else ""
    except OSError as exc:
        Console(stderr=True).print(f"[red]error:[/] cannot read the table file: {exc}")
        return EXIT_ERROR
    context = CreatorContext(
        **prompt_overrides(args.prompt_variant),
        agree_candidates=args.agree,
        agree_sampling=args.agree_sampling,
        general_tools=args.general_tools,
        one_value_answers=args.one_value,
        max_rectify_rounds=args.max_rounds,
        execution_timeout_s=args.timeout,
        self_checks=args.self_checks,
        maker_model=args.model or "",
        maker_base_url=args.base_url or "",
        register_tools=args.register,
        reuse_tools=args.reuse,
        approve_tools=args.approve_tools or args.approve is not None,
    )
    problem = {"problem": args.question, **({"table": table} if table else {})}
    return _finish(problem, context, args.thread_id or uuid.uuid4().hex[:12], args)


def _runs(args: argparse.Namespace) -> int:
    from graphs.persistence import open_checkpointer, runs
    from nodes.creator.context import CreatorContext
    from toolmaker.settings import get_settings

    with open_checkpointer(get_settings()) as saver:
        found = {run.thread_id: run for run in runs(saver)}
    if args.runs_command == "list":
        columns = ("thread_id", "graph", "updated_at", "step", "status", "answer", "problem")
        rows = [{**{"thread_id": r.thread_id, "graph": r.graph, "updated_at": r.updated_at, "step": r.step},
                 **{key: r.values.get(key) for key in ("status", "answer", "problem")}}
                for r in found.values()]  # fmt: skip
        if args.json:
            print(json.dumps(rows, indent=2))
            return 0
        table = Table("thread", "graph", "updated", "step", "status", "answer", "problem")
        for row in rows:
            table.add_row(*("" if row[key] is None else str(row[key]) for key in columns))
        Console().print(table)
        return 0
    run = found.get(args.thread_id)
    if run is None:
        Console(stderr=True).print(
            f"[red]error:[/] there is no run {args.thread_id}: see `toolmaker runs list`"
        )
        return EXIT_ERROR
    if args.runs_command == "show":
        shown = {"thread_id": run.thread_id, "graph": run.graph, "step": run.step, "values": run.values}
        print(json.dumps(shown, indent=2, default=str))
        return 0
    overrides = {"maker_model": args.model, "maker_base_url": args.base_url,
                 "user_model": args.user_model, "user_base_url": args.user_base_url}  # fmt: skip
    chosen = {**run.context, **{name: value for name, value in overrides.items() if value}}
    if run.graph == "creator":
        return _finish(None, CreatorContext(**chosen), run.thread_id, args)
    if run.graph in ("latm-dispatcher", "latm-tool-maker"):
        from cli.latm import finish_making, finish_request
        from nodes.latm import LatmContext
        from toolmaker.costs import PriceError, PriceTable

        try:
            prices = PriceTable.from_file(get_settings().prices_file)
        except PriceError as exc:
            Console(stderr=True).print(f"[red]error:[/] {exc}")
            return EXIT_ERROR
        finish = finish_request if run.graph == "latm-dispatcher" else finish_making
        return finish(None, LatmContext(**chosen), run.thread_id, args, prices)
    Console(stderr=True).print(
        f"[red]error:[/] run {run.thread_id} is a benchmark item ({run.graph}): run its "
        "`toolmaker bench` or `toolmaker experiment` command again, which resumes it"
    )
    return EXIT_ERROR


def add_solve_parser(commands: Any) -> None:
    """Register ``toolmaker solve``."""
    solve = commands.add_parser(
        "solve", help="solve a problem with CREATOR (create → decide → execute ⇄ rectify)"
    )
    solve.add_argument("question", help="the problem, in natural language")
    solve.add_argument("--table", help="a file with a table or reference text for the problem")
    solve.add_argument("--max-rounds", type=int, default=3, help="rectification rounds (default 3)")
    solve.add_argument("--timeout", type=float, default=5.0, help="seconds per execution (default 5)")
    solve.add_argument("--model", help="model of the maker role (default: settings / embedded)")
    solve.add_argument("--base-url", help="OpenAI-compatible base URL of the maker role")
    solve.add_argument(
        "--self-checks",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="ask for and run the model's own assert checks of its tool (default off)",
    )
    solve.add_argument(
        "--general-tools",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="ask once for a general version of a tool that is not general; a tool still not general "
        "is registered single-use (default on)",
    )
    solve.add_argument(
        "--one-value",
        action="store_true",
        help="the answer is one value: a printed empty list, or a tuple or list of several, goes to rectify",
    )
    solve.add_argument(
        "--agree",
        type=at_least_one,
        default=1,
        metavar="K",
        help="candidates that vote on a solved problem's answer (creator-agree uses 3; default 1, off)",
    )
    solve.add_argument(
        "--agree-sampling",
        choices=("both", "tools", "calls"),
        default="both",
        help="what each further candidate samples: a new tool and call, a new tool, or a new call",
    )
    solve.add_argument(
        "--prompt-variant",
        action="append",
        metavar="[NODE=]VARIANT",
        type=prompt_choice,
        help="a prompt variant (name, .md path or the prompt's text) for NODE (default create), "
        "such as decide=demos; repeat for several nodes",
    )
    solve.add_argument(
        "--register",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="store the tool of a solved run in the registry (default on)",
    )
    solve.add_argument(
        "--reuse", action="store_true", help="reuse a matching registered tool if there is one"
    )
    add_approve_tools(solve)
    add_run_options(solve)
    solve.add_argument("--json", action="store_true", help="print one JSON object")
    solve.set_defaults(handler=_solve)


def add_runs_parser(commands: Any) -> None:
    """Register ``toolmaker runs list|show|resume``."""
    parser = commands.add_parser(
        "runs",
        help="list, show or resume checkpointed runs of `toolmaker solve`, `latm make` and `latm solve`",
    )
    actions = parser.add_subparsers(dest="runs_command", required=True)
    listing = actions.add_parser("list", help="every run, newest first")
    listing.add_argument("--json", action="store_true", help="print JSON")
    show = actions.add_parser("show", help="a run's last checkpointed state, as JSON")
    show.add_argument("thread_id")
    resume = actions.add_parser("resume", help="continue a run that did not finish from its last step")
    resume.add_argument("thread_id")
    resume.add_argument("--model", help="another model for the maker role")
    resume.add_argument("--base-url", help="another OpenAI-compatible base URL for the maker role")
    resume.add_argument("--user-model", help="another model for the user role (LATM)")
    resume.add_argument("--user-base-url", help="another OpenAI-compatible base URL for the user role (LATM)")
    add_run_options(resume, thread=False)
    resume.add_argument("--json", action="store_true", help="print one JSON object")
    for action in (listing, show, resume):
        action.set_defaults(handler=_runs)
