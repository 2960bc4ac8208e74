"""What quotation extraction returns (Quote and the search results) and the structures it works with."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

from index.engine import Citation
from index.passages import Passage

UNATTRIBUTED = "unattributed"

# -- results ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quote:
    """One quotation: its verbatim words (without the outer marks), who said it and where."""

    text: str
    speaker: str  # canonical name, or UNATTRIBUTED
    speaker_as_written: str  # the name as the text writes it ("" when unattributed)
    speaker_id: str  # glossary entry id ("" for a name the glossary does not know, or unattributed)
    doc_id: str
    pid: int
    paragraph: int
    context: str  # the sentence(s) around it, verbatim
    context_span: tuple[int, int]  # where the quotation, with its marks, stands in `context`
    style: str  # curly, corner, straight, single, guillemet, transcript, block
    attribution: str  # transcript, before, after, continuation, repeated, block; unnamed (a source without a
    # name: 网友, an analyst), none (the text does not say)
    position: int = 0  # offset in the document (for document order)
    pronoun: bool = False  # the speaker was named through a pronoun (他稱, he wrote)

    @property
    def attributed(self) -> bool:
        return self.speaker != UNATTRIBUTED


@dataclass(frozen=True)
class SpeakerCount:
    name: str
    count: int
    entry_id: str = ""
    written: tuple[str, ...] = ()  # the forms the texts use


@dataclass(frozen=True)
class QuoteHit:
    rank: int
    quote: Quote
    citations: tuple[Citation, ...]
    score: float = 0.0

    @property
    def citation(self) -> Citation:
        return self.citations[0]


@dataclass(frozen=True)
class QuoteResult:
    speaker: str | None  # canonical speaker asked for
    topic: str | None
    hits: tuple[QuoteHit, ...]
    total: int  # quotations matching, before paging
    message: str = ""  # why nothing was found, for the user


# -- internal structures ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Speaker:
    canonical: str
    written: str
    entry_id: str = ""
    named: bool = True
    pronoun: bool = False
    org: bool = False  # an organisation the glossary does not know (苹果公司表示)


_NOBODY = _Speaker(UNATTRIBUTED, "", "", named=False)
# A speech verb right after a quotation whose subject cannot be named: the quotation is someone's, not the
# previous speaker's, but that alone does not make a quoted term a quotation.
_UNKNOWN = _Speaker(UNATTRIBUTED, "", "?", named=False)


@dataclass(frozen=True)
class _Event:
    """A speech verb and its resolved subject (None when no subject could be found)."""

    start: int
    end: int
    speaker: _Speaker | None
    subject_start: int = -1


@dataclass
class _Unit:
    """A paragraph: consecutive passages of one paragraph joined (long paragraphs are split into pieces)."""

    doc_id: str
    paragraph: int
    start: int  # document offset of text[0]
    text: str
    pieces: list[tuple[int, Passage]]  # (offset in text, passage)
    label: str | None

    def piece_at(self, offset: int) -> Passage:
        chosen = self.pieces[0][1]
        for piece_offset, passage in self.pieces:
            if piece_offset <= offset:
                chosen = passage
        return chosen


@dataclass
class _DocState:
    persons: list[tuple[int, _Speaker]] = field(default_factory=list)  # (doc offset, person) in order
    learned: dict[str, _Speaker] = field(default_factory=dict)  # folded new names -> speaker
    last_events: list[_Event] = field(default_factory=list)  # speech events of the last sentence of a unit
    last_quote: _Speaker | None = None  # speaker of the last sentence's quotation, if it ended the unit
    block_intro: _Speaker | None = None  # the unit before ended "X 说:" (a block quotation may follow)
    names: dict[str, str] = field(default_factory=dict)  # English person names of the document (and surnames)
    last_speaker: tuple[int, _Speaker] | None = None  # the person who spoke last (doc offset of the verb)
    problems: list[str] = field(default_factory=list)  # bad input met in the document, for one warning

    def add_person(self, position: int, speaker: _Speaker) -> None:
        bisect.insort(self.persons, (position, speaker), key=lambda item: item[0])


def vars_of(quote: Quote) -> dict[str, Any]:
    return {name: getattr(quote, name) for name in Quote.__dataclass_fields__}
