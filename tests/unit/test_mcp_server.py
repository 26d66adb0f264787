"""``toolmaker mcp`` with real clients: the MCP SDK's over stdio and HTTP, and langchain-mcp-adapters."""

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import anyio
import httpx
import mcp.types as types
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from benchmarks.processes import free_port
from tools_registry import sqlite_registry, tool_from_source

REPO = Path(__file__).resolve().parents[2]
ADD = '''
def add_numbers(a: float, b: float) -> float:
    """Add two numbers a and b and return their sum."""
    return a + b
'''
SLEEPER = '''
def count_up(n: int) -> int:
    """Count from 0 to n, slowly, and return n."""
    import time
    time.sleep(60)
    return n
'''
SQUARE = '''
def square(x: float) -> float:
    """Return x squared."""
    return x * x
'''


def register(*sources: str) -> None:
    with sqlite_registry(Path(os.environ["TOOLMAKER_DATA_DIR"]) / "tools.sqlite") as registry:
        for source in sources:
            registry.add(tool_from_source(source))


def server_env() -> dict[str, str]:
    keep = ("TOOLMAKER_DATA_DIR", "TOOLMAKER_DATASETS_DIR", "PATH", "HOME")
    return {name: os.environ[name] for name in keep if name in os.environ}


def stdio_server(*options: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable, args=["-m", "cli", "mcp", *options], cwd=str(REPO), env=server_env()
    )


def text(result: types.CallToolResult) -> str:
    return "".join(block.text for block in result.content if isinstance(block, types.TextContent))


async def _session_round_trip(session: ClientSession, changed: anyio.Event) -> None:
    init = await session.initialize()
    assert init.capabilities.tools is not None and init.capabilities.tools.listChanged
    listed = {tool.name: tool for tool in (await session.list_tools()).tools}
    assert set(listed) == {"add_numbers", "count_up", "make_tool"}
    assert listed["add_numbers"].inputSchema["required"] == ["a", "b"]
    assert "Add two numbers" in (listed["add_numbers"].description or "")

    done = await session.call_tool("add_numbers", {"a": 2, "b": 40})
    assert not done.isError and json.loads(text(done)) == 42
    unknown = await session.call_tool("subtract", {"a": 1})
    assert unknown.isError and "no served tool 'subtract'" in text(unknown)
    missing = await session.call_tool("add_numbers", {"a": 2})
    assert missing.isError and "'b' is a required property" in text(missing)
    extra = await session.call_tool("add_numbers", {"a": 2, "b": 3, "c": 4})
    assert extra.isError and "'c' was unexpected" in text(extra)
    wrong = await session.call_tool("add_numbers", {"a": "two", "b": 3})
    assert wrong.isError and "a: 'two' is not of type 'number'" in text(wrong)
    huge = await session.call_tool("add_numbers", {"a": 1, "b": 2, "pad": "x" * 70_000})
    assert huge.isError and "at most 64000 are taken" in text(huge)
    slow = await session.call_tool("count_up", {"n": 3})
    assert slow.isError and "timeout" in text(slow)

    register(SQUARE)  # another process adds a tool while the server runs
    with anyio.fail_after(20):
        await changed.wait()
    assert "square" in {tool.name for tool in (await session.list_tools()).tools}
    squared = await session.call_tool("square", {"x": 12})
    assert json.loads(text(squared)) == 144


def _listener() -> tuple[object, anyio.Event]:
    changed = anyio.Event()

    async def on_message(message: object) -> None:
        if isinstance(message, types.ServerNotification) and isinstance(
            message.root, types.ToolListChangedNotification
        ):
            changed.set()

    return on_message, changed


def test_stdio_clients_list_and_call_tools_get_clear_errors_and_see_new_tools():
    register(ADD, SLEEPER)

    async def main() -> None:
        on_message, changed = _listener()
        async with stdio_client(stdio_server()) as (read, write):
            async with ClientSession(read, write, message_handler=on_message) as session:  # type: ignore[arg-type]
                await _session_round_trip(session, changed)

    asyncio.run(main())


def test_http_clients_get_the_same_and_the_server_leaves_no_process_behind():
    register(ADD, SLEEPER)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "cli", "mcp", "--http", "--port", str(port)],
        cwd=REPO, env=server_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)

        async def main() -> None:
            on_message, changed = _listener()
            async with streamable_http_client(url) as (read, write, _):
                async with ClientSession(read, write, message_handler=on_message) as session:  # type: ignore[arg-type]
                    await _session_round_trip(session, changed)

        asyncio.run(main())
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    assert server.returncode in (0, -15), err[-2000:]
    left = subprocess.run(["pgrep", "-s", str(server.pid)], capture_output=True, text=True).stdout.split()
    assert left == [], "processes of the server's session are still running"


@pytest.mark.parametrize("read_only", [False, True])
def test_langchain_mcp_adapters_load_the_served_tools_into_langchain(read_only):
    from langchain_mcp_adapters.client import MultiServerMCPClient

    register(ADD)
    options = ["--read-only"] if read_only else []
    client = MultiServerMCPClient(
        {
            "toolmaker": {
                "transport": "stdio",
                "command": sys.executable,
                "args": ["-m", "cli", "mcp", *options],
                "cwd": str(REPO),
                "env": server_env(),
            }
        }  # fmt: skip
    )

    async def main() -> tuple[list[str], object]:
        tools = await client.get_tools()
        add = next(tool for tool in tools if tool.name == "add_numbers")
        return [tool.name for tool in tools], await add.ainvoke({"a": 1.5, "b": 2})

    names, value = asyncio.run(main())
    assert sorted(names) == (["add_numbers"] if read_only else ["add_numbers", "make_tool"])
    assert "3.5" in str(value)


def test_make_tool_runs_creator_and_serves_the_new_tool_at_once():
    from tests.fakes import FakeOpenAIServer
    from tests.workers import scripted_reply

    with FakeOpenAIServer(scripted_reply) as endpoint:
        params = stdio_server()
        params.env = {
            **server_env(),
            "TOOLMAKER_MAKER_BASE_URL": endpoint.base_url,
            "TOOLMAKER_MAKER_MODEL": "m",
        }

        async def main() -> tuple[object, set[str]]:
            async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
                await session.initialize()
                made = await session.call_tool("make_tool", {"problem": "What is 6 times 7?"})
                empty = await session.call_tool("make_tool", {"problem": ""})
                assert empty.isError and "problem: '' should be non-empty" in text(empty)
                return json.loads(text(made)), {tool.name for tool in (await session.list_tools()).tools}

        made, names = asyncio.run(main())
    assert made["name"] == "multiply_numbers" and made["answer"] == "42" and "multiply_numbers" in names


def test_an_agent_made_with_create_agent_calls_a_served_tool_through_the_adapters():
    from langchain.agents import create_agent
    from langchain_core.messages import AIMessage
    from langchain_mcp_adapters.client import MultiServerMCPClient

    from tests.fakes import ScriptedChatModel

    register(ADD)
    client = MultiServerMCPClient(
        {
            "toolmaker": {
                "transport": "stdio",
                "command": sys.executable,
                "args": ["-m", "cli", "mcp", "--read-only"],
                "cwd": str(REPO),
                "env": server_env(),
            }
        }  # fmt: skip
    )
    call = AIMessage("", tool_calls=[{"name": "add_numbers", "args": {"a": 40, "b": 2}, "id": "c1"}])
    model = ScriptedChatModel(replies=[call, AIMessage("The sum is 42.")])

    async def main() -> list[object]:
        agent = create_agent(model, tools=await client.get_tools())
        state = await agent.ainvoke({"messages": [("user", "What is 40 + 2?")]})
        return state["messages"]

    messages = asyncio.run(main())
    tool_message = messages[2]
    assert tool_message.type == "tool" and tool_message.name == "add_numbers"
    assert "42" in str(tool_message.content) and getattr(tool_message, "status", "success") != "error"
    assert messages[-1].content == "The sum is 42."
