"""program and fix_program: the program-of-thought baseline writes (and fixes) one program."""

from __future__ import annotations

from langgraph.runtime import Runtime

from nodes.common.asking import ask, problem_values, unusable_reply
from nodes.common.context import context_of
from nodes.common.parsing import require_code
from nodes.common.usage import usage_update
from nodes.creator.context import CreatorContext
from nodes.creator.state import CreatorState
from toolmaker.models import ChatModelFactory
from tools_registry.source import ToolSourceError, parse_python


def _program_update(text: str, step: str) -> dict[str, object]:
    """A program reply as state: the code goes where execute runs the call."""
    try:
        program = require_code(text, step)
        parse_python(program, "program")
    except ToolSourceError as exc:
        failure = unusable_reply(step, "program", exc, text)
        return {"call": "", "pending_failure": failure}
    return {"call": program, "pending_failure": None}


def program(
    state: CreatorState, runtime: Runtime[CreatorContext], *, models: ChatModelFactory
) -> dict[str, object]:
    """Ask for one program that prints this problem's answer (no tool, no reuse)."""
    text, call_cost = ask(models, context_of(runtime, CreatorContext), "program", **problem_values(state))
    return {
        **usage_update([call_cost]),
        "tool": None,
        "checks": "",
        "rounds": 0,
        "status": "running",
        **_program_update(text, "program"),
    }


def fix_program(
    state: CreatorState, runtime: Runtime[CreatorContext], *, models: ChatModelFactory
) -> dict[str, object]:
    """Show the program and its failure; take the corrected program."""
    failure = state["attempts"][-1]["failure"] or ""
    text, call_cost = ask(
        models,
        context_of(runtime, CreatorContext),
        "fix_program",
        **problem_values(state),
        program=state.get("call", "") or "# (no usable program yet)",
        failure=failure,
    )
    update = _program_update(text, "fix_program")
    fixed = "call" if update["call"] and update["call"] != state.get("call") else "none"
    return {**usage_update([call_cost]), "rounds": state.get("rounds", 0) + 1, "last_fix": fixed, **update}
