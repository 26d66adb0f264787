"""``toolmaker mcp``: the registry's tools served over the Model Context Protocol (stdio or HTTP).

Any MCP client (Claude Desktop, an IDE, another framework, a LangGraph agent on another
machine through ``langchain-mcp-adapters``) lists the general registered tools and calls
them; each call runs in the sandbox. The served set is read from the registry, so tools
another process registers appear without a restart: a watcher sees the registry's
generation marker change and sends ``notifications/tools/list_changed``. The ``make_tool``
tool runs CREATOR on a described problem and registers what it made.

Built on the official SDK's low-level server (``mcp`` 1.x: ``langchain-mcp-adapters``
does not run on 2.x yet).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import anyio
import jsonschema
import mcp.types as types
from mcp.server.lowlevel import NotificationOptions, Server
from mcp.server.models import InitializationOptions
from mcp.server.session import ServerSession
from mcp.server.stdio import stdio_server

from sandbox import Executor, Limits, configured_executor
from tools_registry import ToolRecord, ToolRegistry, open_registry
from tools_registry.langchain_tools import run_tool

logger = logging.getLogger(__name__)
MAKE_TOOL = "make_tool"
MAX_ARGUMENT_BYTES = 64_000
"""The largest JSON arguments a call may carry; a bigger payload is refused before anything runs."""


class _ListChangingServer(Server[Any, Any]):
    """A server that declares ``tools.listChanged`` on every transport.

    The streamable HTTP session manager asks for the initialization options without
    arguments, so the capability has to be this class's default.
    """

    def create_initialization_options(
        self,
        notification_options: NotificationOptions | None = None,
        experimental_capabilities: dict[str, dict[str, Any]] | None = None,
    ) -> InitializationOptions:
        """The options, with ``tools_changed`` on unless told otherwise."""
        return super().create_initialization_options(
            notification_options or NotificationOptions(tools_changed=True), experimental_capabilities
        )


class ToolServer:
    """The MCP handlers over one registry, and the watcher that tells clients of new tools."""

    def __init__(
        self,
        registry: ToolRegistry,
        *,
        tags: tuple[str, ...] = (),
        query: str | None = None,
        make: bool = True,
        executor: Executor | None = None,
        limits: Limits | None = None,
        poll_s: float = 1.0,
    ) -> None:
        """Serve ``registry``'s general tools (those with every one of ``tags``, or matching ``query``)."""
        self.registry, self.tags, self.query, self.make = registry, tags, query, make
        self.executor, self.limits, self.poll_s = executor or configured_executor(), limits, poll_s
        self.sessions: set[ServerSession] = set()
        self.server = _ListChangingServer("langgraph-toolmaker")
        self.server.list_tools()(self._list_tools)  # type: ignore[no-untyped-call]
        # Our own validation says what is wrong in the caller's terms; the SDK's would too, but
        # only for tools it has listed in this session.
        self.server.call_tool(validate_input=False)(self._call_tool)

    def served(self) -> dict[str, ToolRecord]:
        """The latest general version of each served tool, by name."""
        if self.query is not None:
            records = [record for record, _ in self.registry.search(self.query, k=50)]
        else:
            records = [record for record in self.registry.tools() if not record.single_use]
        return {r.name: r for r in records if all(tag in r.tags for tag in self.tags) and r.name != MAKE_TOOL}

    def _remember_session(self) -> None:
        with contextlib.suppress(LookupError):
            self.sessions.add(self.server.request_context.session)

    async def _list_tools(self) -> list[types.Tool]:
        self._remember_session()
        tools = [_as_mcp_tool(record) for record in self.served().values()]
        if self.make:
            tools.append(_MAKE_TOOL_SPEC)
        return tools

    async def _call_tool(self, name: str, arguments: dict[str, Any] | None) -> list[types.TextContent]:
        """Run one tool; any failure is raised as an error the SDK turns into an ``isError`` result."""
        self._remember_session()
        arguments = arguments or {}
        size = len(json.dumps(arguments, default=str).encode())
        if size > MAX_ARGUMENT_BYTES:
            raise ValueError(f"the arguments are {size} bytes; at most {MAX_ARGUMENT_BYTES} are taken")
        if name == MAKE_TOOL and self.make:
            return [_text(await anyio.to_thread.run_sync(self._make_tool, arguments))]
        record = self.served().get(name)
        if record is None:
            raise ValueError(f"there is no served tool {name!r}: tools/list gives the ones there are")
        _check_arguments(_input_schema(record), arguments, record.signature)
        value = await anyio.to_thread.run_sync(
            lambda: run_tool(record, arguments, self.executor, self.limits, self.registry)
        )
        return [_text(value)]

    def _make_tool(self, arguments: dict[str, Any]) -> dict[str, Any]:
        from graphs.agent import make_registered_tool

        _check_arguments(_MAKE_TOOL_SPEC.inputSchema, arguments, "make_tool(problem)")
        record, report = make_registered_tool(self.registry, arguments["problem"], executor=self.executor)
        return {
            "name": record.name,
            "signature": record.signature,
            "id": record.id,
            "answer": report["answer"],
        }

    async def watch(self) -> None:
        """Tell every client that the tool list changed whenever the registry's generation moves."""
        seen = self.registry.generation()
        while True:
            await anyio.sleep(self.poll_s)
            now = self.registry.generation()
            if now == seen:
                continue
            seen = now
            for session in list(self.sessions):
                try:
                    await session.send_tool_list_changed()
                except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                    self.sessions.discard(session)


def _text(value: Any) -> types.TextContent:
    return types.TextContent(type="text", text=value if isinstance(value, str) else json.dumps(value))


def _input_schema(record: ToolRecord) -> dict[str, Any]:
    """The record's argument schema, closed: an argument it does not name is refused."""
    return {**record.parameters, "type": "object", "additionalProperties": False}


def _as_mcp_tool(record: ToolRecord) -> types.Tool:
    lines = [record.description or record.signature]
    demos = [demo for demo in record.demos[:2] if demo.call and demo.output]
    lines += [f"Example: {demo.call} -> {demo.output}" for demo in demos]
    return types.Tool(name=record.name, description="\n".join(lines), inputSchema=_input_schema(record))


def _check_arguments(schema: dict[str, Any], arguments: dict[str, Any], signature: str) -> None:
    try:
        jsonschema.validate(arguments, schema)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(part) for part in exc.absolute_path) or "the arguments"
        raise ValueError(f"bad arguments for {signature}: {where}: {exc.message}") from None


_MAKE_TOOL_SPEC = types.Tool(
    name=MAKE_TOOL,
    description="Create a new general tool with CREATOR from a problem that needs it (one concrete "
    "example, e.g. 'What is 37 degrees Celsius in Fahrenheit?'). The tool is registered and served "
    "at once; returns its name, signature and the example's answer.",
    inputSchema={
        "type": "object",
        "properties": {"problem": {"type": "string", "minLength": 1, "maxLength": 4000}},
        "required": ["problem"],
        "additionalProperties": False,
    },
)


async def serve_stdio(tools: ToolServer) -> None:
    """Serve on stdin/stdout until the client closes them."""
    async with stdio_server() as (read, write), anyio.create_task_group() as group:
        group.start_soon(tools.watch)
        await tools.server.run(read, write, tools.server.create_initialization_options())
        group.cancel_scope.cancel()


def serve_http(tools: ToolServer, host: str, port: int) -> None:
    """Serve streamable HTTP at ``http://HOST:PORT/mcp`` until interrupted."""
    import uvicorn
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
    from starlette.applications import Starlette
    from starlette.routing import Mount

    manager = StreamableHTTPSessionManager(app=tools.server)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with manager.run(), anyio.create_task_group() as group:
            group.start_soon(tools.watch)
            yield
            group.cancel_scope.cancel()

    app = Starlette(routes=[Mount("/mcp", app=manager.handle_request)], lifespan=lifespan)
    uvicorn.run(app, host=host, port=port, log_level="warning")


def run_server(args: Any) -> int:
    """``toolmaker mcp``: open the configured registry and serve it until the client or a signal ends it."""
    from toolmaker.settings import get_settings

    logging.basicConfig(level=logging.WARNING)  # to stderr: on stdio, stdout is the protocol's
    with open_registry(get_settings()) as registry:
        tools = ToolServer(
            registry, tags=tuple(args.tag), query=args.query, make=args.make and not args.read_only
        )
        if args.http:
            serve_http(tools, args.host, args.port)
        else:
            anyio.run(serve_stdio, tools)
    return 0
