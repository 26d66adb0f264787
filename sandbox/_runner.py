"""Runs inside the child process: execute the entry file, report an exception as JSON.

Invoked as ``python -I _runner.py SCRATCH ENTRY REPORT confine|none``. Only the standard library is
used, and nothing of the parent is imported, so the child starts from a clean slate.
"""

import importlib.util
import json
import os
import runpy
import sys
import traceback
from types import ModuleType


def _user_frames(exc: BaseException, scratch: str) -> list[traceback.FrameSummary]:
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if frame.filename.startswith(scratch + os.sep)
    ]
    for frame in frames:
        frame.filename = os.path.basename(frame.filename)
    return frames


def _describe(exc: BaseException, scratch: str) -> dict[str, str]:
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


def _load_confinement() -> ModuleType:
    """Load ``_confine.py`` from beside this file without putting its folder on sys.path."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_confine.py")
    spec = importlib.util.spec_from_file_location("_confine", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    scratch, entry, report_path, confine_flag = sys.argv[1:5]
    report = open(report_path, "w", encoding="utf-8")  # opened before confinement forbids it
    sys.argv = [entry]
    os.chdir(scratch)
    layers: list[str] = []
    if confine_flag == "confine":
        layers = _load_confinement().confine(scratch)
    sys.path.insert(0, scratch)
    owner = os.getpid()
    error: dict[str, str] | None = None
    try:
        runpy.run_path(os.path.join(scratch, entry), run_name="__main__")
    except SystemExit as exc:
        if exc.code not in (None, 0):
            error = {"type": "SystemExit", "message": f"exit status {exc.code}", "traceback": ""}
    except BaseException as exc:  # noqa: BLE001 - everything the code raises is reported
        error = _describe(exc, scratch)
    if os.getpid() != owner:
        os._exit(0)  # a child the code forked: only the runner itself reports
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        pass
    json.dump({"error": error, "confinement": layers}, report)
    report.close()
    os._exit(0)


if __name__ == "__main__":
    main()
