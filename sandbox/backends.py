"""Choosing an executor by name, or the strongest one available."""

from __future__ import annotations

from collections.abc import Callable

from sandbox.executor import Executor, SubprocessExecutor


class BackendUnavailable(RuntimeError):
    """The requested sandbox backend does not exist or cannot run on this machine."""


_BACKENDS: dict[str, Callable[[], Executor]] = {
    "subprocess": SubprocessExecutor,
    "subprocess-unconfined": lambda: SubprocessExecutor(confine=False),
}
"""Strongest first. ``subprocess`` adds Landlock and seccomp where the kernel has them;
``subprocess-unconfined`` keeps only process limits, for kernels where those layers break."""


def backend_names() -> list[str]:
    """Names accepted by :func:`get_executor`, besides ``auto``."""
    return list(_BACKENDS)


def get_executor(name: str = "auto") -> Executor:
    """Return the executor called ``name``, or the strongest available for ``auto``.

    Raises:
        BackendUnavailable: No backend has that name.
    """
    if name == "auto":
        name = next(iter(_BACKENDS))
    try:
        return _BACKENDS[name]()
    except KeyError:
        raise BackendUnavailable(
            f"no sandbox backend {name!r}; available: auto, {', '.join(_BACKENDS)}"
        ) from None
