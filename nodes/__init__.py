"""The nodes of every method, one package each, with the helpers they share in one place.

- ``nodes.creator``: CREATOR's retrieve, create, decide, execute, agree, rectify, judge_generality and
  register;
- ``nodes.baselines``: chain-of-thought, program-of-thought, majority vote, entangled;
- ``nodes.latm``: LATM's tool maker, tool user and dispatcher;
- ``nodes.common``: asking a model, parsing replies, judging answers, usage accounting.

The CREATOR names are re-exported here, as the README's examples import them.
"""

from nodes.creator import (
    Attempt,
    CreatorContext,
    CreatorInput,
    CreatorState,
    agree,
    create,
    decide,
    execute,
    judge_generality,
    rectify,
    register,
    retrieve,
)

__all__ = [
    "Attempt",
    "CreatorContext",
    "CreatorInput",
    "CreatorState",
    "agree",
    "create",
    "decide",
    "execute",
    "judge_generality",
    "rectify",
    "register",
    "retrieve",
]
