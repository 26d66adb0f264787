"""The baselines CREATOR is compared with, each its own small graph on the same state.

- chain-of-thought: ``reason`` answers in words;
- program-of-thought: ``program`` writes one program, ``execute`` runs it, and with
  ``max_rectify_rounds > 0`` ``fix_program`` repairs it from the failure;
- program-of-thought majority vote: ``vote`` samples several programs (compute-matched);
- entangled: ``create_and_decide`` writes tool and call at once, then CREATOR's loop.
"""

from __future__ import annotations

from functools import partial

from langgraph.graph import END, START, StateGraph

from graphs.creator import route_after_create, route_after_execute, route_after_judging
from graphs.defaults import default_executor, default_models
from nodes import CreatorContext, CreatorInput, CreatorState, execute, judge_generality, rectify, register
from nodes.baselines.create_and_decide import create_and_decide
from nodes.baselines.program import fix_program, program
from nodes.baselines.reason import reason
from nodes.baselines.vote import vote
from sandbox import Executor
from toolmaker.models import ChatModelFactory

Builder = StateGraph[CreatorState, CreatorContext, CreatorInput, CreatorState]


def _builder() -> Builder:
    return StateGraph(
        CreatorState, context_schema=CreatorContext, input_schema=CreatorInput, output_schema=CreatorState
    )


def build_cot_graph(*, models: ChatModelFactory | None = None) -> Builder:
    """Chain-of-thought: one reply, its ``Answer:`` line is the answer."""
    builder = _builder()
    builder.add_node("reason", partial(reason, models=default_models(models)))
    builder.add_edge(START, "reason")
    builder.add_edge("reason", END)
    return builder


def build_pot_graph(*, models: ChatModelFactory | None = None, executor: Executor | None = None) -> Builder:
    """Program-of-thought, with rectification up to ``max_rectify_rounds`` (0 = none)."""
    models = default_models(models)
    builder = _builder()
    builder.add_node("program", partial(program, models=models))
    builder.add_node("execute", partial(execute, executor=default_executor(executor)))
    builder.add_node("fix_program", partial(fix_program, models=models))
    builder.add_edge(START, "program")
    builder.add_edge("program", "execute")
    builder.add_conditional_edges(
        "execute",
        route_after_execute,
        {"rectify": "fix_program", "judge_generality": END, "register": END, "__end__": END},
    )
    builder.add_edge("fix_program", "execute")
    return builder


def build_pot_vote_graph(
    *, models: ChatModelFactory | None = None, executor: Executor | None = None
) -> Builder:
    """Program-of-thought sampled ``vote_samples`` times with a majority vote (compute-matched)."""
    builder = _builder()
    builder.add_node(
        "vote", partial(vote, models=default_models(models), executor=default_executor(executor))
    )
    builder.add_edge(START, "vote")
    builder.add_edge("vote", END)
    return builder


def build_entangled_graph(
    *, models: ChatModelFactory | None = None, executor: Executor | None = None
) -> Builder:
    """CREATOR with create and decide in one step (the paper's "entangled" ablation)."""
    models = default_models(models)
    builder = _builder()
    builder.add_node("create_and_decide", partial(create_and_decide, models=models))
    builder.add_node("execute", partial(execute, executor=default_executor(executor)))
    builder.add_node("rectify", partial(rectify, models=models))
    builder.add_node("judge_generality", judge_generality)
    builder.add_node("register", partial(register, models=models))
    builder.add_edge(START, "create_and_decide")
    builder.add_conditional_edges(
        "create_and_decide", route_after_create, {"decide": "execute", "execute": "execute"}
    )
    builder.add_conditional_edges("execute", route_after_execute)
    builder.add_conditional_edges("judge_generality", route_after_judging)
    builder.add_edge("rectify", "execute")
    builder.add_edge("register", END)
    return builder


cot_graph = build_cot_graph().compile(name="chain-of-thought")
pot_graph = build_pot_graph().compile(name="program-of-thought")
pot_vote_graph = build_pot_vote_graph().compile(name="program-of-thought-vote")
entangled_graph = build_entangled_graph().compile(name="creator-entangled")
"""Compiled baselines for LangGraph Studio (see ``langgraph.json``)."""
