"""dispatch: the light model decides whether a request fits a cached tool, a waiting family, or none."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import openai
from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from nodes.common.asking import ask_model
from nodes.common.context import context_of
from nodes.common.usage import usage_update
from nodes.latm.context import LatmContext
from nodes.latm.queue import RequestQueue
from nodes.latm.state import DispatchState
from prompts import load_prompt
from toolmaker.models import ChatModelFactory
from tools_registry import ToolRecord, ToolRegistry
from tools_registry.search import tokens

NONE = "none"
_SLUG = re.compile(r"[^a-z0-9]+")


def family_name(text: str) -> str:
    """A family name as a slug (``Sort words!`` → ``sort_words``), from a hash if no slug is left."""
    slug = _SLUG.sub("_", text.lower()).strip("_")[:60]
    return slug or f"family_{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def cached_families(
    registry: ToolRegistry, request: str, k: int, min_score: float = 0.0
) -> dict[str, ToolRecord]:
    """The families of the ``k`` best LATM tools scoring ``min_score`` or more, each with its best tool.

    A light dispatcher shown a far-off tool often picks it anyway (the 0.5B sent tracking
    and scheduling requests to the remainder tool); one it is not shown it cannot pick.
    """
    found: dict[str, ToolRecord] = {}
    for record, score in registry.search(request, k=4 * k):
        if score >= min_score and record.latm is not None and record.latm.family not in found:
            found[record.latm.family] = record
    return dict(list(found.items())[:k])


def _decision_schema(options: list[str]) -> dict[str, Any]:
    return {
        "type": "json_schema",
        "json_schema": {
            "name": "dispatch",
            "strict": True,
            "schema": {
                "type": "object",
                "properties": {
                    "choice": {"type": "string", "enum": [*options, NONE]},
                    "family": {"type": "string"},
                },
                "required": ["choice", "family"],
                "additionalProperties": False,
            },
        },
    }


def read_decision(text: str, options: list[str]) -> tuple[str, str]:
    """``(choice, family)`` from a reply: JSON as the schema asks, else the first option it names."""
    cleaned = text.strip().removeprefix("```json").removeprefix("```").removesuffix("```").strip()
    try:
        decided = json.loads(cleaned)
        choice, family = str(decided.get("choice", NONE)), str(decided.get("family", ""))
    except (ValueError, AttributeError):
        named = [option for option in options if option in text]
        choice, family = (named[0] if named else NONE), ""
    if choice not in options:
        choice = NONE
    return choice, family_name(family) if family.strip() else ""


def _nearest(families: dict[str, str], request: str, k: int, min_overlap: float) -> dict[str, str]:
    """The ``k`` families whose example request shares the most words with ``request``.

    Only those sharing ``min_overlap`` of its words or more: the 0.5B put tracking requests
    in the family a bracket-completion request had opened, when it was the only one shown.
    """
    words = set(tokens(request))

    shares = {
        family: len(words & set(tokens(example))) / max(1, len(words)) for family, example in families.items()
    }
    ranked = sorted(
        (family for family in families if shares[family] >= min_overlap), key=lambda f: -shares[f]
    )
    return {family: families[family] for family in ranked[:k]}


def _render_options(cached: dict[str, ToolRecord], pending: dict[str, str], refused: dict[str, str]) -> str:
    lines = []
    for family, record in cached.items():
        example = record.demos[0].question if record.demos else ""
        summary = (record.description.strip().splitlines() or [""])[0]
        lines.append(f"- {family}: a tool that {summary[:200]} Example request: {example[:300]}")
    for family, example in pending.items():
        lines.append(f"- {family}: requests waiting for a tool. Example request: {example[:300]}")
    for family, example in refused.items():
        lines.append(f"- {family}: answered without a tool. Example request: {example[:300]}")
    return "\n".join(lines) or "(none yet)"


def dispatch(
    state: DispatchState, runtime: Runtime[LatmContext], *, models: ChatModelFactory
) -> dict[str, object]:
    """Offer the best-matching cached tools and waiting or tool-less families to the user role.

    The reply is constrained to those names or ``none`` with a JSON schema; an endpoint
    that refuses ``response_format`` is asked again without it and the reply is parsed.
    """
    context = context_of(runtime, LatmContext)
    if runtime.store is None:
        raise ValueError("the dispatcher needs a store: compile the graph with one")
    k, queue = context.dispatch_candidates, RequestQueue(runtime.store)
    cached = cached_families(ToolRegistry(runtime.store), state["request"], k, context.dispatch_min_score)
    # Families with a queue as they are now, before the model answers (others may add some meanwhile).
    waiting, tool_less = queue.families(), queue.no_tool_families()
    overlap = context.dispatch_min_overlap
    pending = _nearest({f: r for f, r in waiting.items() if f not in cached}, state["request"], k, overlap)
    refused = _nearest({f: r for f, r in tool_less.items() if f not in cached}, state["request"], k, overlap)
    options = [*cached, *pending, *refused]
    prompt = load_prompt("dispatch", context.prompt_variant("dispatch"))
    system, user = prompt.render(
        options=_render_options(cached, pending, refused), request=state["request"].strip()
    )
    request = context.model_request("user")
    messages = [SystemMessage(system), HumanMessage(user)]
    model = models(request)
    try:
        reply, call_cost = ask_model(
            model,
            request,
            "dispatch",
            messages,
            response_format=_decision_schema(options),
            **prompt.options(),
        )
    except openai.BadRequestError:
        reply, call_cost = ask_model(model, request, "dispatch", messages, **prompt.options())
    text = reply.content if isinstance(reply.content, str) else str(reply.content)
    choice, proposed = read_decision(text, options)
    if choice != NONE:
        family = choice
    elif proposed in pending or proposed in refused:  # "none", yet it named a family it was shown
        family = proposed
    elif proposed and proposed != NONE and proposed not in {*waiting, *tool_less}:
        family = proposed
    else:
        # Small models echo "none", or the prompt's example name, or a waiting family they were
        # not shown (its queue would mix two tasks): name the family after the request.
        family = family_name(" ".join(state["request"].split()[:4]))
    return {
        **usage_update([call_cost]),
        "candidates": list(cached),
        "pending": list(pending),
        "choice": choice,
        "family": family,
        "tool_id": cached[choice].id if choice in cached else None,
    }
