"""The CREATOR graph: retrieve → create → decide → execute ⇄ rectify (⇢ decide) → agree → judge → register."""

from __future__ import annotations

from functools import partial
from typing import Literal

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from graphs.defaults import default_executor, default_models
from nodes import (
    CreatorContext,
    CreatorInput,
    CreatorState,
    agree,
    create,
    decide,
    execute,
    judge_generality,
    rectify,
    register,
    retrieve,
)
from nodes.common.context import context_of
from sandbox import Executor
from toolmaker.models import ChatModelFactory
from tools_registry.analysis import call_binding


def route_after_retrieve(state: CreatorState) -> Literal["create", "decide"]:
    """A reused tool goes straight to decide; otherwise a tool is created."""
    return "decide" if state.get("tool") else "create"


def route_after_create(state: CreatorState) -> Literal["decide", "execute"]:
    """A tool that did not parse skips decide: execute records the failure for rectify."""
    return "decide" if state.get("tool") is not None else "execute"


def route_after_execute(state: CreatorState) -> Literal["rectify", "judge_generality", "register", "__end__"]:
    """Loop to rectify while unresolved; judge a solved run's tool, or a general version's run.

    A failed run ends, unless it used a registered tool: that failure belongs in its record.
    """
    status = state.get("status")
    if status == "solved" or state.get("fallback"):
        return "judge_generality"
    if status == "running":
        return "rectify"
    return "register" if state.get("reused_tool_id") else "__end__"


def route_after_rectify(state: CreatorState) -> Literal["decide", "execute"]:
    """A tool with no call after rectify, or fixed so that its call no longer fits, gets one from decide.

    Asked for a general version, the small models often rewrite the tool with new parameters
    and leave the call out; run as it stood, the old call fails on a round that cannot be
    repeated. Decide writes calls for new tools, so it writes one for this tool too. A call
    that unpacks its arguments (``f(*values)``) is run as it stands: only running it tells.
    A fix that left no call (decide's reply was unusable, say) goes to decide as well, even
    when the fix itself was unusable: what is missing is the call.
    """
    tool, call = state.get("tool"), state.get("call", "")
    if tool is None:
        return "execute"
    if not call:
        return "decide"
    refitted = state.get("last_fix") == "tool" and call_binding(call, tool["code"], tool["name"]) != "binds"
    return "decide" if refitted else "execute"


def route_to_the_vote(
    state: CreatorState, runtime: Runtime[CreatorContext]
) -> Literal["agree", "rectify", "judge_generality", "register", "__end__"]:
    """CREATOR's route after execute: a first answer goes to the vote, once (``agree_candidates`` > 1)."""
    first_answer = (
        state.get("status") == "solved" and not state.get("candidates") and not state.get("fallback")
    )
    if first_answer and context_of(runtime, CreatorContext).agree_candidates > 1:
        return "agree"
    return route_after_execute(state)


def route_after_agreeing(state: CreatorState) -> Literal["rectify", "judge_generality"]:
    """A split vote goes to rectify, to be judged; an answer that stands is judged for generality."""
    return "rectify" if state.get("status") == "running" else "judge_generality"


def route_after_judging(state: CreatorState) -> Literal["rectify", "register"]:
    """A tool that is not general goes back to rectify once, for a general version."""
    return "rectify" if state.get("status") == "running" else "register"


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
        A ``StateGraph`` to compile with your own checkpointer and store. With a store,
        solved tools are registered in it, and ``reuse_tools`` searches it first.

    Example:
        >>> graph = build_creator_graph().compile()
        >>> graph.invoke({"problem": "What is the sum of the digits of 2**100?"})["answer"]
        '115'
    """
    models = default_models(models)
    executor = default_executor(executor)
    builder = StateGraph(
        CreatorState, context_schema=CreatorContext, input_schema=CreatorInput, output_schema=CreatorState
    )
    builder.add_node("retrieve", retrieve)
    builder.add_node("create", partial(create, models=models))
    builder.add_node("decide", partial(decide, models=models))
    builder.add_node("execute", partial(execute, executor=executor))
    builder.add_node("agree", partial(agree, models=models, executor=executor))
    builder.add_node("rectify", partial(rectify, models=models))
    builder.add_node("judge_generality", judge_generality)
    builder.add_node("register", partial(register, models=models))
    builder.add_edge(START, "retrieve")
    builder.add_conditional_edges("retrieve", route_after_retrieve)
    builder.add_conditional_edges("create", route_after_create)
    builder.add_edge("decide", "execute")
    builder.add_conditional_edges("execute", route_to_the_vote)
    builder.add_conditional_edges("agree", route_after_agreeing)
    builder.add_conditional_edges("judge_generality", route_after_judging)
    builder.add_conditional_edges("rectify", route_after_rectify)
    builder.add_edge("register", END)
    return builder


graph = build_creator_graph().compile(name="creator")
"""The compiled graph LangGraph Studio loads (see ``langgraph.json``)."""
