"""Runs inside the child process: execute the entry file, report an exception as JSON.

Invoked as ``python -I _runner.py SCRATCH ENTRY REPORT confine|none BOUNDS``, BOUNDS being
the run's rlimits as JSON and, as root, the uid to become. The runner applies them itself,
before anything of the model's runs, so the parent starts it without a ``preexec_fn`` and
Python can spawn it with vfork: a fork would copy the parent's page tables and make every
page it writes afterwards fault once. Only the standard library is used, and nothing of
the parent is imported, so the child starts from a clean slate. Imports are kept few
(``traceback`` only when something failed): they are paid on every run.
"""

from __future__ import annotations

import json
import os
import sys
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import traceback

_REPORT_RESERVE = 4 * 1024 * 1024


def _user_frames(exc: BaseException, scratch: str) -> list[traceback.FrameSummary]:
    import traceback

    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if frame.filename.startswith(scratch + os.sep)
    ]
    for frame in frames:
        frame.filename = os.path.basename(frame.filename)
    return frames


def _describe(exc: BaseException, scratch: str) -> dict[str, str]:
    import traceback

    frames = _user_frames(exc, scratch)
    lines = ["Traceback (most recent call last):\n"] if frames else []
    lines += traceback.format_list(frames)
    if isinstance(exc, SyntaxError) and exc.filename:
        exc.filename = os.path.basename(exc.filename)
    lines += traceback.format_exception_only(type(exc), exc)
    report = {
        "type": type(exc).__name__,
        "message": str(exc),
        "traceback": "".join(lines),
    }
    if isinstance(exc, SyntaxError) and exc.filename:
        report["file"] = exc.filename
    elif frames:
        report["file"] = frames[-1].filename
    return report


def _report_of(exc: BaseException, scratch: str) -> dict[str, str] | None:
    """The error the run reports for ``exc``; never raises, or the run would go unreported."""
    try:
        if isinstance(exc, SystemExit):
            code = exc.code
            return (
                None
                if code is None or code == 0
                else {"type": "SystemExit", "message": f"exit status {code}", "traceback": ""}
            )
        return _describe(exc, scratch)
    except BaseException as failure:  # noqa: BLE001 - the code's exception may fail to print
        message = f"(it could not be described: {type(failure).__name__} while formatting it)"
        return {"type": type(exc).__name__, "message": message, "traceback": ""}


def _reserve() -> bytes | None:
    """Address space set aside for the report, given back before it is written.

    Code that used up its memory limit (a thread bomb does) must still leave room to import
    traceback and describe what it raised. ``bytes`` of zeros are mapped, never touched, so
    the reserve costs no memory; under a limit too small for it, there is none.
    """
    try:
        return bytes(_REPORT_RESERVE)
    except MemoryError:
        return None


def _flush_output() -> None:
    """Flush what the code printed, also when it closed, replaced or removed ``sys.stdout``."""
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()  # type: ignore[union-attr]
        except Exception:  # noqa: BLE001, S110 - a stream the code closed or broke has nothing to give
            pass


def _run_file(path: str, module: ModuleType) -> None:
    """Execute a file as ``module``'s code (what ``runpy`` does, without importing it)."""
    with open(path, "rb") as handle:
        code = compile(handle.read(), path, "exec")
    module.__file__ = path
    exec(code, module.__dict__)  # noqa: S102 - this is the sandboxed child, not our process


def _load_confinement() -> ModuleType:
    """Load ``_confine.py`` from beside this file without putting its folder on sys.path."""
    module = ModuleType("_confine")
    _run_file(os.path.join(os.path.dirname(os.path.abspath(__file__)), "_confine.py"), module)
    return module


def _bound(bounds: dict[str, int]) -> None:
    """Set the run's rlimits; as root, become the run's own uid, so RLIMIT_NPROC binds too."""
    import resource
    import signal

    for kind, value in (
        (resource.RLIMIT_CPU, (bounds["cpu"], bounds["cpu"] + 1)),  # SIGXCPU, then SIGKILL a second on
        (resource.RLIMIT_AS, (bounds["memory"], bounds["memory"])),
        (resource.RLIMIT_FSIZE, (bounds["file_size"], bounds["file_size"])),
        (resource.RLIMIT_NOFILE, (bounds["open_files"], bounds["open_files"])),
        (resource.RLIMIT_CORE, (0, 0)),
    ):
        resource.setrlimit(kind, value)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too large write raises instead of killing
    uid = bounds.get("uid")
    if uid is not None:
        resource.setrlimit(resource.RLIMIT_NPROC, (bounds["processes"], bounds["processes"]))
        if os.geteuid() == 0:  # under bubblewrap the parent has dropped to the uid already
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
        if os.getresuid() != (uid, uid, uid) or os.getresgid() != (uid, uid, uid) or os.getgroups():
            raise PermissionError(f"the drop to uid {uid} did not take: {os.getresuid()}, {os.getresgid()}")


def main() -> None:
    scratch, entry, report_path, confine_flag, bounds = sys.argv[1:6]
    report = open(report_path, "w", encoding="utf-8")  # opened before confinement forbids it
    try:
        # Read before the uid drop: a dropped uid may not read our install (a private folder).
        confinement = _load_confinement() if confine_flag == "confine" else None
        _bound(json.loads(bounds))
    except Exception as exc:  # noqa: BLE001 - our own setup failed: nothing of the model's runs
        json.dump({"setup_error": f"{type(exc).__name__}: {exc}"}, report)
        report.close()
        os._exit(0)
    sys.argv = [entry]
    os.chdir(scratch)
    layers: list[str] = []
    if confinement is not None:
        layers = confinement.confine(scratch)
    sys.path.insert(0, scratch)
    owner = os.getpid()
    error: dict[str, str] | None = None
    reserve = _reserve()
    try:
        main_module = ModuleType("__main__")
        sys.modules["__main__"] = main_module
        _run_file(os.path.join(scratch, entry), main_module)
    except BaseException as exc:  # noqa: BLE001 - everything the code raises is reported
        reserve = None
        error = _report_of(exc, scratch)
    del reserve
    if os.getpid() != owner:
        os._exit(0)  # a child the code forked: only the runner itself reports
    _flush_output()
    status = 1
    try:
        json.dump({"error": error, "confinement": layers}, report)
        report.close()
        status = 0
    except BaseException as exc:  # noqa: BLE001 - the run must still end, and say why it has no report
        os.write(2, f"\nthe sandbox runner could not write its report: {type(exc).__name__}\n".encode())
    finally:
        # Never the interpreter's own exit: it would wait for every thread the code left running.
        os._exit(status)


if __name__ == "__main__":
    main()
