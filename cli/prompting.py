"""``--prompt-variant [NODE=]VARIANT``: which nodes accept one, and the context fields it sets."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from typing import Any, get_args

from prompts import is_prompt_text


def creator_prompt_nodes() -> tuple[str, ...]:
    """The nodes of CREATOR and its baselines that ask a model."""
    from nodes.creator.context import PromptNode

    return get_args(PromptNode)


def every_prompt_node() -> tuple[str, ...]:
    """CREATOR's nodes and LATM's."""
    from nodes.latm.context import LatmPromptNode

    return (*creator_prompt_nodes(), *get_args(LatmPromptNode))


def split_choice(text: str) -> tuple[str, str]:
    """``NODE=VARIANT`` as ``(NODE, VARIANT)``; a bare VARIANT as ``("", VARIANT)``.

    Only the first ``=`` separates, and only after a name, so a variant given as a path or
    as the prompt's own text may hold ``=`` signs of its own (``create=## system ... x = 1``).
    Bare prompt text may even begin with ``name=``, unless the name is a node's.
    """
    node, equals, variant = text.partition("=")
    named = node.isidentifier() and not (is_prompt_text(text) and node not in every_prompt_node())
    return (node, variant) if equals and (named or not node) else ("", text)


def prompt_choice(text: str, nodes: tuple[str, ...] | None = None) -> str:
    """``[NODE=]VARIANT`` with NODE one of ``nodes`` (CREATOR's by default); a bare VARIANT is create's."""
    nodes = nodes or creator_prompt_nodes()
    node, variant = split_choice(text)
    if node and node not in nodes:
        raise argparse.ArgumentTypeError(
            f"no node {node!r} asks a model; choose from {', '.join(nodes)}"
            f" (a path with '=' in it goes after its node: create=PATH)"
        )
    if not variant:
        raise argparse.ArgumentTypeError(f"{text!r} names no variant: give [NODE=]VARIANT")
    return text


def any_node_prompt_choice(text: str) -> str:
    """:func:`prompt_choice` over CREATOR's and LATM's nodes (experiments check the pairing later)."""
    return prompt_choice(text, every_prompt_node())


def prompt_nodes(choices: Iterable[str] | None) -> set[str]:
    """The nodes the choices name (a bare variant names create)."""
    return {split_choice(choice)[0] or "create" for choice in choices or []}


def prompt_overrides(choices: Iterable[str] | None) -> dict[str, Any]:
    """The context fields the choices set: ``decide=demos`` is ``decide_prompt="demos"``."""
    overrides: dict[str, Any] = {}
    for choice in choices or []:
        node, variant = split_choice(choice)
        overrides[f"{node or 'create'}_prompt"] = variant
    return overrides
