"""Prompt files, one folder per node, one file per variant: ``prompts/<node>/<variant>.md``.

A variant is chosen by name through the graph context (``create_prompt="terse"``), or
by giving the path of a file of one's own. Optional pieces that a node inserts only in
some runs (the request for self-checks) are ``prompts/<node>/<name>.txt`` fragments.
Each file has a ``## system`` and a ``## user`` section; ``$name`` placeholders are
filled with ``string.Template``, so a literal dollar sign in a prompt is written ``$$``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from string import Template

PROMPTS_DIR = Path(__file__).parent


class PromptError(ValueError):
    """A prompt variant is missing, malformed, or lacks a value it needs."""


@dataclass(frozen=True)
class Prompt:
    """A system and a user template."""

    name: str
    system: Template
    user: Template

    def render(self, **values: str) -> tuple[str, str]:
        """Fill both templates; every placeholder must have a value."""
        try:
            return self.system.substitute(values), self.user.substitute(values)
        except KeyError as exc:
            raise PromptError(f"prompt {self.name!r} needs a value for {exc}") from exc


def load_fragment(node: str, name: str) -> str:
    """A piece of prompt text a node inserts only in some runs (``prompts/<node>/<name>.txt``)."""
    return (PROMPTS_DIR / node / f"{name}.txt").read_text(encoding="utf-8")


def variants(node: str) -> list[str]:
    """Names of the variants shipped for ``node``."""
    return sorted(path.stem for path in (PROMPTS_DIR / node).glob("*.md"))


def load_prompt(node: str, variant: str = "default") -> Prompt:
    """Load a prompt by node and variant name, or from a file path.

    Raises:
        PromptError: No such variant, or the file lacks its two sections.
    """
    path = Path(variant) if variant.endswith(".md") else PROMPTS_DIR / node / f"{variant}.md"
    if not path.is_file():
        raise PromptError(f"no prompt variant {variant!r} for node {node!r}; shipped: {variants(node)}")
    text = path.read_text(encoding="utf-8")
    head, marker, user = text.partition("\n## user\n")
    _, system_marker, system = head.partition("## system\n")
    if not (marker and system_marker):
        raise PromptError(f"{path} needs a '## system' and a '## user' section")
    return Prompt(name=f"{node}/{variant}", system=Template(system.strip()), user=Template(user.strip()))
