"""Extraction: the quotations of each document with their speakers, in document order.

A document is read paragraph by paragraph (`_Unit`: the passages of one paragraph joined). In each, the speech
verbs outside quotation marks and their subjects are found first (`SpeakerFinder`), then each quoted span that
reads as a statement is attributed by the first rule that applies: transcript label, before, after,
continuation, repeated (the list is in index/quotes/__init__.py). Problems met on the way (an unclosed mark, a
megabyte paragraph) are named in one warning per document.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from index.aliases import AliasTable
from index.engine import Engine
from index.normalize import fold
from index.passages import Passage
from index.quotes.lexicon import _INVERTED, _VERB_RE
from index.quotes.marks import _PAIRS, _STYLE, _han, _mask, _same_length_fold, _Span, is_statement, quote_spans
from index.quotes.model import (
    _NOBODY,
    _UNKNOWN,
    UNATTRIBUTED,
    Quote,
    _DocState,
    _Event,
    _Speaker,
    _Unit,
    vars_of,
)
from index.quotes.speakers import SpeakerFinder

log = logging.getLogger(__name__)

# A paragraph this long without a sentence end is not prose; it is read all the same, and named in a warning.
LONG_PARAGRAPH_CHARS = 20_000


def _units(passages: Sequence[Passage]) -> list[_Unit]:
    units: list[_Unit] = []
    for passage in passages:
        last = units[-1] if units else None
        if (
            last is not None
            and last.doc_id == passage.doc_id
            and last.paragraph == passage.paragraph
            and last.label == passage.label
            and 0 <= passage.start - (last.start + len(last.text)) <= 8
        ):
            gap = passage.start - (last.start + len(last.text))
            last.pieces.append((len(last.text) + gap, passage))
            last.text += " " * gap + passage.text
            continue
        units.append(
            _Unit(passage.doc_id, passage.paragraph, passage.start, passage.text, [(0, passage)], passage.label)
        )
    return units


class _Extractor(SpeakerFinder):
    def document(self, units: Sequence[_Unit]) -> list[Quote]:
        state = _DocState()
        state.names = self.english_names(units)
        quotes: list[Quote] = []
        for index, unit in enumerate(units):
            following = units[index + 1].text.lstrip()[:1] if index + 1 < len(units) else ""
            quotes.extend(self.unit(unit, state, runs_on=following in _PAIRS))
            if len(unit.text) >= LONG_PARAGRAPH_CHARS and not re.search(r"[。！？!?.]", unit.text):
                state.problems.append(
                    f"paragraph {unit.paragraph} has {len(unit.text):,} characters and no sentence end"
                )
        if state.problems and units:
            shown = "; ".join(state.problems[:5]) + (
                f"; and {len(state.problems) - 5} more" if len(state.problems) > 5 else ""
            )
            log.warning("quotations in %s: %s", units[0].doc_id, shown)
        return _resolve_repeats(quotes)

    def unit(self, unit: _Unit, state: _DocState, runs_on: bool = False) -> list[Quote]:
        text = unit.text
        folded = _same_length_fold(text)
        quotes: list[Quote] = []
        block_intro, state.block_intro = state.block_intro, None

        turn_start = 0
        if unit.label:
            lines = text.split("\n")
            for index, line in enumerate(lines):
                if line.strip() == unit.label:
                    turn_start = sum(len(x) + 1 for x in lines[: index + 1])
            turn = text[turn_start:].strip()
            if turn:
                offset = text.index(turn, turn_start)
                speaker = self.label_speaker(unit.label)
                span = (0, len(turn))
                quotes.append(
                    self.make_quote(unit, offset, offset + len(turn), speaker, "transcript", "transcript", turn, span)
                )

        problems: list[str] = []
        spans = quote_spans(text, runs_on, problems)
        state.problems.extend(f"paragraph {unit.paragraph}: {problem}" for problem in problems)
        masked = _mask(folded, [(s.open, s.end) for s in spans])
        verbs = [(m.start(), m.end()) for m in _VERB_RE.finditer(masked)]
        mentions = self.mentions(text, folded, spans, state)
        # Persons named in this paragraph (outside quotations) are antecedents for pronouns.
        for start, _end, speaker in mentions:
            if speaker.entry_id == "" or self.glossary.by_id[speaker.entry_id].kind == "person":
                state.add_person(unit.start + start, speaker)
        events = [self.event(unit, text, masked, start, end, mentions, state) for start, end in verbs]

        if block_intro is not None and not unit.label and not spans:
            body = text.strip()
            offset = text.index(body)
            quotes.append(
                self.make_quote(unit, offset, offset + len(body), block_intro, "block", "block", body, (0, len(body)))
            )

        statements: list[tuple[_Span, _Speaker | None]] = []
        for span in spans:
            after_speaker = self.after_frame(text, masked, span, events, mentions, state)
            attributed = after_speaker is not None and after_speaker != _UNKNOWN
            framed = after_speaker is not None  # a speech verb right after, even with a subject we cannot name
            if is_statement(text, span, verbs, attributed, self.glossary, framed):
                statements.append((span, after_speaker))

        sentences = _sentences(text, masked, [span for span, after in statements if after is None])
        for span, after_speaker in statements:
            sentence_index = next((i for i, (s, e) in enumerate(sentences) if s <= span.open < e), len(sentences) - 1)
            s_start, s_end = sentences[sentence_index]
            speaker: _Speaker | None = None
            how = "none"
            before = [e for e in events if s_start <= e.start and e.end <= span.open and e.speaker is not None]
            if before:
                speaker, how = before[-1].speaker, "before"
            elif after_speaker is not None:
                speaker, how = after_speaker, "after"
            elif not text[s_start : span.open].strip() or (
                sentence_index > 0
                and not any(s_start <= e.start < span.open for e in events)
                and not any(s_start <= m_start < span.open for m_start, _m_end, _m in mentions)
            ):
                # A quotation opening its sentence, or closing a sentence of reported speech that has no speech
                # verb and names nobody (雖然…，但他預期…，「…」。): the speaker goes on.
                previous = None
                # The speaker of the sentence before; reported speech may run over a few sentences before a
                # quotation (苹果公司声明称，……。……。“……”), so look back up to three sentences in the paragraph.
                for back in range(sentence_index - 1, max(-1, sentence_index - 4), -1):
                    p_start, p_end = sentences[back]
                    previous = self.sentence_speaker(p_start, p_end, events, quotes, unit)
                    if previous is not None:
                        break
                if previous is None and sentence_index == 0:
                    previous = self.previous_unit_speaker(state)
                if previous is not None:
                    speaker, how = previous, "continuation"
            context_start = sentences[sentence_index - 1][0] if how == "continuation" and sentence_index else s_start
            context_end = max(s_end, min(span.end, len(text)))
            while context_start < span.open and text[context_start].isspace():
                context_start += 1
            while context_end > span.end and text[context_end - 1].isspace():
                context_end -= 1
            inner_start, inner_stop = span.inner
            quote_text = text[inner_start:inner_stop].strip()
            offset = text.index(quote_text, inner_start) if quote_text else inner_start
            quotes.append(
                self.make_quote(
                    unit,
                    offset,
                    offset + len(quote_text),
                    speaker or _NOBODY,
                    _STYLE.get(span.mark, "curly"),
                    how,
                    text[context_start:context_end],
                    (span.open - context_start, min(span.end, len(text)) - context_start),
                )
            )

        # What the next paragraph may continue from: the speech of this paragraph's last sentence.
        last_start, last_end = sentences[-1] if sentences else (0, len(text))
        state.last_events = [e for e in events if last_start <= e.start < last_end and e.speaker is not None]
        last_quotes = [q for q in quotes if q.style != "transcript" and q.position - unit.start >= last_start]
        state.last_quote = _quote_speaker(last_quotes[-1]) if last_quotes else None
        if unit.label:
            state.last_events, state.last_quote = [], None
        stripped = text.rstrip()
        if stripped.endswith((":", "：")) and state.last_events:
            state.block_intro = state.last_events[-1].speaker
        return quotes

    def previous_unit_speaker(self, state: _DocState) -> _Speaker | None:
        if state.last_quote is not None:
            return state.last_quote
        if state.last_events:
            return state.last_events[-1].speaker
        return None

    def sentence_speaker(
        self, start: int, end: int, events: Sequence[_Event], quotes: Sequence[Quote], unit: _Unit
    ) -> _Speaker | None:
        inside = [e for e in events if start <= e.start < end and e.speaker is not None]
        said = [q for q in quotes if q.style != "transcript" and start <= q.position - unit.start < end]
        if said and said[-1].attribution != "none":
            return _quote_speaker(said[-1])
        if inside:
            return inside[-1].speaker
        return None

    def make_quote(
        self,
        unit: _Unit,
        start: int,
        end: int,
        speaker: _Speaker,
        style: str,
        how: str,
        context: str,
        context_span: tuple[int, int],
    ) -> Quote:
        return Quote(
            text=unit.text[start:end],
            speaker=speaker.canonical if speaker.named else UNATTRIBUTED,
            speaker_as_written=speaker.written if speaker.named else "",
            speaker_id=speaker.entry_id if speaker.named else "",
            doc_id=unit.doc_id,
            pid=unit.piece_at(start).pid,
            paragraph=unit.paragraph,
            context=context,
            context_span=context_span,
            style=style,
            attribution=how if speaker.named or how in ("transcript", "none") else "unnamed",
            position=unit.start + start,
            pronoun=speaker.pronoun,
        )

    # -- names, pronouns, speech events ------------------------------------------------------------------

    def event(
        self,
        unit: _Unit,
        text: str,
        masked: str,
        start: int,
        end: int,
        mentions: Sequence[tuple[int, int, _Speaker]],
        state: _DocState,
    ) -> _Event:
        speaker, subject_start = self.subject(unit, text, masked, start, mentions, state)
        if speaker is None and masked[start:end] in _INVERTED:
            speaker, subject_start = self.subject_after(text, masked, end, mentions, state)
        if speaker is not None and speaker.named and not self.is_org(speaker):
            if not speaker.entry_id and not speaker.pronoun:
                # A new name is an antecedent for later pronouns, like a glossary person.
                state.add_person(unit.start + subject_start, speaker)
            state.last_speaker = (unit.start + start, speaker)
        return _Event(start, end, speaker, subject_start)

    def after_frame(
        self,
        text: str,
        masked: str,
        span: _Span,
        events: Sequence[_Event],
        mentions: Sequence[tuple[int, int, _Speaker]],
        state: _DocState,
    ) -> _Speaker | None:
        """The speaker named right after the closing mark: ”X 说 / ," he wrote / ," said X / ——X."""
        if span.close >= len(text):
            return None
        after = text[span.end :]
        dash = re.match(r"^\s*(?:——|—|--|–|―)\s*(.{1,60})", after)
        if dash:
            tail_start = span.end + dash.start(1)
            tail_end = span.end + dash.end(1)
            for start, _end, speaker in mentions:
                if tail_start <= start < tail_end:
                    return speaker
            return self.dash_name(dash.group(1), state)
        lead = re.match(r"^[\s,，]*", after).end()
        first = span.end + lead
        for event in events:
            if event.start < span.end:
                continue
            if event.start - first > (30 if _han(text[first : event.start]) else 60) or re.search(
                r"[。！？!?.;；:：“”「」\"\n]", masked[span.end : event.start]
            ):
                break
            between = masked[first : event.start]
            speaker = event.speaker
            if speaker is not None and (
                event.subject_start == first
                or (first <= event.subject_start < event.start and not re.search(r"[,，]", between))
                or (event.subject_start > event.start and event.start == first)
            ):
                return speaker
            if re.search(r"[,，]", between):
                break  # another clause: the verb is not this quotation's attribution
            return _UNKNOWN if speaker is None else None
        return None


def _quote_speaker(quote: Quote) -> _Speaker | None:
    if quote.attribution == "none" and quote.speaker == UNATTRIBUTED:
        return None
    if quote.speaker == UNATTRIBUTED:
        return _NOBODY
    return _Speaker(quote.speaker, quote.speaker_as_written, quote.speaker_id, pronoun=quote.pronoun)


def _sentences(text: str, masked: str, boundary_quotes: Sequence[_Span]) -> list[tuple[int, int]]:
    """Sentence spans of a paragraph, cut at sentence punctuation outside quotations, and after a quotation
    that ends a sentence inside its marks (“…。”, “… insane.”) and is not followed by its attribution."""
    cuts: set[int] = set()
    for match in re.finditer(r"[。！？!?…]+|\.(?=\s|$)|\n", masked):
        cuts.add(match.end())
    for span in boundary_quotes:
        inner = text[span.inner[0] : span.inner[1]].rstrip()
        if span.close < len(text) and inner[-1:] in set("。！？!?.…"):
            cuts.add(span.end)
    spans: list[tuple[int, int]] = []
    position = 0
    for cut in sorted(cuts):
        while cut < len(masked) and masked[cut].isspace():
            cut += 1
        if cut > position:
            spans.append((position, cut))
            position = cut
    if position < len(masked) or not spans:
        spans.append((position, len(masked)))
    return spans


def _normalized(text: str) -> str:
    return re.sub(r"[\W_]+", "", fold(text))


def _resolve_repeats(quotes: list[Quote]) -> list[Quote]:
    """A pull-quote takes the speaker of the attributed quotation that contains its words."""
    resolved: list[Quote] = []
    for quote in quotes:
        if quote.attributed or quote.attribution != "none" or quote.style == "transcript":
            resolved.append(quote)
            continue
        key = _normalized(quote.text)
        source = next(
            (
                other
                for other in quotes
                if other is not quote and other.attributed and len(key) >= 6 and key in _normalized(other.text)
            ),
            None,
        )
        if source is None:
            resolved.append(quote)
            continue
        resolved.append(
            Quote(
                **{
                    **vars_of(quote),
                    "speaker": source.speaker,
                    "speaker_as_written": source.speaker_as_written,
                    "speaker_id": source.speaker_id,
                    "attribution": "repeated",
                }
            )
        )
    return resolved


def corpus_aliases(engine: Engine) -> AliasTable:
    """The names the corpus pairs itself (史東（Steve Stone）) joined with its glossary: one table per engine."""
    texts: dict[str, list[str]] = {}
    for passage in engine.passages:
        texts.setdefault(passage.doc_id, []).append(passage.text)
    return AliasTable.build(("\n".join(parts) for parts in texts.values()), engine.glossary)


def extract_quotes(engine: Engine, aliases: AliasTable | None = None) -> tuple[Quote, ...]:
    """Every quotation of the corpus, in document order. A speaker the glossary does not know takes the
    canonical name the corpus' own pairings give it (史東 -> Steve Stone), so one person is one speaker."""
    aliases = aliases if aliases is not None else corpus_aliases(engine)
    extractor = _Extractor(engine)
    by_doc: dict[str, list[_Unit]] = {}
    for unit in _units(engine.passages):
        by_doc.setdefault(unit.doc_id, []).append(unit)
    quotes: list[Quote] = []
    for units in by_doc.values():
        quotes.extend(extractor.document(units))
    return tuple(_canonical_speaker(quote, aliases) for quote in quotes)


def _canonical_speaker(quote: Quote, aliases: AliasTable) -> Quote:
    if not quote.attributed or quote.speaker_id or not aliases.known(quote.speaker):
        return quote
    canonical = aliases.canonical(quote.speaker)
    return quote if canonical == quote.speaker else Quote(**{**vars_of(quote), "speaker": canonical})
