"""Ask a chat model with a named prompt and account for what the call cost."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from nodes.common.context import ModelContext
from nodes.common.usage import ModelCall, Role
from prompts import load_prompt
from toolmaker.models import ChatModelFactory, ModelRequest


def problem_text(state: Mapping[str, Any]) -> str:
    """The problem with its table under it, as code analysis and tool search read it."""
    return f"{state['problem']}\n{state.get('table', '')}"


def problem_values(state: Mapping[str, Any]) -> dict[str, str]:
    """The problem and its optional table, as prompt values."""
    table = str(state.get("table", "")).strip()
    return {"problem": str(state["problem"]).strip(), "table": f"\nTable:\n{table}\n" if table else ""}


def model_name(model: BaseChatModel, request: ModelRequest) -> str:
    """The name the endpoint knows the model by (the role when a test model has none)."""
    return str(getattr(model, "model_name", "") or request.model or request.role)


def ask_model(
    model: BaseChatModel,
    request: ModelRequest,
    node: str,
    messages: Sequence[BaseMessage],
    **options: Any,
) -> tuple[AIMessage, ModelCall]:
    """Invoke ``model`` and measure the call: tokens from the endpoint's usage, wall-clock seconds.

    ``options`` go to the endpoint with the request (``response_format``, ``stop``).
    """
    started = time.monotonic()
    reply = model.invoke(list(messages), **options)
    seconds = time.monotonic() - started
    usage = getattr(reply, "usage_metadata", None) or {}
    call = ModelCall(
        node=node,
        role=request.role,
        model=model_name(model, request),
        input=int(usage.get("input_tokens", 0)),
        output=int(usage.get("output_tokens", 0)),
        seconds=round(seconds, 4),
    )
    return AIMessage(content=reply.content) if not isinstance(reply, AIMessage) else reply, call


def ask(models: ChatModelFactory, context: ModelContext, node: str, **values: str) -> tuple[str, ModelCall]:
    """Render the context's variant of ``node``'s prompt and ask the context's acting role.

    Returns:
        The reply text and the ledger row of the call (see :func:`~nodes.common.usage.usage_update`).
    """
    return ask_as(models, context, node, context.acting_role, values)


def ask_as(
    models: ChatModelFactory, context: ModelContext, node: str, role: Role, values: Mapping[str, str]
) -> tuple[str, ModelCall]:
    """:func:`ask`, with the role named: LATM's nodes ask the maker or the user by design."""
    prompt = load_prompt(node, context.prompt_variant(node))
    system, user = prompt.render(**values)
    request = context.model_request(role)
    messages = [SystemMessage(system), HumanMessage(user)]
    reply, call = ask_model(models(request), request, node, messages, **prompt.options())
    text = reply.content if isinstance(reply.content, str) else str(reply.content)
    return text, call


def unusable_reply(step: str, wanted: str, problem: Exception, text: str, limit: int = 1200) -> str:
    """The failure shown to rectify when a reply held no usable ``wanted``, quoting its start."""
    excerpt = text if len(text) <= limit else text[:limit] + "\n[... cut ...]"
    return f"The {step} step's reply held no usable {wanted}: {problem}.\nThe reply was:\n{excerpt}"
