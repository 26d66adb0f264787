"""The CREATOR graph: create → decide → execute ⇄ rectify, wired in one place."""

from __future__ import annotations

from functools import partial
from typing import Literal

from langgraph.graph import START, StateGraph

from nodes import CreatorContext, CreatorInput, CreatorState, create, decide, execute, rectify
from sandbox import Executor, get_executor
from toolmaker.models import ChatModelFactory, EndpointModels
from toolmaker.settings import get_settings


def route_after_create(state: CreatorState) -> Literal["decide", "execute"]:
    """A tool that did not parse skips decide: execute records the failure for rectify."""
    return "decide" if state.get("tool") is not None else "execute"


def route_after_execute(state: CreatorState) -> Literal["rectify", "__end__"]:
    """Loop to rectify while the run is unresolved; stop when solved or failed."""
    return "rectify" if state.get("status") == "running" else "__end__"


def build_creator_graph(
    *, models: ChatModelFactory | None = None, executor: Executor | None = None
) -> StateGraph[CreatorState, CreatorContext, CreatorInput, CreatorState]:
    """Build the uncompiled CREATOR graph.

    Args:
        models: Returns the chat model for a :class:`~toolmaker.models.ModelRequest`;
            defaults to OpenAI-compatible endpoints from settings, or the embedded model.
        executor: Runs the model's code; defaults to the sandbox backend named in
            settings (``TOOLMAKER_SANDBOX``, ``auto`` = the strongest available).

    Returns:
        A ``StateGraph`` to compile with your own checkpointer and store.

    Example:
        >>> graph = build_creator_graph().compile()
        >>> graph.invoke({"problem": "What is the sum of the digits of 2**100?"})["answer"]
        '115'
    """
    models = models or EndpointModels()
    executor = executor or get_executor(get_settings().sandbox_backend)
    builder = StateGraph(
        CreatorState, context_schema=CreatorContext, input_schema=CreatorInput, output_schema=CreatorState
    )
    builder.add_node("create", partial(create, models=models))
    builder.add_node("decide", partial(decide, models=models))
    builder.add_node("execute", partial(execute, executor=executor))
    builder.add_node("rectify", partial(rectify, models=models))
    builder.add_edge(START, "create")
    builder.add_conditional_edges("create", route_after_create)
    builder.add_edge("decide", "execute")
    builder.add_conditional_edges("execute", route_after_execute)
    builder.add_edge("rectify", "execute")
    return builder


graph = build_creator_graph().compile(name="creator")
"""The compiled graph LangGraph Studio loads (see ``langgraph.json``)."""
