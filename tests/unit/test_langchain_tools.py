import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import ToolException
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode
from langgraph.store.memory import InMemoryStore

from sandbox import Limits, SubprocessExecutor
from tests.fakes import ScriptedChatModel
from tools_registry import ToolRegistry, tool_from_source
from tools_registry.langchain_tools import as_langchain_tool, as_langchain_tools, tool_library

DIGIT_SUM = '''
def digit_sum(n: int, base: int = 10) -> int:
    """Sum of the digits of a non-negative integer n written in the given base."""
    total = 0
    while n:
        total, n = total + n % base, n // base
    return total
'''
SLOW = '''
def slow(x: int) -> int:
    """Loops forever."""
    while True:
        pass
'''
EXECUTOR = SubprocessExecutor()


@pytest.fixture
def registry():
    registry = ToolRegistry(InMemoryStore())
    registry.add(tool_from_source(DIGIT_SUM))
    return registry


def test_structured_tool_schema_comes_from_the_signature(registry):
    (tool,) = as_langchain_tools(registry, executor=EXECUTOR)
    schema = tool.args_schema.model_json_schema()
    assert tool.name == "digit_sum" and "Sum of the digits" in tool.description
    assert schema["required"] == ["n"] and schema["properties"]["base"]["default"] == 10


def test_invocation_runs_in_the_sandbox_and_counts_uses(registry):
    (tool,) = as_langchain_tools(registry, executor=EXECUTOR)
    assert tool.invoke({"n": 2**100}) == 115
    assert tool.invoke({"n": 255, "base": 16}) == 30
    record = registry.get("digit_sum")
    assert registry.stats(record.id).uses == 2


def test_failures_raise_tool_exception_with_the_sandbox_message(registry):
    record = registry.add(tool_from_source(SLOW))
    tool = as_langchain_tool(record, executor=EXECUTOR, limits=Limits(wall_seconds=1), registry=registry)
    with pytest.raises(ToolException, match=r"slow failed in the sandbox \(timeout\): Timeout"):
        tool.invoke({"x": 1})
    assert registry.stats(record.id).failures == 1


def test_query_selects_tools_by_relevance(registry):
    registry.add(tool_from_source(SLOW))
    assert [t.name for t in as_langchain_tools(registry, "digits of a number", k=1, executor=EXECUTOR)] == [
        "digit_sum"
    ]


def test_tool_node_runs_a_registered_tool(registry):
    graph = StateGraph(MessagesState)
    graph.add_node("tools", ToolNode(as_langchain_tools(registry, executor=EXECUTOR)))
    graph.add_edge(START, "tools")
    call = {"name": "digit_sum", "args": {"n": 2**100}, "id": "call-1", "type": "tool_call"}
    messages = graph.compile().invoke({"messages": [AIMessage(content="", tool_calls=[call])]})["messages"]
    assert isinstance(messages[-1], ToolMessage) and messages[-1].content == "115"


def test_agent_uses_a_tool_created_after_it_was_built():
    registry = ToolRegistry(InMemoryStore())
    model = ScriptedChatModel(
        replies=[
            AIMessage(
                content="", tool_calls=[{"name": "search_tools", "args": {"query": "digits"}, "id": "1"}]
            ),
            AIMessage(
                content="",
                tool_calls=[
                    {"name": "call_tool", "args": {"name": "digit_sum", "arguments": {"n": 99}}, "id": "2"}
                ],
            ),
            "The digit sum is 18.",
        ]
    )
    agent = create_agent(model, tools=tool_library(registry, executor=EXECUTOR))
    registry.add(tool_from_source(DIGIT_SUM))  # after the agent exists
    messages = agent.invoke({"messages": [("user", "What is the digit sum of 99?")]})["messages"]
    tool_results = [m.content for m in messages if isinstance(m, ToolMessage)]
    assert "digit_sum" in tool_results[0] and tool_results[1] == "18"
    assert messages[-1].content == "The digit sum is 18."


def test_calling_an_unknown_tool_tells_the_agent_what_to_do(registry):
    _, call_tool = tool_library(registry, executor=EXECUTOR)
    assert "use search_tools" in call_tool.invoke({"name": "nope", "arguments": {}})
