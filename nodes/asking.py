"""Ask a chat model with a named prompt and account for the tokens it spent."""

from __future__ import annotations

from langchain_core.messages import HumanMessage, SystemMessage

from nodes.context import CreatorContext, PromptNode
from nodes.state import CreatorState, TokenUsage
from prompts import load_prompt
from toolmaker.models import ChatModelFactory


def problem_values(state: CreatorState) -> dict[str, str]:
    """The problem and its optional table, as prompt values."""
    table = state.get("table", "").strip()
    return {"problem": state["problem"].strip(), "table": f"\nTable:\n{table}\n" if table else ""}


def ask(
    models: ChatModelFactory,
    context: CreatorContext,
    node: PromptNode,
    **values: str,
) -> tuple[str, dict[str, TokenUsage]]:
    """Render the context's variant of ``node``'s prompt, ask the CREATOR role's model.

    Returns:
        The reply text and the tokens it cost, keyed by role (a ``tokens`` update).
    """
    system, user = load_prompt(node, context.prompt_variant(node)).render(**values)
    request = context.model_request()
    reply = models(request).invoke([SystemMessage(system), HumanMessage(user)])
    text = reply.content if isinstance(reply.content, str) else str(reply.content)
    usage = getattr(reply, "usage_metadata", None) or {}
    tokens = TokenUsage(
        input=int(usage.get("input_tokens", 0)),
        output=int(usage.get("output_tokens", 0)),
        calls=1,
    )
    return text, {request.role: tokens}


def unusable_reply(step: str, wanted: str, problem: Exception, text: str, limit: int = 1200) -> str:
    """The failure shown to rectify when a reply held no usable ``wanted``, quoting its start."""
    excerpt = text if len(text) <= limit else text[:limit] + "\n[... cut ...]"
    return f"The {step} step's reply held no usable {wanted}: {problem}.\nThe reply was:\n{excerpt}"
