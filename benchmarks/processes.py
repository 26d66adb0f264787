"""Local server processes of benchmarks and tests: a port to start one on, and what it leaves behind."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import socket
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from tests.fakes import FakeOpenAIServer


def free_port() -> int:
    """A loopback port that nothing listens on now (free for a server; refused for a client)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def live_descendants() -> list[int]:
    """Processes started by this one (directly or not) that still run; zombies are reaped."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    found, frontier = [], [os.getpid()]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        found += children
        frontier += children
    return found


def _serve(reply: Callable[[dict[str, Any]], str], conn: Connection) -> None:
    with FakeOpenAIServer(reply) as endpoint:
        conn.send(endpoint.base_url)
        conn.recv()  # until the benchmark is done


@contextlib.contextmanager
def scripted_endpoint_process(reply: Callable[[dict[str, Any]], str]) -> Iterator[str]:
    """A scripted endpoint in a process of its own, as a real one is; yields its base URL.

    In the benchmark's own process its threads would take turns with the graph's for the
    interpreter, and that time would count as the graph's.
    """
    # fork, not spawn: spawn would leave multiprocessing's resource tracker running, and the
    # benchmarks count the processes left behind.
    fork = multiprocessing.get_context("fork")
    ours, theirs = fork.Pipe()
    server = fork.Process(target=_serve, args=(reply, theirs), daemon=True)
    server.start()
    theirs.close()  # ours only: if the server dies before it answers, recv() ends instead of waiting
    try:
        yield str(ours.recv())
    finally:
        with contextlib.suppress(OSError):
            ours.send("done")
        server.join(timeout=10)
        if server.is_alive():
            server.kill()
            server.join()
