"""Latency of a registered tool's call: in process, over MCP on stdio, over MCP on streamable HTTP.

Run: ``python -m benchmarks.mcp_latency [--calls 100] [--warmup 3] [--sandbox auto]
[--out results/mcp_latency.md] [--note "what else ran"]``.
One small general tool (``add_numbers``) is registered in a temporary registry and called
``--calls`` times per path, after ``--warmup`` calls: through the LangChain tool that
``as_langchain_tools`` gives, and through ``toolmaker mcp`` (a subprocess, as an MCP client
starts it) with the official SDK's client over stdio and over streamable HTTP. Every call
runs in the sandbox. The table gives each path's start-up, its first (cold) call, median
and p95 per call, and how long the server took to stop; the sandbox run alone is the
executor's own ``seconds`` for the direct calls. No model is needed. Afterwards it counts
the processes left behind (this process is their subreaper, so orphans count too).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import mcp.types as types
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from rich.progress import Progress, TaskID

from benchmarks.percentiles import median_and_p95
from benchmarks.processes import free_port, live_descendants
from sandbox import ExecutionResult, Executor, Limits, get_executor
from tools_registry import sqlite_registry, tool_from_source
from tools_registry.langchain_tools import as_langchain_tools

REPO = Path(__file__).resolve().parents[1]
NAME = "add_numbers"
SOURCE = f'''
def {NAME}(a: float, b: float) -> float:
    """Add two numbers a and b and return their sum."""
    return a + b
'''
ARGUMENTS = {"a": 2, "b": 40}
EXPECTED = 42
_PR_SET_CHILD_SUBREAPER = 36


@dataclass
class Measured:
    """One path's timings."""

    label: str
    startup_s: float = 0.0
    """From nothing to ready for the first call (for a server: spawned and initialized)."""
    first_ms: float = 0.0
    calls_ms: list[float] = field(default_factory=list)
    shutdown_s: float = 0.0
    """For a server: from the client letting go to the process's exit."""
    exit_code: int | None = None
    sandbox_ms: list[float] = field(default_factory=list)
    """The executor's own time for each timed call, where it runs in this process."""


class _TimedExecutor:
    """An executor that keeps the ``seconds`` of every result of the one it wraps."""

    def __init__(self, inner: Executor) -> None:
        self.inner, self.name, self.seconds = inner, inner.name, list[float]()

    def run(
        self, main: str, *, modules: Mapping[str, str] | None = None, limits: Limits | None = None
    ) -> ExecutionResult:
        result = self.inner.run(main, modules=modules, limits=limits)
        self.seconds.append(result["seconds"])
        return result


def _become_subreaper() -> bool:
    """Adopt our descendants' orphans, so a sandbox process whose server died is still seen."""
    with contextlib.suppress(OSError, AttributeError):
        return bool(ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    return False


def _ms_since(started: float) -> float:
    return 1000 * (time.perf_counter() - started)


def _keep(
    measured: Measured, index: int, warmup: int, elapsed_ms: float, advance: Callable[[], None]
) -> None:
    """The first call is the cold one; warm-up calls are dropped; the rest are timed."""
    if index == 0:
        measured.first_ms = elapsed_ms
    elif index > warmup:
        measured.calls_ms.append(elapsed_ms)
        advance()


def _check(value: Any, label: str) -> None:
    if value != EXPECTED:
        raise RuntimeError(f"{label}: {NAME}({ARGUMENTS}) gave {value!r}, not {EXPECTED}")


def _direct(registry_path: Path, calls: int, warmup: int, sandbox: Executor, progress: Progress) -> Measured:
    measured = Measured("direct: the LangChain tool from `as_langchain_tools`, in process")
    executor = _TimedExecutor(sandbox)
    task = progress.add_task("direct", total=calls)
    started = time.perf_counter()
    with sqlite_registry(registry_path) as registry:
        tool = next(tool for tool in as_langchain_tools(registry, executor=executor) if tool.name == NAME)
        measured.startup_s = time.perf_counter() - started
        for index in range(1 + warmup + calls):
            started = time.perf_counter()
            _check(tool.invoke(ARGUMENTS), measured.label)
            _keep(measured, index, warmup, _ms_since(started), lambda: progress.advance(task))
    measured.sandbox_ms = [1000 * s for s in executor.seconds[1 + warmup :]]
    return measured


def _value(result: types.CallToolResult) -> Any:
    text = "".join(block.text for block in result.content if isinstance(block, types.TextContent))
    if result.isError:
        raise RuntimeError(f"the server answered with an error: {text}")
    return json.loads(text)


async def _calls(
    session: ClientSession, measured: Measured, calls: int, warmup: int, progress: Progress, task: TaskID
) -> None:
    for index in range(1 + warmup + calls):
        started = time.perf_counter()
        _check(_value(await session.call_tool(NAME, ARGUMENTS)), measured.label)
        _keep(measured, index, warmup, _ms_since(started), lambda: progress.advance(task))


async def _stdio(
    env: dict[str, str], errlog: TextIO, calls: int, warmup: int, progress: Progress
) -> Measured:
    measured = Measured("MCP stdio: `toolmaker mcp`, the SDK's `stdio_client` + `ClientSession`")
    task = progress.add_task("MCP stdio", total=calls)
    params = StdioServerParameters(command=sys.executable, args=["-m", "cli", "mcp"], cwd=str(REPO), env=env)
    started = time.perf_counter()
    async with stdio_client(params, errlog=errlog) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            measured.startup_s = time.perf_counter() - started
            await _calls(session, measured, calls, warmup, progress, task)
        released = time.perf_counter()
    measured.shutdown_s = time.perf_counter() - released  # stdin closed, the server waited for
    return measured


async def _listening(port: int, server: subprocess.Popen[bytes], timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"`toolmaker mcp --http` exited with {server.returncode} before listening")
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        await asyncio.sleep(0.02)
    raise RuntimeError(f"`toolmaker mcp --http` did not listen on port {port} within {timeout_s:g} s")


async def _http(env: dict[str, str], errlog: TextIO, calls: int, warmup: int, progress: Progress) -> Measured:
    measured = Measured("MCP streamable HTTP: `toolmaker mcp --http`, the SDK's `streamable_http_client`")
    task = progress.add_task("MCP HTTP", total=calls)
    port = free_port()
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "cli", "mcp", "--http", "--port", str(port)],
        cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errlog,
        start_new_session=True,
    )  # fmt: skip
    try:
        await _listening(port, server)
        async with streamable_http_client(f"http://127.0.0.1:{port}/mcp") as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                measured.startup_s = time.perf_counter() - started
                await _calls(session, measured, calls, warmup, progress, task)
    finally:
        released = time.perf_counter()
        server.terminate()  # what stops it in use: a service manager's SIGTERM
        try:
            measured.exit_code = server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            measured.exit_code = server.wait()
        measured.shutdown_s = time.perf_counter() - released
    return measured


def _report(
    paths: list[Measured], sandbox_ms: list[float], left: int, reaper: bool, backend: str, args: Any
) -> str:
    direct = statistics.median(paths[0].calls_ms)
    sandbox_median, sandbox_p95 = median_and_p95(sandbox_ms)
    rows = []
    for path in paths:
        median, p95 = median_and_p95(path.calls_ms)
        shutdown = f"{path.shutdown_s:.2f}" if path is not paths[0] else "–"
        rows.append(
            f"| {path.label} | {path.startup_s:.2f} | {path.first_ms:.1f} | {median:.1f} | {p95:.1f} | "
            f"{median - direct:+.1f} | {100 * sandbox_median / median:.0f}% | {shutdown} |"
        )
    http = paths[-1]
    return "\n".join(
        [
            "# Tool-call latency: in process, over MCP stdio, over MCP streamable HTTP",
            "",
            f"Command: `python -m benchmarks.mcp_latency --calls {args.calls} --warmup {args.warmup}"
            + (f" --sandbox {args.sandbox}`" if args.sandbox != "auto" else "`"),
            f"Machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
            f"`mcp` {importlib.metadata.version('mcp')}; "
            f"sandbox backend `{backend}`.",
            *([f"While it ran: {args.note}."] if args.note else []),
            "",
            f"The tool: `{NAME}(a: float, b: float) -> float`, registered in a temporary SQLite registry "
            f"(the server's `TOOLMAKER_DATA_DIR`); every call is `{NAME}({json.dumps(ARGUMENTS)})` → "
            f"{EXPECTED}, checked, run in the sandbox. {args.calls} timed calls per path after "
            f"{args.warmup} warm-up calls, one at a time, one session per path.",
            "",
            "| path | start-up s | first call ms | median ms | p95 ms | added vs direct (median) "
            "| sandbox share of the median | server stop s |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            f"The sandbox run alone (the executor's own `seconds` for each timed direct call: spawn, "
            f"run, reap): {sandbox_median:.1f} ms median, {sandbox_p95:.1f} ms p95. The rest of a direct "
            "call is LangChain's tool wrapper, writing the use to the registry and reading the result. "
            "The servers run the same executor on the same code, so what an MCP path adds over direct "
            "is the protocol: JSON-RPC framing, the transport, the server reading the served tools from "
            "the registry and validating the arguments, and a hop to a worker thread.",
            "",
            "Start-up: direct is opening the registry and building the LangChain tools (modules already "
            "imported); a server's is from spawning `python -m cli mcp` to `initialize` answered, "
            "imports included. The first call is the first after start-up, before the warm-up calls. "
            "Server stop: stdio, from closing the session (the SDK closes the server's stdin and waits) "
            f"to its exit; HTTP, from SIGTERM to its exit (exit code {http.exit_code}).",
            "",
            f"Processes left behind afterwards (servers and sandbox runs): {left}"
            + (" (this process was their subreaper, so orphans would have counted)." if reaper else "."),
            "",
        ]
    )


async def _servers(env: dict[str, str], errlog: TextIO, args: Any, progress: Progress) -> list[Measured]:
    return [
        await _stdio(env, errlog, args.calls, args.warmup, progress),
        await _http(env, errlog, args.calls, args.warmup, progress),
    ]


@contextlib.contextmanager
def _registry_with_the_tool() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="mcp-latency-") as folder:
        with sqlite_registry(Path(folder) / "tools.sqlite") as registry:
            registry.add(tool_from_source(SOURCE))
        yield Path(folder)


def main() -> None:
    """Measure the three paths one after another; write a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--sandbox", default="auto", help="sandbox backend for every path (default auto)")
    parser.add_argument("--out", type=Path, default=Path("results/mcp_latency.md"))
    parser.add_argument("--note", default="", help="what else ran on the machine, for the results file")
    args = parser.parse_args()
    reaper = _become_subreaper()
    sandbox = get_executor(args.sandbox)  # the servers resolve the same name the same way
    with _registry_with_the_tool() as data_dir, (data_dir / "servers.log").open("w") as errlog:
        env = {"TOOLMAKER_DATA_DIR": str(data_dir), "TOOLMAKER_SANDBOX": args.sandbox}
        env |= {name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ}
        with Progress() as progress:
            direct = _direct(data_dir / "tools.sqlite", args.calls, args.warmup, sandbox, progress)
            servers = asyncio.run(_servers(env, errlog, args, progress))
        errlog.flush()
        server_log = (data_dir / "servers.log").read_text().strip()
    left = len(live_descendants())
    report = _report([direct, *servers], direct.sandbox_ms, left, reaper, sandbox.name, args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report)
    print(report)
    if server_log:
        print(f"The servers wrote to stderr:\n{server_log[-3000:]}", file=sys.stderr)


if __name__ == "__main__":
    main()
