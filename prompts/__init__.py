r"""Prompt files, one folder per node, one file per variant: ``prompts/<node>/<variant>.md``.

A variant is chosen by name through the graph context (``create_prompt="terse"``), by
giving the path of a file of one's own, or by giving the prompt's text itself, with its
two sections (so a variant can live in a Studio assistant's context, with no file).
Optional pieces that a node inserts only in some runs (the request for self-checks) are
``prompts/<node>/<name>.txt`` fragments.
Each file has a ``## system`` and a ``## user`` section; ``$name`` placeholders are
filled with ``string.Template``, so a literal dollar sign in a prompt is written ``$$``.
An optional last ``## stop`` section lists where the reply ends, one JSON string a line
(``"\n```\n"`` ends a reply at the fence that closes its code block): the endpoint stops
generating there, so a small model's runaway text after its answer costs nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

PROMPTS_DIR = Path(__file__).parent
VARIANT_FORMS = "a name, a .md path, or the prompt's text with its ## system and ## user sections"
"""What a ``<node>_prompt`` context field accepts, as the context schemas describe it."""


class PromptError(ValueError):
    """A prompt variant is missing, malformed, or lacks a value it needs."""


@dataclass(frozen=True)
class Prompt:
    """A system and a user template, and the sequences the reply ends at."""

    name: str
    system: Template
    user: Template
    stop: tuple[str, ...] = ()

    def render(self, **values: str) -> tuple[str, str]:
        """Fill both templates; every placeholder must have a value."""
        try:
            return self.system.substitute(values), self.user.substitute(values)
        except KeyError as exc:
            raise PromptError(f"prompt {self.name!r} needs a value for {exc}") from exc

    def options(self) -> dict[str, Any]:
        """What the endpoint is sent with this prompt: its stop sequences, if it has any."""
        return {"stop": list(self.stop)} if self.stop else {}


def load_fragment(node: str, name: str) -> str:
    """A piece of prompt text a node inserts only in some runs (``prompts/<node>/<name>.txt``)."""
    return (PROMPTS_DIR / node / f"{name}.txt").read_text(encoding="utf-8")


def variants(node: str) -> list[str]:
    """Names of the variants shipped for ``node``."""
    return sorted(path.stem for path in (PROMPTS_DIR / node).glob("*.md"))


def is_prompt_text(variant: str) -> bool:
    """Whether a variant is the prompt's text itself rather than a name or a path."""
    return "## user" in variant


def prompt_label(variant: str) -> str:
    """How records name a variant: its name or path, or ``text:`` and a hash of a prompt's text."""
    if is_prompt_text(variant):
        return f"text:{hashlib.sha256(variant.encode()).hexdigest()[:12]}"
    return variant


def load_prompt(node: str, variant: str = "default") -> Prompt:
    """Load a prompt by node and variant name, from a file path, or from its text.

    Raises:
        PromptError: No such variant, or the text lacks its two sections.
    """
    if is_prompt_text(variant):
        text, source = variant, f"the prompt text given for {node!r}"
    else:
        path = Path(variant) if variant.endswith(".md") else PROMPTS_DIR / node / f"{variant}.md"
        if not path.is_file():
            raise PromptError(f"no prompt variant {variant!r} for node {node!r}; shipped: {variants(node)}")
        text, source = path.read_text(encoding="utf-8"), str(path)
    head, marker, user = text.replace("\r\n", "\n").partition("\n## user\n")
    _, system_marker, system = f"\n{head}".partition("\n## system\n")
    if not (marker and system_marker):
        raise PromptError(f"{source} needs a '## system' and a '## user' section, each on a line of its own")
    user, _, stop = user.partition("\n## stop\n")
    name = f"{node}/{prompt_label(variant)}"
    return Prompt(
        name=name,
        system=Template(system.strip()),
        user=Template(user.strip()),
        stop=_stop_sequences(stop, source),
    )


def _stop_sequences(section: str, source: str) -> tuple[str, ...]:
    """The ``## stop`` section's JSON strings, one a line."""
    sequences = []
    for line in filter(None, (line.strip() for line in section.splitlines())):
        try:
            sequence = json.loads(line)
        except json.JSONDecodeError:
            sequence = None
        if not isinstance(sequence, str) or not sequence:
            raise PromptError(
                f"{source}: each line of '## stop' must be a JSON string such as \"\\n```\\n\", not {line!r}"
            )
        sequences.append(sequence)
    return tuple(sequences)
