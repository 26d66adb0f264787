"""Offline retrieval over tool descriptions: TF-IDF cosine, pure Python, no extensions.

SQLite's vector index needs extension loading, which many Python builds lack, and an
embedding model would have to be downloaded; a lexical index works on every machine.
Scores are cosines in [0, 1], so callers can set a threshold for reuse vs creation.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable

from tools_registry.record import ToolRecord

_WORD = re.compile(r"[A-Za-z]+|\d+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_STOPWORDS = frozenset(
    "a an and are as at be by for from has how in is it its of on or that the this to was what "
    "which with int float str bool list dict none return returns args arg given value values".split()
)


def _stem(word: str) -> str:
    for suffix in ("ies", "es", "s", "ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def tokens(text: str) -> list[str]:
    """Lower-cased, stemmed words of ``text``; snake_case and camelCase are split."""
    words = _WORD.findall(_CAMEL.sub(" ", text.replace("_", " ")))
    return [_stem(word.lower()) for word in words if word.lower() not in _STOPWORDS]


def document(record: ToolRecord) -> str:
    """The text a tool is found by: name, signature, description, demos (questions too) and tags."""
    demos = " ".join(f"{demo.question} {demo.call}" for demo in record.demos)
    return " ".join([record.name, record.signature, record.description, demos, *record.tags])


class ToolIndex:
    """A TF-IDF index over a fixed set of records."""

    def __init__(self, records: Iterable[ToolRecord]) -> None:
        """Index ``records`` (the whole registry, or a subset)."""
        self.records = list(records)
        counts = [Counter(tokens(document(record))) for record in self.records]
        frequency = Counter(term for count in counts for term in count)
        total = len(self.records)
        self._idf = {term: math.log((1 + total) / (1 + df)) + 1 for term, df in frequency.items()}
        self._postings: dict[str, list[tuple[int, float]]] = {}
        for position, count in enumerate(counts):
            weights = {term: (1 + math.log(tf)) * self._idf[term] for term, tf in count.items()}
            norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            for term, weight in weights.items():
                self._postings.setdefault(term, []).append((position, weight / norm))

    def search(self, query: str, k: int = 5) -> list[tuple[ToolRecord, float]]:
        """The ``k`` best records for ``query`` with their cosine scores, best first."""
        count = Counter(tokens(query))
        weights = {t: (1 + math.log(tf)) * self._idf[t] for t, tf in count.items() if t in self._idf}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        scores: dict[int, float] = {}
        for term, weight in weights.items():
            for position, doc_weight in self._postings[term]:
                scores[position] = scores.get(position, 0.0) + weight / norm * doc_weight
        best = sorted(scores.items(), key=lambda item: -item[1])[:k]
        return [(self.records[position], round(score, 4)) for position, score in best]
