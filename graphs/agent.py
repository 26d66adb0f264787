"""An agent that grows its own toolbox: it searches the registry, calls a tool, makes one when none fits.

``make_tool_tool`` is CREATOR as a LangChain tool, for any agent. ``build_toolmaker_agent``
is a small LangGraph agent around it: the registry is searched for the question, the
tools found are offered to the model beside ``make_tool``, the model picks the next call
(calls written as text, as small models write them, are read back), the tools run, and
the loop ends as soon as a registered tool has answered, or after ``max_agent_steps``
model turns. Ending on the tool's answer, rather than waiting for the model to stop, is
what keeps a small model from calling the same tool again and again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage, ToolCall, ToolMessage
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
from prompts import VARIANT_FORMS, load_prompt
from sandbox import Executor
from toolmaker.models import ChatModelFactory
from toolmaker.text_tool_calls import new_call_id, read_text_tool_calls
from tools_registry import ToolRecord, ToolRegistry
from tools_registry.langchain_tools import as_langchain_tool


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
        failures = [attempt["failure"] for attempt in report["attempts"] if attempt["failure"]]
        why = report["error"] or f"the run ended {report['status']} after {report['rounds']} rectify rounds"
        last = f"; the last failure: {failures[-1][:600]}" if failures and not report["error"] else ""
        raise ToolMakingError(f"no tool was made: {why}{last}")
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
        """Create a new general tool for a question that no available tool answers.

        Pass the whole question as ``problem``. Returns the new tool's name and signature;
        the tool can be called at once.
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
    """The agent's settings: the maker role's model, its prompt, and how many turns it may take."""

    max_agent_steps: int = field(
        default=6, metadata={"description": "Model turns before the agent stops with what it has."}
    )
    offered_tools: int = field(
        default=3,
        metadata={"description": "Registered tools found for the question and offered to the model."},
    )
    agent_prompt: str = field(
        default="default", metadata={"description": f"Prompt variant of the agent's turns: {VARIANT_FORMS}."}
    )


class AgentState(TypedDict, total=False):
    """The conversation, the tools offered, the model turns taken, and the answer once a tool gave one."""

    messages: Annotated[list[AnyMessage], add_messages]
    offered: list[str]
    """Names of the registered tools the model may call: those found for the question, then those it made."""
    steps: int
    answer: str | None


class AgentInput(TypedDict):
    """What a user types: the question."""

    messages: list[AnyMessage]


MAKE_TOOL = "make_tool"


def _registry(runtime: Runtime[AgentContext]) -> ToolRegistry:
    if runtime.store is None:
        raise ValueError("the agent needs a store: compile it with one (the registry lives there)")
    return ToolRegistry(runtime.store)


def _question(state: AgentState) -> str:
    return next(str(m.text) for m in state["messages"] if isinstance(m, HumanMessage))


def _found_lines(records: list[ToolRecord]) -> str:
    return "\n".join(f"- {r.signature}: {r.description or 'no description'}" for r in records) or "(none)"


def build_toolmaker_agent(
    *, models: ChatModelFactory | None = None, executor: Executor | None = None
) -> StateGraph[AgentState, AgentContext, AgentInput, AgentState]:
    """Build the uncompiled agent; compile it with a store (the registry).

    The registry is searched for the question first, and the tools found are bound to the
    model themselves (the bigtool pattern), beside ``make_tool``: a small model then has
    one decision to take, call a found tool or make one, rather than a search to write.

    Example:
        >>> agent = build_toolmaker_agent().compile(store=store)
        >>> agent.invoke({"messages": [("user", "What is 37 degrees Celsius in Fahrenheit?")]})["answer"]
        '98.6'
    """
    models, executor = default_models(models), default_executor(executor)

    def offered_tools(
        state: AgentState, runtime: Runtime[AgentContext]
    ) -> tuple[list[ToolRecord], list[BaseTool]]:
        registry = _registry(runtime)
        records = [r for name in state.get("offered", []) if (r := registry.get(name)) is not None]
        context = context_of(runtime, AgentContext)
        creator = CreatorContext(maker_model=context.maker_model, maker_base_url=context.maker_base_url)
        made = make_tool_tool(registry, models=models, executor=executor, context=creator)
        found = [as_langchain_tool(r, executor=executor, registry=registry) for r in records]
        return records, [*found, made]

    def find_tools(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
        """Search the registry for the question; when nothing is found, making a tool is the only move.

        That move is taken without a model turn: a small model, offered make_tool alone,
        tends to write a tool's definition instead of calling it.
        """
        context, question = context_of(runtime, AgentContext), _question(state)
        found = _registry(runtime).search(question, context.offered_tools)
        offered = [record.name for record, score in found if score > 0 and record.name != MAKE_TOOL]
        if offered:
            return {"offered": offered}
        making = ToolCall(name=MAKE_TOOL, args={"problem": question}, id=new_call_id())
        return {"offered": [], "messages": [AIMessage("", tool_calls=[making])]}

    def think(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
        records, tools = offered_tools(state, runtime)
        context = context_of(runtime, AgentContext)
        prompt = load_prompt("agent", context.prompt_variant("agent"))
        system, user = prompt.render(found=_found_lines(records), question=_question(state))
        conversation = [m for m in state["messages"] if not isinstance(m, HumanMessage)]
        model = models(context.model_request()).bind_tools(tools)
        reply = model.invoke([SystemMessage(system), HumanMessage(user), *conversation], **prompt.options())
        assert isinstance(reply, AIMessage)
        if not reply.tool_calls:
            reply = read_text_tool_calls(reply, [tool.name for tool in tools])
        return {"messages": [reply], "steps": state.get("steps", 0) + 1}

    def act(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
        tools = {tool.name: tool for tool in offered_tools(state, runtime)[1]}
        last = state["messages"][-1]
        assert isinstance(last, AIMessage)
        results: list[ToolMessage] = []
        offered, answer = list(state.get("offered", [])), None
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
            if failed:
                continue
            if call["name"] == MAKE_TOOL:
                offered.append(output["name"])
            else:
                answer = text
        return {"messages": results, "offered": offered, "answer": answer}

    def route_to_calls(state: AgentState) -> Literal["act", "__end__"]:
        last = state["messages"][-1]
        return "act" if isinstance(last, AIMessage) and last.tool_calls else "__end__"

    def route_after_finding(state: AgentState) -> Literal["act", "think"]:
        return "think" if state["offered"] else "act"

    def route_after_act(state: AgentState) -> Literal["think", "__end__"]:
        """A registered tool's answer ends the run; so does the last allowed turn."""
        context = context_of(get_runtime(AgentContext), AgentContext)
        done = state.get("answer") is not None or state.get("steps", 0) >= context.max_agent_steps
        return "__end__" if done else "think"

    builder = StateGraph(
        AgentState, context_schema=AgentContext, input_schema=AgentInput, output_schema=AgentState
    )
    builder.add_node("find_tools", find_tools)
    builder.add_node("think", think)
    builder.add_node("act", act)
    builder.add_edge(START, "find_tools")
    builder.add_conditional_edges("find_tools", route_after_finding)
    builder.add_conditional_edges("think", route_to_calls)
    builder.add_conditional_edges("act", route_after_act)
    return builder


graph = build_toolmaker_agent().compile(name="toolmaker-agent")
"""The agent as ``langgraph dev`` serves it (the server gives it its store)."""
