"""create_and_decide: the entangled ablation writes the tool and its call in one reply."""

from __future__ import annotations

from langgraph.runtime import Runtime

from nodes.common.asking import ask, problem_values, unusable_reply
from nodes.common.checks import partition_asserts
from nodes.common.context import context_of
from nodes.common.parsing import call_from_code, split_reply
from nodes.common.usage import usage_update
from nodes.creator.context import CreatorContext
from nodes.creator.state import CreatorState
from toolmaker.models import ChatModelFactory
from tools_registry.source import ToolSourceError, tool_from_source


def create_and_decide(
    state: CreatorState, runtime: Runtime[CreatorContext], *, models: ChatModelFactory
) -> dict[str, object]:
    """Ask for a tool and its call together; split them by AST as create and decide would."""
    text, call_cost = ask(
        models, context_of(runtime, CreatorContext), "create_and_decide", **problem_values(state)
    )
    update: dict[str, object] = {
        **usage_update([call_cost]),
        "rounds": 0,
        "status": "running",
        "last_fix": "none",
        "checks": "",
    }
    try:
        definitions, statements = split_reply(text, "create_and_decide")
        tool = tool_from_source(definitions)
        call = call_from_code(partition_asserts(statements)[1], tool["name"], tool["code"])
    except ToolSourceError as exc:
        failure = unusable_reply("create_and_decide", "tool and call", exc, text)
        return {**update, "tool": None, "call": "", "pending_failure": failure}
    return {**update, "tool": tool, "call": call, "pending_failure": None}
