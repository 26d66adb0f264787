"""Money from usage: a price table per model, for hosted and for local models alike.

Hosted models cost dollars per million input and output tokens. A local model costs
what its machine costs while it works: dollars per hour of measured model time
(default 0), so the same ledger prices a laptop, a rented GPU and an API.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError


class Price(BaseModel):
    """The price of one model."""

    input_per_million: float = Field(default=0.0, ge=0)
    output_per_million: float = Field(default=0.0, ge=0)
    per_hour: float = Field(default=0.0, ge=0)
    """Dollars per hour of model time (local models)."""


class PriceError(ValueError):
    """A price table cannot be read."""


class PriceTable(BaseModel):
    """Prices by model name; models not listed cost ``default`` (0 unless set)."""

    models: dict[str, Price] = Field(default_factory=dict)
    default: Price = Field(default_factory=Price)

    def price(self, model: str) -> Price:
        """The price of ``model``."""
        return self.models.get(model, self.default)

    def dollars(self, calls: Iterable[Mapping[str, Any]]) -> float:
        """What the ledger rows ``calls`` (``model``, ``input``, ``output``, ``seconds``) cost."""
        total = 0.0
        for call in calls:
            price = self.price(str(call["model"]))
            total += call["input"] * price.input_per_million / 1e6
            total += call["output"] * price.output_per_million / 1e6
            total += call["seconds"] * price.per_hour / 3600
        return total

    @classmethod
    def from_file(cls, path: Path | None) -> PriceTable:
        """Read a JSON price table (``{"models": {NAME: {...}}, "default": {...}}``); none: all free.

        Raises:
            PriceError: The file cannot be read or is not a price table.
        """
        if path is None:
            return cls()
        try:
            return cls.model_validate(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, ValidationError) as exc:
            raise PriceError(f"cannot read the price table {path}: {exc}") from exc


class Budget(BaseModel):
    """A ceiling on a batch's tokens (input + output) or dollars; a batch stops before crossing it."""

    tokens: int | None = None
    dollars: float | None = None

    @classmethod
    def parse(cls, text: str) -> Budget:
        """``"20000"`` or ``"20000tokens"`` (tokens), ``"$0.50"`` (dollars).

        Raises:
            PriceError: The text is neither.
        """
        cleaned = text.strip().lower().removesuffix("tokens").strip()
        try:
            if cleaned.startswith("$"):
                return cls(dollars=float(cleaned[1:]))
            return cls(tokens=int(cleaned))
        except ValueError as exc:
            raise PriceError(f"a budget is a token count (20000) or dollars ($0.50), not {text!r}") from exc

    def allows(self, tokens: int, dollars: float, *, next_tokens: int, next_dollars: float) -> bool:
        """Whether spending one more request like the costliest so far stays within the budget."""
        if self.tokens is not None and tokens + next_tokens > self.tokens:
            return False
        return self.dollars is None or dollars + next_dollars <= self.dollars


@dataclass
class Spend:
    """What a batch has spent so far, and its costliest item (the budget's yardstick).

    An item is anything with ``tokens`` (per role) and ``dollars``: a bench row, a served
    request.
    """

    tokens: int = 0
    dollars: float = 0.0
    costliest_tokens: int = 0
    costliest_dollars: float = 0.0

    @classmethod
    def of(cls, items: Iterable[Mapping[str, Any]]) -> Spend:
        """The spend of ``items`` already done (an earlier run's rows count against the budget)."""
        spend = cls()
        for item in items:
            spend.add(item)
        return spend

    def leaves_room(self, budget: Budget, *, under_way: int = 0) -> bool:
        """Whether one more item like the costliest so far, after the ``under_way`` ones, fits ``budget``."""
        ahead = under_way + 1
        return budget.allows(
            self.tokens,
            self.dollars,
            next_tokens=ahead * self.costliest_tokens,
            next_dollars=ahead * self.costliest_dollars,
        )

    def describe(self) -> str:
        """What was spent, in words."""
        return f"{self.tokens} tokens, ${self.dollars:.4f} spent"

    def add(self, item: Mapping[str, Any]) -> None:
        """Count one finished item: all it spent (``*_with_repair`` where a row keeps a repair apart)."""
        usages = item.get("tokens_with_repair", item.get("tokens", {})).values()
        tokens = sum(int(usage["input"]) + int(usage["output"]) for usage in usages)
        dollars = float(item.get("dollars_with_repair", item.get("dollars", 0.0)))
        self.tokens, self.dollars = self.tokens + tokens, self.dollars + dollars
        self.costliest_tokens = max(self.costliest_tokens, tokens)
        self.costliest_dollars = max(self.costliest_dollars, dollars)
