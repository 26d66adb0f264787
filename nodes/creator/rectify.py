"""rectify: show the model what went wrong; take its fixed tool, call, or both."""

from __future__ import annotations

from functools import partial

from langgraph.runtime import Runtime

from nodes.common.asking import ask, problem_text, problem_values, unusable_reply
from nodes.common.checks import partition_asserts
from nodes.common.context import context_of
from nodes.common.parsing import call_from_code, extract_code_blocks
from nodes.common.usage import usage_update
from nodes.creator.context import CreatorContext
from nodes.creator.state import CreatorState, FixTarget
from toolmaker.models import ChatModelFactory
from tools_registry.analysis import call_binding, only_problem_numbers
from tools_registry.source import (
    ToolSourceError,
    ToolSpec,
    defines_function,
    parse_python,
    rewritten_tool,
    split_definitions,
)

_NO_TOOL = "# (no usable tool yet: write one)"
_NO_CALL = "# (no usable call yet: write one)"
UNCHANGED_FIX = "The last fix changed neither the tool nor the call, so it still fails"
"""How a round whose fix changed nothing is reported to the next one (and read by reports)."""


def _fix_target(tool_changed: bool, call_changed: bool) -> FixTarget:
    if tool_changed and call_changed:
        return "both"
    return "tool" if tool_changed else "call" if call_changed else "none"


def rectify(
    state: CreatorState, runtime: Runtime[CreatorContext], *, models: ChatModelFactory
) -> dict[str, object]:
    """Ask for a fix of the last failed attempt and apply it.

    Which part was fixed is read from the code itself: blocks with function definitions
    replace the tool (with the asserts that follow them), other blocks replace the call.
    ``last_fix`` records ``tool``, ``call``, ``both`` or ``none``; a reply that changes
    nothing becomes a ``pending_failure`` saying so.
    """
    context = context_of(runtime, CreatorContext)
    tool, checks, call = state.get("tool"), state.get("checks", ""), state.get("call", "")
    failure = state.get("rectify_request") or state["attempts"][-1]["failure"] or ""
    # A solved run kept aside (the fallback) means this round asks for a general version: no
    # mistake to find, so the generalize prompt asks for it without "find the mistake".
    text, call_cost = ask(
        models,
        context,
        "generalize" if state.get("fallback") is not None else "rectify",
        **problem_values(state),
        tool_code=tool["code"].strip() if tool else _NO_TOOL,
        checks=f"\nIts self-checks:\n```python\n{checks}\n```\n" if checks else "",
        call=call or _NO_CALL,
        failure=failure,
    )
    update: dict[str, object] = {
        **usage_update([call_cost]),
        "rounds": state.get("rounds", 0) + 1,
        "rectify_request": None,
        "unchanged_is_an_answer": False,
    }
    try:
        new_tool, new_checks, new_call = _apply_reply(
            text, tool, checks, call, context.self_checks, problem_text(state)
        )
    except ToolSourceError as exc:
        message = unusable_reply("rectify", "fix", exc, text)
        return {**update, "last_fix": "none", "pending_failure": message}
    tool_changed = new_tool != tool or new_checks != checks
    fixed = _fix_target(tool_changed, new_call != call)
    pending = None
    if fixed == "none" and not state.get("unchanged_is_an_answer"):
        pending = f"{UNCHANGED_FIX}:\n{failure}"
    elif new_tool is None or not new_call:
        pending = "After the fix there is still no usable tool and call: write both."
    return {
        **update,
        "tool": new_tool,
        "checks": new_checks,
        "call": new_call,
        "last_fix": fixed,
        "pending_failure": pending,
    }


def _replaces_call(call: str, examples: str, tool: ToolSpec, problem: str) -> bool:
    fits = partial(call_binding, code=tool["code"], name=tool["name"])
    return fits(call) != "binds" and fits(examples) == "binds" and only_problem_numbers(examples, problem)


def _apply_reply(
    text: str, tool: ToolSpec | None, checks: str, call: str, self_checks: bool, problem: str
) -> tuple[ToolSpec | None, str, str]:
    """Blocks that define functions replace the tool; the other blocks replace the call.

    Statements inside a tool block are examples (dropped) or asserts (the new checks);
    they become the call when no call block was given and there is no call yet, or when
    the fix changed the tool's parameters so that the call so far no longer binds to it
    while the examples do, with none but the problem's numbers (not made-up demo values).
    """
    blocks = extract_code_blocks(text)
    if not blocks:
        raise ToolSourceError("the reply held no Python code: answer with ```python blocks")
    tool_blocks = [block for block in blocks if defines_function(parse_python(block, "code"))]
    call_source = "\n\n".join(block for block in blocks if block not in tool_blocks)
    if tool_blocks:
        definitions, statements = split_definitions("\n\n".join(tool_blocks), "tool")
        asserts, examples = partition_asserts(statements)
        tool = rewritten_tool(definitions, tool)
        checks = asserts if self_checks else ""
        if not call_source.strip() and (not call or _replaces_call(call, examples, tool, problem)):
            call_source = examples
    if call_source.strip() and tool is not None:
        call = call_from_code(call_source, tool["name"], tool["code"])
    return tool, checks, call
