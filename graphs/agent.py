"""An agent that grows its own toolbox: it searches the registry, calls a tool, makes one when none fits.

``make_tool_tool`` is CREATOR as a LangChain tool, for any agent. ``build_toolmaker_agent``
is a small LangGraph agent around it and the registry's ``search_tools`` and
``call_tool``: the model picks the next tool call (calls written as text, as small
models write them, are read back), the tools run, and the loop ends as soon as a
registered tool has answered, or after ``max_agent_steps`` model turns. Ending on the
tool's answer, rather than waiting for the model to stop, is what keeps a small model
from calling the same tool again and again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from langchain_core.messages import AIMessage, AnyMessage, SystemMessage, ToolMessage
from langchain_core.tools import BaseTool, StructuredTool, ToolException
from langgraph.graph import START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.runtime import Runtime, get_runtime
from typing_extensions import TypedDict

from graphs.creator import build_creator_graph
from graphs.defaults import default_executor, default_models
from graphs.running import SolveReport, solve
from nodes.common.context import ModelContext, context_of
from nodes.creator.context import CreatorContext
from sandbox import Executor
from toolmaker.models import ChatModelFactory
from toolmaker.text_tool_calls import read_text_tool_calls
from tools_registry import ToolRecord, ToolRegistry
from tools_registry.langchain_tools import tool_library


class ToolMakingError(ValueError):
    """CREATOR made no general tool for the problem."""


def make_registered_tool(
    registry: ToolRegistry,
    problem: str,
    *,
    models: ChatModelFactory | None = None,
    executor: Executor | None = None,
    context: CreatorContext | None = None,
) -> tuple[ToolRecord, SolveReport]:
    """Run CREATOR on ``problem`` with ``registry``'s store; the general tool it registered, and the run.

    Raises:
        ToolMakingError: The run failed, registered nothing, or registered a single-use tool.
    """
    graph = build_creator_graph(models=models, executor=executor).compile(
        name="creator", store=registry.store
    )
    report = solve(graph, {"problem": problem}, context or CreatorContext())
    record = registry.get(report["tool_id"]) if report["tool_id"] else None
    if report["error"] or record is None:
        raise ToolMakingError(
            f"no tool was made: {report['error'] or 'the run ended ' + str(report['status'])}"
        )
    if record.single_use:
        raise ToolMakingError(f"the tool made is not general ({record.single_use}); it is kept single-use")
    return record, report


def make_tool_tool(
    registry: ToolRegistry,
    *,
    models: ChatModelFactory | None = None,
    executor: Executor | None = None,
    context: CreatorContext | None = None,
) -> StructuredTool:
    """A LangChain tool that makes and registers a new tool; ``call_tool`` can use it at once."""

    def make_tool(problem: str) -> dict[str, Any]:
        """Create a new general tool from a problem that needs one, e.g. 'What is 37 C in Fahrenheit?'.

        Returns the new tool's name and signature, to call it with call_tool.
        """
        try:
            record, report = make_registered_tool(
                registry, problem, models=models, executor=executor, context=context
            )
        except ToolMakingError as exc:
            raise ToolException(str(exc)) from exc
        return {"name": record.name, "signature": record.signature, "description": record.description,
                "answer_to_the_example": report["answer"]}  # fmt: skip

    return StructuredTool.from_function(make_tool, handle_tool_error=True)


@dataclass(kw_only=True)
class AgentContext(ModelContext):
    """The agent's settings: the maker role's model, and how many turns it may take."""

    max_agent_steps: int = field(
        default=6, metadata={"description": "Model turns before the agent stops with what it has."}
    )


class AgentState(TypedDict, total=False):
    """The conversation, the model turns taken, and the answer once a tool gave one."""

    messages: Annotated[list[AnyMessage], add_messages]
    steps: int
    answer: str | None


class AgentInput(TypedDict):
    """What a user types: the question."""

    messages: list[AnyMessage]


SYSTEM = (
    "You answer questions with Python tools from a registry. First call search_tools with a short "
    "description of what is needed. If a tool found fits, call it with call_tool (its name and a dict "
    "of arguments). If none fits, call make_tool with the question itself, then call the new tool "
    "with call_tool. Reply with one tool call at a time."
)


def _tools(runtime: Runtime[AgentContext], models: ChatModelFactory, executor: Executor) -> list[BaseTool]:
    if runtime.store is None:
        raise ValueError("the agent needs a store: compile it with one (the registry lives there)")
    registry = ToolRegistry(runtime.store)
    context = context_of(runtime, AgentContext)
    creator = CreatorContext(maker_model=context.maker_model, maker_base_url=context.maker_base_url)
    made = make_tool_tool(registry, models=models, executor=executor, context=creator)
    return [*tool_library(registry, executor=executor), made]


def build_toolmaker_agent(
    *, models: ChatModelFactory | None = None, executor: Executor | None = None
) -> StateGraph[AgentState, AgentContext, AgentInput, AgentState]:
    """Build the uncompiled agent; compile it with a store (the registry).

    Example:
        >>> agent = build_toolmaker_agent().compile(store=store)
        >>> agent.invoke({"messages": [("user", "What is 37 degrees Celsius in Fahrenheit?")]})["answer"]
        '98.6'
    """
    models, executor = default_models(models), default_executor(executor)

    def think(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
        tools = _tools(runtime, models, executor)
        context = context_of(runtime, AgentContext)
        model = models(context.model_request()).bind_tools(tools)
        reply = model.invoke([SystemMessage(SYSTEM), *state["messages"]])
        assert isinstance(reply, AIMessage)
        if not reply.tool_calls:
            reply = read_text_tool_calls(reply, [tool.name for tool in tools])
        return {"messages": [reply], "steps": state.get("steps", 0) + 1}

    def act(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
        tools = {tool.name: tool for tool in _tools(runtime, models, executor)}
        last = state["messages"][-1]
        assert isinstance(last, AIMessage)
        results: list[ToolMessage] = []
        answer = None
        for call in last.tool_calls:
            tool = tools.get(call["name"])
            failed = True
            if tool is None:
                output: Any = f"there is no tool {call['name']!r}: the tools are {', '.join(sorted(tools))}"
            else:
                try:  # the function itself, so that a failure is told apart from a result
                    output, failed = tool.func(**call["args"]), False  # type: ignore[attr-defined]
                except (ToolException, TypeError, ValueError) as exc:
                    output = f"{type(exc).__name__}: {exc}"
            text = output if isinstance(output, str) else json.dumps(output, default=str)
            results.append(
                ToolMessage(
                    text, tool_call_id=call["id"], name=call["name"], status="error" if failed else "success"
                )
            )
            if call["name"] == "call_tool" and not failed:
                answer = text
        return {"messages": results, "answer": answer}

    def route_after_think(state: AgentState) -> Literal["act", "__end__"]:
        last = state["messages"][-1]
        return "act" if isinstance(last, AIMessage) and last.tool_calls else "__end__"

    def route_after_act(state: AgentState) -> Literal["think", "__end__"]:
        """A registered tool's answer ends the run; so does the last allowed turn."""
        context = context_of(get_runtime(AgentContext), AgentContext)
        done = state.get("answer") is not None or state.get("steps", 0) >= context.max_agent_steps
        return "__end__" if done else "think"

    builder = StateGraph(
        AgentState, context_schema=AgentContext, input_schema=AgentInput, output_schema=AgentState
    )
    builder.add_node("think", think)
    builder.add_node("act", act)
    builder.add_edge(START, "think")
    builder.add_conditional_edges("think", route_after_think)
    builder.add_conditional_edges("act", route_after_act)
    return builder


graph = build_toolmaker_agent().compile(name="toolmaker-agent")
"""The agent as ``langgraph dev`` serves it (the server gives it its store)."""
