"""``toolmaker mcp``'s options; the server (and the ``mcp`` SDK) is imported only when it runs."""

from __future__ import annotations

import argparse
from typing import Any


def _mcp(args: argparse.Namespace) -> int:
    from cli.mcp_server import run_server

    return run_server(args)


def add_mcp_parser(commands: Any) -> None:
    """Register ``toolmaker mcp``."""
    parser = commands.add_parser("mcp", help="serve the registry's tools over MCP (stdio, or --http)")
    parser.add_argument(
        "--http", action="store_true", help="streamable HTTP at http://HOST:PORT/mcp, not stdio"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind with --http (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port with --http (default 8765)")
    parser.add_argument(
        "--tag", action="append", default=[], help="serve only tools with this tag (repeatable)"
    )
    parser.add_argument("--query", help="serve only the tools that best match this description")
    parser.add_argument("--no-make", dest="make", action="store_false", help="do not offer make_tool")
    parser.add_argument("--read-only", action="store_true", help="change nothing: no make_tool")
    parser.set_defaults(handler=_mcp)
