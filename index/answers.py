"""What the query engine returns and works with: an `Answer` of ranked `Result`s, each a passage with its excerpt
and `Citation`s (document, paragraph or page: where a reader finds the text in the original), and the analysed
question, a `Query` of `Concept`s (a question term and the terms that may stand in for it). Plain frozen
dataclasses; index/engine.py makes them, the cogs and the CLI render them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from index.excerpt import Excerpt
from index.passages import Passage


@dataclass(frozen=True)
class Citation:
    doc_id: str
    title: str
    source: str
    date: str
    paragraph: int
    url: str = ""
    where: str = ""  # the place in the original: "¶ 27", "p. 12" (PDF), "Chapter title, ¶ 3" (EPUB)
    page: str = ""  # the PDF page label, when the document has pages

    @property
    def location(self) -> str:
        return self.where or f"¶ {self.paragraph}"

    def as_json(self) -> dict[str, object]:
        """The citation in the CLI's JSON outputs (fields are only ever added, never renamed)."""
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "source": self.source,
            "date": self.date,
            "paragraph": self.paragraph,
            "location": self.location,
            "page": self.page,
        }

    def label(self) -> str:
        parts = [p for p in (self.source, self.date) if p]
        where = ", ".join([*parts, self.location])
        return f"{self.title} — {where}"


@dataclass(frozen=True)
class Result:
    rank: int
    passage: Passage
    score: float
    coverage: float
    excerpt: Excerpt
    citations: tuple[Citation, ...]

    @property
    def citation(self) -> Citation:
        return self.citations[0]


@dataclass(frozen=True)
class Answer:
    question: str
    query: str
    abstained: bool
    confidence: str  # "high", "low", or "none" when abstained
    results: tuple[Result, ...]
    suggestions: tuple[str, ...] = ()
    total: int = 0
    elapsed_ms: float = 0.0


@dataclass(frozen=True)
class Concept:
    """One term of the question and the terms that may stand in for it, each with a weight below 1."""

    term: str
    start: int
    end: int
    expansions: tuple[tuple[str, float], ...] = ()
    unit: bool = True  # False for sub-words and compound parts: scored, but not counted for coverage


@dataclass(frozen=True)
class Query:
    text: str
    concepts: tuple[Concept, ...]
    extra: tuple[tuple[str, float], ...] = field(default=())  # concept terms not tied to a question word
