"""LATM's three graphs, wired here: the tool maker, the tool user and the dispatcher.

- tool maker: propose → try ⇄ fix → verify → try ⇄ fix → wrap → register; a proposal that
  still fails after ``max_fix_rounds`` is replaced by a fresh one, up to ``max_proposals``;
- tool user: write_call → run_call (⇄ repair_call, up to ``user_repair_rounds``);
- dispatcher: dispatch → a cached tool (use_tool), or the maker answers directly and the
  request waits in its family's queue, which makes the family's tool once it is full.
"""

from __future__ import annotations

from functools import partial
from typing import Literal

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import get_runtime

from graphs.creator import build_creator_graph
from graphs.defaults import default_executor, default_models, default_prices
from nodes.common.context import context_of
from nodes.latm import (
    DispatchInput,
    DispatchState,
    LatmContext,
    ToolMakingInput,
    ToolMakingState,
    ToolUseInput,
    ToolUseState,
)
from nodes.latm.answering import answer_directly, answer_waiters, enqueue, make_family_tool, use_cached_tool
from nodes.latm.dispatch import dispatch
from nodes.latm.fix import fix
from nodes.latm.propose import propose
from nodes.latm.queue import RequestQueue
from nodes.latm.register import register_tool
from nodes.latm.repair_call import repair_call
from nodes.latm.run_call import run_call
from nodes.latm.try_tool import try_tool
from nodes.latm.verify import verify
from nodes.latm.wrap import give_up, wrap
from nodes.latm.write_call import write_call
from sandbox import Executor
from toolmaker.costs import PriceTable
from toolmaker.models import ChatModelFactory


def route_after_try(
    state: ToolMakingState,
) -> Literal["fix", "propose", "give_up", "verify", "wrap"]:
    """Fix while rounds are left, then a fresh proposal, then give up; on success verify, then wrap."""
    context = context_of(get_runtime(LatmContext), LatmContext)
    results = state.get("results", [])
    if state.get("pending_failure") or state.get("tool") is None or not all(r["passed"] for r in results):
        if state.get("fix_rounds", 0) < context.max_fix_rounds:
            return "fix"
        return "propose" if state.get("proposal", 0) + 1 < context.max_proposals else "give_up"
    return "wrap" if state.get("valid_calls") else "verify"


def build_tool_maker_graph(
    *,
    models: ChatModelFactory | None = None,
    executor: Executor | None = None,
    prices: PriceTable | None = None,
) -> StateGraph[ToolMakingState, LatmContext, ToolMakingInput, ToolMakingState]:
    """Build the uncompiled LATM tool maker.

    Args:
        models: Returns the chat model for a request (the maker role is asked).
        executor: Runs the maker's code; defaults to the strongest sandbox.
        prices: Prices the making cost recorded with the tool; defaults to settings.

    Returns:
        A ``StateGraph``; compile it with a store to register the verified tool.

    Example:
        >>> maker = build_tool_maker_graph().compile(store=InMemoryStore())
        >>> made = maker.invoke({"task": "word_sorting", "train": train, "valid": valid})
        >>> made["status"], made["tool_id"]
        ('verified', 'sort_words@...')
    """
    models, executor = default_models(models), default_executor(executor)
    builder = StateGraph(
        ToolMakingState,
        context_schema=LatmContext,
        input_schema=ToolMakingInput,
        output_schema=ToolMakingState,
    )
    builder.add_node("propose", partial(propose, models=models))
    builder.add_node("try", partial(try_tool, executor=executor))
    builder.add_node("fix", partial(fix, models=models))
    builder.add_node("verify", partial(verify, models=models))
    builder.add_node("wrap", wrap)
    builder.add_node("give_up", give_up)
    builder.add_node("register", partial(register_tool, models=models, prices=default_prices(prices)))
    builder.add_edge(START, "propose")
    builder.add_edge("propose", "try")
    builder.add_conditional_edges("try", route_after_try)
    builder.add_edge("fix", "try")
    builder.add_edge("verify", "try")
    builder.add_edge("wrap", "register")
    builder.add_edge("register", END)
    builder.add_edge("give_up", END)
    return builder


def route_after_run(state: ToolUseState) -> Literal["repair_call", "__end__"]:
    """Repair while the run is unresolved and repairs are left (run_call decides which)."""
    return "repair_call" if state.get("status") == "running" else "__end__"


def build_tool_user_graph(
    *, models: ChatModelFactory | None = None, executor: Executor | None = None
) -> StateGraph[ToolUseState, LatmContext, ToolUseInput, ToolUseState]:
    """Build the uncompiled LATM tool user: one call of the light model per request.

    The input names the tool by registry ``tool_id`` (compile with the store), or gives
    ``tool`` and ``card`` directly.
    """
    models = default_models(models)
    builder = StateGraph(
        ToolUseState, context_schema=LatmContext, input_schema=ToolUseInput, output_schema=ToolUseState
    )
    builder.add_node("write_call", partial(write_call, models=models))
    builder.add_node("run_call", partial(run_call, executor=default_executor(executor)))
    builder.add_node("repair_call", partial(repair_call, models=models))
    builder.add_edge(START, "write_call")
    builder.add_edge("write_call", "run_call")
    builder.add_conditional_edges("run_call", route_after_run)
    builder.add_edge("repair_call", "run_call")
    return builder


def route_after_dispatch(state: DispatchState) -> Literal["use_tool", "answer_directly"]:
    """A cached family's tool answers; anything else is answered by the maker."""
    return "use_tool" if state.get("tool_id") else "answer_directly"


def route_after_direct_answer(state: DispatchState) -> Literal["enqueue", "__end__"]:
    """A family marked 'no tool' is done; a new or waiting family's request joins its queue."""
    return "enqueue" if state.get("route") == "queued" else "__end__"


def route_after_enqueue(state: DispatchState) -> Literal["make_tool", "__end__"]:
    """A full queue makes its family's tool now."""
    runtime = get_runtime(LatmContext)
    assert runtime.store is not None
    waiting = RequestQueue(runtime.store).waiting(state["family"])
    return "make_tool" if len(waiting) >= context_of(runtime, LatmContext).queue_threshold else "__end__"


def route_after_making(state: DispatchState) -> Literal["answer_waiters", "use_tool", "__end__"]:
    """A tool made now answers the queue; one another worker made answers this request; none ends."""
    if state.get("route") == "made now":
        return "answer_waiters"
    return "use_tool" if state.get("tool_id") else "__end__"


def build_dispatcher_graph(
    *,
    models: ChatModelFactory | None = None,
    executor: Executor | None = None,
    prices: PriceTable | None = None,
) -> StateGraph[DispatchState, LatmContext, DispatchInput, DispatchState]:
    """Build the uncompiled LATM dispatcher; compile it with a store (the cache and the queues).

    Example:
        >>> dispatcher = build_dispatcher_graph().compile(store=store)
        >>> dispatcher.invoke({"request": "Sort the following words alphabetically: List: pear apple"})
        {..., 'route': 'cached tool', 'answer': 'apple pear'}
    """
    models, executor = default_models(models), default_executor(executor)
    user = build_tool_user_graph(models=models, executor=executor).compile(name="latm-tool-user")
    maker = build_tool_maker_graph(models=models, executor=executor, prices=prices)
    creator = build_creator_graph(models=models, executor=executor).compile(name="creator")
    builder = StateGraph(
        DispatchState, context_schema=LatmContext, input_schema=DispatchInput, output_schema=DispatchState
    )
    builder.add_node("dispatch", partial(dispatch, models=models))
    builder.add_node("use_tool", partial(use_cached_tool, user=user))
    builder.add_node("answer_directly", partial(answer_directly, creator=creator))
    builder.add_node("enqueue", enqueue)
    builder.add_node("make_tool", partial(make_family_tool, maker=maker))
    builder.add_node("answer_waiters", partial(answer_waiters, user=user))
    builder.add_edge(START, "dispatch")
    builder.add_conditional_edges("dispatch", route_after_dispatch)
    builder.add_edge("use_tool", END)
    builder.add_conditional_edges("answer_directly", route_after_direct_answer)
    builder.add_conditional_edges("enqueue", route_after_enqueue)
    builder.add_conditional_edges("make_tool", route_after_making)
    builder.add_edge("answer_waiters", END)
    return builder


tool_maker_graph = build_tool_maker_graph().compile(name="latm-tool-maker")
tool_user_graph = build_tool_user_graph().compile(name="latm-tool-user")
dispatcher_graph = build_dispatcher_graph().compile(name="latm-dispatcher")
"""Compiled LATM graphs for LangGraph Studio (see ``langgraph.json``)."""
