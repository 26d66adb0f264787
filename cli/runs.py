"""What every checkpointed command-line run shares: its thread, and the decisions a person gives it.

A run is a thread in the run store (``runs.sqlite`` in the data directory, or PostgreSQL with
``TOOLMAKER_DATABASE_URL``). Naming an unfinished thread again resumes it after its last
finished step; a run that stopped for a tool's approval goes on with the person's decision.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from langgraph.types import Command
from rich.console import Console
from rich.panel import Panel
from rich.prompt import Prompt
from rich.syntax import Syntax

EXIT_FAILED, EXIT_ERROR, EXIT_WAITING = 1, 2, 3
_MOST_DECISIONS = 5
"""A run asks at most this many decisions of one command (each graph asks one: its new tool)."""

Report = TypeVar("Report", bound=Mapping[str, Any])
"""A run's report: it says what the run waits for (``waiting_for``) and why it failed (``error``)."""


class RunError(Exception):
    """A run cannot be started or resumed as asked."""


def _start_or_resume(graph: Any, config: Any, inputs: Any, thread_id: str, err: Console) -> Any:
    """What to give ``graph`` in ``config``'s thread: ``inputs`` for a new run, None to resume one.

    A decision (``Command``) is passed on as it is.

    Raises:
        RunError: The thread's run is finished, or there is no run to resume.
    """
    snapshot = graph.get_state(config)
    if snapshot.values and not snapshot.next:
        raise RunError(f"run {thread_id} is finished: see it with `toolmaker runs show {thread_id}`")
    if inputs is None and not snapshot.values:
        raise RunError(f"there is no run {thread_id}: `toolmaker runs list` shows the runs")
    if snapshot.values and not isinstance(inputs, Command):
        step = (snapshot.metadata or {}).get("step")
        err.print(f"run {thread_id} did not finish: resuming it after step {step}")
        return None
    return inputs


class Checkpointed(NamedTuple):
    """A graph compiled on the registry and the run store, its thread's config, and what to give it."""

    graph: Any
    config: Any
    inputs: Any
    """What ``_start_or_resume`` gives: the inputs of a new run, None to resume, or a decision."""


@contextmanager
def checkpointed_graph(
    builder: Any, name: str, thread_id: str, context: Any, inputs: Any, err: Console
) -> Iterator[Checkpointed]:
    """``builder`` compiled on the registry and the run store, for thread ``thread_id``.

    The graph's name is recorded with the thread, so that ``toolmaker runs resume`` knows
    which command resumes it.

    Raises:
        RunError: The thread's run is finished, or there is no run to resume.
    """
    from graphs.persistence import open_checkpointer, run_config
    from toolmaker.settings import get_settings
    from tools_registry import open_registry

    settings = get_settings()
    with open_registry(settings) as registry, open_checkpointer(settings) as saver:
        graph = builder.compile(name=name, store=registry.store, checkpointer=saver)
        config = run_config(thread_id, name, context)
        yield Checkpointed(graph, config, _start_or_resume(graph, config, inputs, thread_id, err))


def run_with_decisions(
    run: Callable[[Any], Report], inputs: Any, args: argparse.Namespace, err: Console
) -> Report:
    """``run(inputs)``, then again with each decision asked of the person, while the run waits for one.

    Raises:
        RunError: From ``run``.
    """
    report = run(inputs)
    for _ in range(_MOST_DECISIONS - 1):
        if report["waiting_for"] is None or report["error"]:
            break
        decision = _decision(report["waiting_for"], args, err)
        if decision is None:
            break
        report = run(Command(resume=decision))
    return report


def stop_code(report: Mapping[str, Any], thread_id: str, err: Console) -> int | None:
    """The exit code of a run that waits for a person or failed (saying how to go on), else None."""
    if report["waiting_for"] is not None and not report["error"]:
        err.print(
            f"run {thread_id} waits for a person to approve tool {report['waiting_for'].get('tool')}: "
            f"`toolmaker runs resume {thread_id}` on a terminal asks, or add --approve or "
            '--no-approve --reason "..."'
        )
        return EXIT_WAITING
    if report["error"]:
        err.print(f"[red]error:[/] {report['error']}")
        err.print(f"the steps done so far are kept: `toolmaker runs resume {thread_id}` continues")
        return EXIT_ERROR
    return None


def _decision(waiting: dict[str, Any], args: argparse.Namespace, err: Console) -> Any | None:
    """The answer to a run waiting for a tool's approval: the flags' answer, else asked on a terminal."""
    if args.approve is not None:
        return {"decision": "approve"} if args.approve else {"decision": "reject", "reason": args.reason}
    if not sys.stdin.isatty():
        return None
    err.print(Panel(Syntax(str(waiting.get("code", "")), "python"), title=f"new tool {waiting.get('tool')}"))
    for shown in waiting.get("verification", []):
        err.print(f"[dim]•[/] {json.dumps(shown)[:200]}")
    if refused := waiting.get("error"):
        err.print(f"[yellow]{refused}[/]")
    choice = Prompt.ask("register it? [y]es, [n]o, [e]dit", choices=["y", "n", "e"], console=err)
    if choice == "y":
        return {"decision": "approve"}
    if choice == "n":
        return {"decision": "reject", "reason": Prompt.ask("why", default=args.reason, console=err)}
    return {
        "decision": "edit",
        "code": _edited(str(waiting.get("code", ""))),
        "reason": "edited on the command line",
    }


def _edited(code: str) -> str:
    """``code`` as the user leaves it in ``$EDITOR`` (``vi`` if unset)."""
    with tempfile.NamedTemporaryFile("w+", suffix=".py", delete=False) as handle:
        handle.write(code)
    path = Path(handle.name)
    try:
        subprocess.run([*shlex.split(os.environ.get("EDITOR", "vi")), str(path)], check=False)
        return path.read_text(encoding="utf-8")
    finally:
        path.unlink(missing_ok=True)


def add_run_options(parser: argparse.ArgumentParser, *, thread: bool = True) -> None:
    """``--thread-id`` (unless resuming a named run) and the answers to a tool's approval."""
    if thread:
        parser.add_argument(
            "--thread-id",
            help="name the run (default: a new id); a run of that name that did not finish resumes",
        )
    parser.add_argument(
        "--approve",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="answer a run's tool approval without asking: register the tool, or (--no-approve) do not",
    )
    parser.add_argument(
        "--reason", default="rejected on the command line", help="why a tool is rejected (--no-approve)"
    )


def at_least_one(text: str) -> int:
    """An option's whole number of at least 1 (argparse type)."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"give a whole number of at least 1, not {text!r}")
    return int(text)


def add_approve_tools(parser: argparse.ArgumentParser) -> None:
    """``--approve-tools``: a person approves each new tool before it is registered."""
    parser.add_argument(
        "--approve-tools",
        action="store_true",
        help="ask before a new tool is registered (on a terminal; see --approve for scripts)",
    )
