"""Run model-written Python outside our process and report what happened.

This package knows nothing of LangChain or LangGraph: it takes code and limits and
returns an :class:`ExecutionResult`, so it can move behind a remote engine unchanged.
"""

from sandbox.executor import Executor, SubprocessExecutor, default_executor
from sandbox.result import ExecutionError, ExecutionResult, ExecutionStatus, Limits

__all__ = [
    "ExecutionError",
    "ExecutionResult",
    "ExecutionStatus",
    "Executor",
    "Limits",
    "SubprocessExecutor",
    "default_executor",
]
