"""Run model-written Python outside our process and report what happened.

This package knows nothing of LangChain or LangGraph: it takes code and limits and
returns an :class:`ExecutionResult`, so it can move behind a remote engine unchanged. Only
:func:`configured_executor` reads the project's settings (``TOOLMAKER_SANDBOX``).
"""

from sandbox.backends import BackendUnavailable, backend_names, configured_executor, get_executor
from sandbox.executor import Executor, SubprocessExecutor
from sandbox.result import ExecutionError, ExecutionResult, ExecutionStatus, Limits

__all__ = [
    "BackendUnavailable",
    "ExecutionError",
    "ExecutionResult",
    "ExecutionStatus",
    "Executor",
    "Limits",
    "SubprocessExecutor",
    "backend_names",
    "configured_executor",
    "get_executor",
]
