"""create: the model writes a general, documented tool for this kind of problem."""

from __future__ import annotations

from langgraph.runtime import Runtime

from nodes.common.asking import ask, problem_values, unusable_reply
from nodes.common.checks import partition_asserts
from nodes.common.context import context_of
from nodes.common.parsing import split_reply
from nodes.common.usage import usage_update
from nodes.creator.context import CreatorContext
from nodes.creator.state import CreatorState
from prompts import load_fragment
from toolmaker.models import ChatModelFactory
from tools_registry.source import ToolSourceError, tool_from_source


def create(
    state: CreatorState, runtime: Runtime[CreatorContext], *, models: ChatModelFactory
) -> dict[str, object]:
    """Ask for a tool (abstract reasoning) and keep its definitions and assert checks.

    Example calls and prints below the function are stripped. A reply with no usable
    function leaves ``tool`` empty and a ``pending_failure`` for rectify.
    """
    context = context_of(runtime, CreatorContext)
    request = load_fragment("create", "self_check_request") if context.self_checks else ""
    text, call_cost = ask(models, context, "create", **problem_values(state), self_check_request=request)
    update: dict[str, object] = {
        **usage_update([call_cost]),
        "rounds": 0,
        "status": "running",
        "last_fix": "none",
    }
    try:
        definitions, statements = split_reply(text, "create")
        tool = tool_from_source(definitions)
    except ToolSourceError as exc:
        failure = unusable_reply("create", "tool", exc, text)
        return {**update, "tool": None, "checks": "", "call": "", "pending_failure": failure}
    checks = partition_asserts(statements)[0] if context.self_checks else ""
    return {**update, "tool": tool, "checks": checks, "call": "", "pending_failure": None}
