"""verify: the maker writes a call for each held-out validation question."""

from __future__ import annotations

from langgraph.runtime import Runtime

from nodes.common.asking import ask_as, unusable_reply
from nodes.common.context import context_of
from nodes.common.parsing import require_code
from nodes.common.usage import usage_update
from nodes.latm.context import LatmContext
from nodes.latm.examples import read_calls, render_examples, render_usage
from nodes.latm.state import ToolMakingState
from toolmaker.models import ChatModelFactory
from tools_registry.source import ToolSourceError


def verify(
    state: ToolMakingState, runtime: Runtime[LatmContext], *, models: ChatModelFactory
) -> dict[str, object]:
    """Ask for calls on the validation questions, without their answers; try runs them next.

    The maker sees its tool and how its own calls answered the train questions.
    """
    tool = state["tool"]
    assert tool is not None  # routed here only after the train examples passed
    text, call_cost = ask_as(
        models,
        context_of(runtime, LatmContext),
        "verify",
        "maker",
        {
            "tool": tool["code"].strip(),
            "usage": render_usage(state["train"], state.get("train_calls", [])),
            "examples": render_examples(state["valid"], answers=False),
        },
    )
    update = usage_update([call_cost])
    try:
        calls = read_calls(require_code(text, "verify"), tool, len(state["valid"]))
    except ToolSourceError as exc:
        return {**update, "pending_failure": unusable_reply("verify", "calls", exc, text)}
    return {**update, "valid_calls": calls, "pending_failure": None}
