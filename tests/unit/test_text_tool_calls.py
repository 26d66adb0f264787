import asyncio

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, ToolMessage
from langchain_openai import ChatOpenAI
from langgraph.store.memory import InMemoryStore

from sandbox import SubprocessExecutor
from tests.fakes import FakeOpenAIServer, ScriptedChatModel
from tests.unit.test_langchain_tools import DIGIT_SUM
from toolmaker.text_tool_calls import TextToolCalls, read_text_tool_calls
from tools_registry import ToolRegistry, tool_from_source
from tools_registry.langchain_tools import as_langchain_tools

# What the embedded Qwen2.5-Coder-1.5B answered when offered a digit_sum tool.
FENCED_CALL = '```json\n{\n  "name": "digit_sum",\n  "arguments": {\n    "n": 123456789\n  }\n}\n```'


@pytest.mark.parametrize(
    "text",
    [
        FENCED_CALL,
        '<tool_call>\n{"name": "digit_sum", "arguments": {"n": 123456789}}\n</tool_call>',
        '{"name": "digit_sum", "parameters": {"n": 123456789}}',
        '[{"type": "function", "function": {"name": "digit_sum", "arguments": "{\\"n\\": 123456789}"}}]',
    ],
    ids=["fenced", "qwen-tags", "bare", "openai-shape"],
)
def test_calls_written_as_text_become_tool_calls(text):
    message = read_text_tool_calls(AIMessage(content=text), ["digit_sum"])
    assert [(call["name"], call["args"]) for call in message.tool_calls] == [("digit_sum", {"n": 123456789})]
    assert message.content == "" and not message.invalid_tool_calls


def test_prose_around_a_call_stays_and_several_calls_are_read():
    text = (
        "Let me compute both.\n<tool_call>\n"
        '{"name": "digit_sum", "arguments": {"n": 99}}\n</tool_call>\n<tool_call>\n'
        '{"name": "digit_sum", "arguments": {"n": 255, "base": 16}}\n</tool_call>'
    )
    message = read_text_tool_calls(AIMessage(content=text), ["digit_sum"])
    assert [call["args"] for call in message.tool_calls] == [{"n": 99}, {"n": 255, "base": 16}]
    assert message.content == "Let me compute both."
    assert len({call["id"] for call in message.tool_calls}) == 2


@pytest.mark.parametrize(
    "text",
    [
        "The digit sum of 99 is 18.",
        '```json\n{"name": "other_tool", "arguments": {"n": 1}}\n```',
        '```python\nprint({"name": "digit_sum"})\n```',
    ],
    ids=["prose", "unknown-tool", "code"],
)
def test_replies_that_are_not_calls_of_bound_tools_are_left_alone(text):
    message = AIMessage(content=text)
    assert read_text_tool_calls(message, ["digit_sum"]) is message


def test_unreadable_call_is_invalid_with_the_reason_and_the_text_is_kept():
    text = '```json\n{"name": "digit_sum", "arguments": {"n": 3**50}}\n```'
    message = read_text_tool_calls(AIMessage(content=text), ["digit_sum"])
    (invalid,) = message.invalid_tool_calls
    assert invalid["name"] == "digit_sum" and "not JSON" in invalid["error"]
    assert not message.tool_calls and message.content == text


def test_api_tool_calls_are_kept_as_they_are():
    message = AIMessage(content=FENCED_CALL, tool_calls=[{"name": "digit_sum", "args": {"n": 1}, "id": "a"}])
    assert read_text_tool_calls(message, ["digit_sum"]) is message


def test_agent_runs_a_registered_tool_the_model_called_in_text():
    registry = ToolRegistry(InMemoryStore())
    registry.add(tool_from_source(DIGIT_SUM))
    tools = as_langchain_tools(registry, executor=SubprocessExecutor())
    question = {"messages": [("user", "What is the sum of the digits of 123456789?")]}
    with FakeOpenAIServer([FENCED_CALL, "The sum of the digits is 45.", FENCED_CALL]) as server:
        endpoint = ChatOpenAI(model="local", base_url=server.base_url, api_key="none", max_retries=0)
        messages = create_agent(TextToolCalls(model=endpoint), tools=tools).invoke(question)["messages"]
        # The same reply without the wrapper ends the run: the agent takes the JSON for an answer.
        unwrapped = create_agent(endpoint, tools=tools).invoke(question)["messages"]
    assert [m.content for m in messages if isinstance(m, ToolMessage)] == ["45"]
    assert messages[-1].content == "The sum of the digits is 45."
    assert registry.stats(registry.get("digit_sum").id).uses == 1
    # Tools go to the endpoint as usual, and the call is sent back as a real tool call.
    assert server.requests[0]["tools"][0]["function"]["name"] == "digit_sum"
    assert [m["role"] for m in server.requests[1]["messages"]] == ["user", "assistant", "tool"]
    assert server.requests[1]["messages"][1]["tool_calls"][0]["function"]["name"] == "digit_sum"
    assert not any(isinstance(m, ToolMessage) for m in unwrapped)


def test_async_calls_are_read_too():
    model = TextToolCalls(model=ScriptedChatModel(replies=[FENCED_CALL]))
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    bound = model.bind_tools([{"type": "function", "function": {"name": "digit_sum", "parameters": schema}}])
    reply = asyncio.run(bound.ainvoke("sum the digits of 123456789"))
    assert reply.tool_calls[0]["args"] == {"n": 123456789}
