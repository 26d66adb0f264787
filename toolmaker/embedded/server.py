"""Start, health-check, reuse and stop embedded llama.cpp servers (one per GGUF file)."""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import json
import logging
import os
import selectors
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from toolmaker.embedded.catalog import EMBEDDED_MODELS
from toolmaker.embedded.serve import DEFAULT_THREADS
from toolmaker.embedded.weights import ensure_weights
from toolmaker.settings import Settings, usable_cores

_STDERR_TAIL_BYTES = 4000
_log = logging.getLogger(__name__)
_HEALTH_GRACE_S = 30.0
"""A running server that misses a health check is asked again for this long before it is
restarted: one slow or refused /health should not cost the loaded model."""
_KEPT_ENDED_PROCESSES = 8
"""Server logs of this many ended processes are kept (their ``.previous.log`` too), newest first."""
_started_logs: set[Path] = set()
"""Logs this process started: only these are its own to move aside (a process id can be reused)."""
_SERVE_MODULE = "toolmaker.embedded.serve"


class EmbeddedServerError(RuntimeError):
    """The embedded server could not be started or stopped answering."""


@dataclass
class EmbeddedServer:
    """A running llama.cpp server process serving one model on 127.0.0.1."""

    model: str
    address: str
    process: subprocess.Popen[bytes]
    log_path: Path
    health_error: str = ""
    """Why the last health check failed (empty when it passed)."""

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL (``.../v1``)."""
        return self.address + "/v1"

    def is_healthy(self, timeout_s: float = 2.0) -> bool:
        """Whether the process runs and ``/health`` answers ``ok`` (see :attr:`health_error`)."""
        if self.process.poll() is not None:
            self.health_error = f"exited with code {self.process.returncode}"
            return False
        try:
            with urllib.request.urlopen(self.address + "/health", timeout=timeout_s) as reply:
                status = json.loads(reply.read()).get("status")
        except (OSError, ValueError) as exc:
            self.health_error = f"/health failed: {exc!r}"
            return False
        self.health_error = "" if status == "ok" else f"/health said {status!r}"
        return not self.health_error

    def becomes_healthy(self, grace_s: float) -> bool:
        """Whether a running server answers ``ok`` within ``grace_s``, asking every half second."""
        deadline = time.monotonic() + grace_s
        while not self.is_healthy(timeout_s=5.0):
            if self.process.poll() is not None or time.monotonic() > deadline:
                return False
            time.sleep(0.5)
        return True

    def stop(self, grace_s: float = 5.0) -> None:
        """Terminate the server process and wait for it, killing it if it lingers."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(grace_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()


_servers: dict[str, EmbeddedServer] = {}
_lock = threading.Lock()


def resolve_gguf(model: str, settings: Settings) -> Path:
    """Map an embedded model name or a ``.gguf`` path to a verified file on disk."""
    if model in EMBEDDED_MODELS:
        return ensure_weights(EMBEDDED_MODELS[model], settings.cache_dir)
    path = Path(model).expanduser()
    if not path.is_file():
        known = ", ".join(sorted(EMBEDDED_MODELS))
        raise EmbeddedServerError(f"No GGUF file at {path} (embedded models: {known})")
    return path


def _previous_log(log_path: Path) -> Path:
    """Where a server's log goes when this process restarts the server for the same model."""
    return log_path.with_suffix(".previous.log")


def _process_alive(pid: int) -> bool:
    """Whether a process with this id runs (one we may not signal runs too)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def _modified(path: Path) -> float:
    """When a log was last written; 0 for one another process just pruned."""
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def _log_path(log_dir: Path, gguf_stem: str) -> Path:
    """This process's server log for one model, after pruning the logs ended processes left.

    Each process writes its own log: benchmarks, tests and workers run at the same time, and
    one process starting a server must not move away the log of another's live server. The
    logs of the newest ``_KEPT_ENDED_PROCESSES`` ended processes stay, so a crash can be read.
    """
    prefix = f"server-{gguf_stem}."
    ended: dict[int, list[Path]] = {}
    for path in log_dir.glob(f"{prefix}*.log"):
        pid = path.name.removeprefix(prefix).split(".")[0]
        if pid.isdigit() and not _process_alive(int(pid)):
            ended.setdefault(int(pid), []).append(path)
    newest_first = sorted(ended.values(), key=lambda logs: max(map(_modified, logs)), reverse=True)
    for logs in newest_first[_KEPT_ENDED_PROCESSES:]:
        for path in logs:
            path.unlink(missing_ok=True)
    return log_dir / f"{prefix}{os.getpid()}.log"


def _read_address(process: subprocess.Popen[bytes], timeout_s: float) -> str | None:
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout_s
    while (remaining := deadline - time.monotonic()) > 0:
        if not selector.select(remaining):
            break
        line = process.stdout.readline()
        if not line:
            break
        with contextlib.suppress(ValueError):
            return str(json.loads(line)["address"])
    return None


def _server_threads(argv: list[bytes]) -> int | None:
    """The threads of an embedded server's command line (``-m toolmaker.embedded.serve``), else None."""
    run_as_module = [b"-m", _SERVE_MODULE.encode()]
    start = next((i for i in range(1, len(argv)) if argv[i - 1 : i + 1] == run_as_module), None)
    if start is None:
        return None
    options = argv[start + 1 :]
    for index, option in enumerate(options):
        value = option.removeprefix(b"--threads=") if option.startswith(b"--threads=") else None
        if option == b"--threads" and index + 1 < len(options):
            value = options[index + 1]
        if value is not None and value.isdigit():
            return int(value)
    return DEFAULT_THREADS


def other_servers(own: set[int], proc: Path = Path("/proc")) -> dict[int, int]:
    """Embedded servers running on this machine, but not the processes ``own``: process id → threads.

    Read from Linux's ``/proc``; where there is none, none are found.
    """
    found: dict[int, int] = {}
    for cmdline in proc.glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:  # it ended while we looked
            continue
        pid = int(cmdline.parent.name)
        if pid not in own and (threads := _server_threads(argv)) is not None:
            found[pid] = threads
    return found


def _warn_of_shared_cores(model: str, threads: int, own: set[int], proc: Path = Path("/proc")) -> None:
    """Warn when this server's threads and other processes' servers' need more cores than this one may use.

    llama.cpp's threads wait for each other by spinning: two servers of 2 threads decoding
    at once on 2 cores slowed to 0.35 tokens/s (read from a server log). This process's own
    servers (LATM's maker and user) take turns, so they are not counted.
    """
    others = other_servers(own, proc)
    cores, elsewhere = usable_cores(), sum(others.values())
    if others and threads + elsewhere > cores:
        _log.warning(
            "embedded server for %s: %d threads here and %d in other embedded servers "
            "(process %s) on %d cores; while both decode, each runs many times slower. "
            "Run one at a time, or set TOOLMAKER_EMBEDDED_THREADS so that they add up to %d at most.",
            model,
            threads,
            elsewhere,
            ", ".join(map(str, sorted(others))),
            cores,
            cores,
        )


def _start(model: str, settings: Settings) -> EmbeddedServer:
    if importlib.util.find_spec("xllamacpp") is None:
        raise EmbeddedServerError(
            "The embedded model needs llama.cpp's server from the 'local' extra: "
            "pip install 'langgraph-toolmaker[local]', or configure an endpoint "
            "(TOOLMAKER_MAKER_BASE_URL, or --base-url)."
        )
    gguf = resolve_gguf(model, settings)
    log_dir = settings.cache_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = _log_path(log_dir, gguf.stem)
    if log_path in _started_logs and log_path.exists():
        log_path.replace(_previous_log(log_path))  # why this process's last one stopped
    _started_logs.add(log_path)
    _warn_of_shared_cores(
        model, settings.embedded_threads, {server.process.pid for server in _servers.values()}
    )
    command = [
        sys.executable,
        "-m",
        _SERVE_MODULE,
        "--model",
        str(gguf),
        "--alias",
        model,
        "--threads",
        str(settings.embedded_threads),
        "--context-tokens",
        str(settings.embedded_context_tokens),
        "--slots",
        str(settings.embedded_slots),
        *([] if settings.embedded_prompt_cache else ["--no-prompt-cache"]),
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,  # never written: its closing tells the server we are gone
            stdout=subprocess.PIPE,
            stderr=log,
            env={**os.environ, "LLAMA_LOG_COLORS": "0"},
        )
    address = _read_address(process, settings.embedded_start_timeout_s)
    server = EmbeddedServer(model=model, address=address or "", process=process, log_path=log_path)
    if address is None or not server.is_healthy(timeout_s=10):
        server.stop()
        tail = log_path.read_bytes()[-_STDERR_TAIL_BYTES:].decode(errors="replace")
        raise EmbeddedServerError(
            f"The embedded server for {model!r} did not become healthy within "
            f"{settings.embedded_start_timeout_s:.0f} s. Its log ({log_path}) ends with:\n{tail}"
        )
    return server


def get_embedded_server(model: str, settings: Settings) -> EmbeddedServer:
    """Return a healthy server for ``model``, starting (or restarting) it if needed.

    Servers are reused for the lifetime of the process and stopped at exit.
    """
    with _lock:
        server = _servers.get(model)
        if server is not None and server.becomes_healthy(_HEALTH_GRACE_S):
            return server
        if server is not None:
            _log.warning(
                "embedded server for %s: %s; restarting it (its log is kept as %s)",
                model,
                server.health_error,
                _previous_log(server.log_path),
            )
            server.stop()
        server = _start(model, settings)
        _servers[model] = server
        return server


def stop_embedded_servers() -> None:
    """Stop every server this process started."""
    with _lock:
        for server in _servers.values():
            server.stop()
        _servers.clear()


atexit.register(stop_embedded_servers)
