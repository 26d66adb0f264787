"""The bubblewrap backend: the subprocess runner inside fresh Linux namespaces.

Every namespace is unshared (no network at all, its own PIDs, IPC and hostname); the
root is empty but for read-only binds of the system libraries and the Python install;
the scratch directory, ``/tmp`` and ``/dev/shm`` are tmpfs capped at ``Limits.disk_mb``; the model's files
are bound read-only into the scratch. Landlock and seccomp still apply inside.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from sandbox.executor import RUNNER, Launch, SubprocessExecutor, sandbox_environment
from sandbox.result import Limits

SCRATCH = "/sandbox"
REPORT = "/.report.json"
_SYSTEM = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc/ld.so.cache", "/etc/localtime")


class BubblewrapExecutor(SubprocessExecutor):
    """Runs each execution under ``bwrap`` (no root needed where user namespaces are allowed)."""

    name = "bubblewrap"

    def __init__(self, bwrap: str = "bwrap", **kwargs: object) -> None:
        """Create the executor; ``kwargs`` are those of :class:`SubprocessExecutor`."""
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.bwrap = bwrap

    def _read_as_uid(self) -> tuple[str, ...]:
        """Every folder bwrap mounts, which must be readable by the uid it runs as."""
        return (str(RUNNER.parent), *_python_folders(self.python))

    def _command(self, scratch: Path, report: Path, limits: Limits, uid: int | None) -> Launch:
        wanted = {*_SYSTEM, *self._read_as_uid()}
        tmpfs_bytes = str(limits.disk_mb * 1024 * 1024)
        command = [
            self.bwrap,
            *("--unshare-all", "--die-with-parent", "--new-session", "--clearenv"),
            *("--proc", "/proc", "--dev", "/dev"),
            *("--size", tmpfs_bytes, "--tmpfs", "/tmp"),
            *("--size", tmpfs_bytes, "--tmpfs", "/dev/shm"),
        ]
        for path in _read_only_binds(wanted):
            command += ["--ro-bind-try", path, path]
        command += ["--size", tmpfs_bytes, "--tmpfs", SCRATCH]
        for file in sorted(scratch.iterdir()):
            command += ["--ro-bind", str(file), f"{SCRATCH}/{file.name}"]
        command += ["--bind", str(report), REPORT, "--chdir", SCRATCH]
        for key, value in sandbox_environment(SCRATCH).items():
            command += ["--setenv", key, value]
        command += ["--", *self._runner_command(SCRATCH, REPORT, limits, uid)]
        if uid is None:
            return Launch(command, {})
        # bwrap itself must start as the run's uid. setpriv drops to it after the exec, so
        # Python can still spawn with vfork (see _runner.py); without setpriv, Python drops.
        if setpriv := shutil.which("setpriv"):
            return Launch([setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--", *command], {})
        return Launch(command, {}, user=uid)


@functools.cache
def _python_folders(python: str) -> tuple[str, ...]:
    """The folders ``python`` needs to run: its prefixes and its import path.

    Ours are known; another interpreter (``python=``) is asked once, since its own
    install, not ours, must be mounted.
    """
    if os.path.realpath(python) == os.path.realpath(sys.executable):
        folders = [sys.prefix, sys.base_prefix, sys.exec_prefix, *sys.path]
    else:
        asked = (
            "import json, sys; print(json.dumps([sys.prefix, sys.base_prefix, sys.exec_prefix, *sys.path]))"
        )
        try:
            done = subprocess.run([python, "-I", "-c", asked], capture_output=True, text=True, timeout=30)
            done.check_returncode()
            folders = json.loads(done.stdout)
        except (OSError, subprocess.SubprocessError, ValueError) as exc:
            raise OSError(f"cannot ask the interpreter {python} where it is installed: {exc}") from exc
    return tuple(folder for folder in folders if folder and Path(folder).is_dir())


def _read_only_binds(paths: set[str]) -> list[str]:
    """The mounts that make ``paths`` readable inside, symlinked ones included.

    A path reached through a symlink (a venv linked into a project) is mounted at its real
    place. It is mounted at its own place too, unless a folder above it already is: there
    the link itself shows, and a second mount on it would fail, since inside, the link's
    target does not exist until it is mounted.
    """
    real_of = {path: os.path.realpath(path) for path in paths}
    mounted = paths | set(real_of.values())
    linked = sorted(path for path, real in real_of.items() if real != path)
    kept = [p for p in linked if not any(p.startswith(f"{other}/") for other in mounted)]
    return sorted(set(real_of.values())) + kept


@functools.cache
def bubblewrap_problem(bwrap: str = "bwrap") -> str | None:
    """Why the bubblewrap backend cannot run here, or None when it can.

    Ubuntu 24.04's AppArmor refuses unprivileged user namespaces to unlisted programs;
    that and a missing ``bwrap`` are reported in words a user can act on.
    """
    path = shutil.which(bwrap)
    if path is None:
        return "bwrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    try:
        probe = subprocess.run(
            [path, "--unshare-all", "--ro-bind", "/", "/", "true"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap could not start: {exc}"
    if probe.returncode != 0:
        message = probe.stderr.strip()
        if "ermission denied" in message or "Operation not permitted" in message:
            message += (
                " (user namespaces are refused here; on Ubuntu 24.04 AppArmor restricts them: "
                "see kernel.apparmor_restrict_unprivileged_userns)"
            )
        return f"bwrap cannot create namespaces: {message}"
    return None
