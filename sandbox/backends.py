"""Choosing an executor by name, or the strongest one available here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sandbox.bubblewrap import BubblewrapExecutor, bubblewrap_problem
from sandbox.executor import Executor, SubprocessExecutor


class BackendUnavailable(RuntimeError):
    """The requested sandbox backend does not exist or cannot run on this machine."""


@dataclass(frozen=True)
class Backend:
    """A named way to run code, and how to tell whether it can run here."""

    name: str
    create: Callable[[], Executor]
    problem: Callable[[], str | None] = lambda: None
    """Why the backend cannot run here, or None."""


BACKENDS = (
    Backend("bubblewrap", BubblewrapExecutor, bubblewrap_problem),
    Backend("subprocess", SubprocessExecutor),
    Backend("subprocess-unconfined", lambda: SubprocessExecutor(confine=False)),
)
"""Strongest first. ``subprocess`` adds Landlock and seccomp where the kernel has them;
``subprocess-unconfined`` keeps only process limits, for kernels where those layers break."""


def backend_names() -> list[str]:
    """Names accepted by :func:`get_executor`, besides ``auto``."""
    return [backend.name for backend in BACKENDS]


def get_executor(name: str = "auto") -> Executor:
    """Return the executor called ``name``, or the strongest one that runs here for ``auto``.

    Raises:
        BackendUnavailable: No backend has that name, or it cannot run here (the
            message says why and what to install).
    """
    if name == "auto":
        return next(backend.create() for backend in BACKENDS if backend.problem() is None)
    for backend in BACKENDS:
        if backend.name == name:
            if problem := backend.problem():
                raise BackendUnavailable(f"the {name} sandbox backend cannot run here: {problem}")
            return backend.create()
    raise BackendUnavailable(f"no sandbox backend {name!r}; available: auto, {', '.join(backend_names())}")


def configured_executor() -> Executor:
    """The executor settings name (``TOOLMAKER_SANDBOX``; ``auto``, the strongest, by default).

    The package's one use of the project's settings, read only here.

    Raises:
        BackendUnavailable: As :func:`get_executor`, naming the setting.
    """
    from toolmaker.settings import get_settings

    name = get_settings().sandbox_backend
    try:
        return get_executor(name)
    except BackendUnavailable as exc:
        raise BackendUnavailable(f"TOOLMAKER_SANDBOX={name}: {exc}") from exc
