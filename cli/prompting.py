"""``--prompt-variant [NODE=]VARIANT``: which nodes accept one, and the context fields it sets."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from typing import Any, get_args


def creator_prompt_nodes() -> tuple[str, ...]:
    """The nodes of CREATOR and its baselines that ask a model."""
    from nodes.creator.context import PromptNode

    return get_args(PromptNode)


def every_prompt_node() -> tuple[str, ...]:
    """CREATOR's nodes and LATM's."""
    from nodes.latm.context import LatmPromptNode

    return (*creator_prompt_nodes(), *get_args(LatmPromptNode))


def prompt_choice(text: str, nodes: tuple[str, ...] | None = None) -> str:
    """``[NODE=]VARIANT`` with NODE one of ``nodes`` (CREATOR's by default); a bare VARIANT is create's."""
    nodes = nodes or creator_prompt_nodes()
    node = text.rpartition("=")[0]
    if node and node not in nodes:
        raise argparse.ArgumentTypeError(f"no node {node!r} asks a model; choose from {', '.join(nodes)}")
    return text


def any_node_prompt_choice(text: str) -> str:
    """:func:`prompt_choice` over CREATOR's and LATM's nodes (experiments check the pairing later)."""
    return prompt_choice(text, every_prompt_node())


def prompt_nodes(choices: Iterable[str] | None) -> set[str]:
    """The nodes the choices name (a bare variant names create)."""
    return {choice.rpartition("=")[0] or "create" for choice in choices or []}


def prompt_overrides(choices: Iterable[str] | None) -> dict[str, Any]:
    """The context fields the choices set: ``decide=demos`` is ``decide_prompt="demos"``."""
    overrides: dict[str, Any] = {}
    for choice in choices or []:
        node, _, variant = choice.rpartition("=")
        overrides[f"{node or 'create'}_prompt"] = variant
    return overrides
