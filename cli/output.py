"""What several commands print the same way."""

from __future__ import annotations

from collections.abc import Mapping

from nodes.common.usage import TokenUsage


def describe_tokens(tokens: Mapping[str, TokenUsage]) -> str:
    """``maker 120 in / 30 out (2 calls), user ...``, or ``none``."""
    described = ", ".join(
        f"{role} {usage['input']} in / {usage['output']} out ({usage['calls']} calls)"
        for role, usage in tokens.items()
    )
    return described or "none"
