"""Who speaks: glossary names, names the glossary does not know (titled, transliterated, with an honorific,
English), organisations, names in quotation marks, pronouns and unnamed sources, found as the subject of a
speech verb. `SpeakerFinder` holds what a document has taught it (the names it has met) in a `_DocState`.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Sequence

from index.dates import ABBREVIATION_END
from index.engine import Engine
from index.glossary import Entry
from index.normalize import fold
from index.quotes.lexicon import (
    _ADDRESSEE_RE,
    _CLAUSE_PUNCT,
    _CN_ADVERBS_RE,
    _CN_FOLLOWER_CHARS,
    _CN_FOLLOWER_RE,
    _CN_HONORIFIC_NAME_RE,
    _CN_LEAD_RE,
    _CN_NAME_RE,
    _CN_ORG_RE,
    _CN_OUTLET_RE,
    _CN_TITLED_RE,
    _EN_ADVERB_RE,
    _EN_CANDIDATE_RE,
    _EN_NAME_RE,
    _EN_NOT_NAME,
    _EN_ORG_WORDS,
    _EN_ROLE_ENDING_RE,
    _LABEL_ROLE_RE,
    _LAST_SPEAKER_REACH,
    _NOT_IN_NAME,
    _OBJECT_RE,
    _ORG_HEAD_NOT,
    _PRONOUN_RE,
    _UNNAMED_RE,
    _VERB_RE,
    _translit_ok,
)
from index.quotes.marks import _CLOSERS, _PAIRS, _han, _same_length_fold, _Span
from index.quotes.model import _NOBODY, _DocState, _Speaker, _Unit


class SpeakerFinder:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.glossary = engine.glossary
        self.speaker_names: dict[str, _Speaker] = {}  # folded canonical -> speaker (for new names)

    # -- speakers ------------------------------------------------------------------------------------

    def entry_speaker(self, entry: Entry, written: str) -> _Speaker:
        return _Speaker(entry.canonical, written, entry.id)

    def new_name(self, written: str, state: _DocState, org: bool = False) -> _Speaker:
        """A name the glossary does not know: unified by folding (and an English surname with its full name)."""
        key = fold(written).strip()
        if key in state.learned:
            known = state.learned[key]
            return _Speaker(known.canonical, written, known.entry_id, org=known.org)
        speaker = self.speaker_names.get(key) or _Speaker(written.strip(), written.strip(), org=org)
        self.speaker_names.setdefault(key, speaker)
        state.learned[key] = speaker
        parts = written.split()
        if len(parts) > 1:
            state.learned.setdefault(fold(parts[-1]), speaker)
        if "·" in written:  # 蒂姆·库克 is later 库克
            state.learned.setdefault(fold(written.rsplit("·", 1)[1]), speaker)
        return _Speaker(speaker.canonical, written.strip(), speaker.entry_id, org=speaker.org)

    def is_org(self, speaker: _Speaker | None) -> bool:
        if speaker is not None and speaker.org:
            return True
        entry = self.glossary.by_id.get(speaker.entry_id) if speaker is not None and speaker.entry_id else None
        return entry is not None and entry.kind == "org"

    def label_speaker(self, label: str) -> _Speaker:
        """A transcript label as a speaker: its glossary entry, else the label without a role word in front
        (主持人小王 -> 小王, Host Jane Doe -> Jane Doe)."""
        entry = self.glossary.lookup(label)
        if entry is not None:
            return self.entry_speaker(entry, label)
        role = _LABEL_ROLE_RE.match(label)
        name = role.group(1) if role else label
        entry = self.glossary.lookup(name)
        if entry is not None:
            return self.entry_speaker(entry, label)
        key = fold(name)
        speaker = self.speaker_names.setdefault(key, _Speaker(name, name))
        return _Speaker(speaker.canonical, label)

    # -- one document ----------------------------------------------------------------------------------

    def _word_at_third(self, folded: str) -> bool:
        """Whether a dictionary word of two or more characters starts at the third character (吴昊很快)."""
        return any(
            span.start == 2 and span.end - span.start >= 2 and not span.gram
            for span in self.engine.analyzer.spans(folded[:8])
        )

    def english_names(self, units: Sequence[_Unit]) -> dict[str, str]:
        """Person names written in English in a document: two to four capitalised words that are not titles,
        organisation words or glossary names, and not right after at/of/from/in (an analyst at Example
        Capital). Maps each folded name, and each surname that belongs to one name only, to the full name."""
        names: dict[str, str] = {}
        for unit in units:
            for match in _EN_CANDIDATE_RE.finditer(unit.text):
                if re.search(r"\b(?:at|of|from|in|for|by|the|The|to)\s+$", unit.text[: match.start(1)]):
                    continue
                # Runs of name words between titles: Chief Financial Officer Colette Kress -> Colette Kress.
                runs: list[list[str]] = [[]]
                for token in match.group(1).split():
                    if token in _EN_NOT_NAME or token in _EN_ORG_WORDS:
                        runs.append([])
                    else:
                        runs[-1].append(token)
                for run in runs:
                    if len(run) >= 3 and _EN_ROLE_ENDING_RE.search(run[0]):
                        run = run[1:]  # Treasurer Paul Okafor
                    name = " ".join(run)
                    if len(run) >= 2 and not self.glossary.find(name):
                        names.setdefault(fold(name), name)
        surnames = Counter(fold(name.split()[-1]) for name in set(names.values()))
        for name in set(names.values()):
            surname = fold(name.split()[-1])
            if surnames[surname] == 1:
                names.setdefault(surname, name)
        return names

    def mentions(
        self, text: str, folded: str, spans: Sequence[_Span], state: _DocState | None = None
    ) -> list[tuple[int, int, _Speaker]]:
        """Glossary persons and organisations named in the paragraph outside quotation marks, longest first
        where they overlap, with the name as written (a name in brackets after another name of the same
        entry, 薩姆·奧爾特曼(Sam Altman), counts as that first name)."""
        inside = [(s.open, s.end) for s in spans]
        found: list[tuple[int, int, Entry]] = []
        for mention in self.glossary.find(text):
            if mention.entry.kind not in ("person", "org"):
                continue
            if any(a <= mention.start < b for a, b in inside):
                continue
            found.append((mention.start, mention.end, mention.entry))
        found.sort(key=lambda m: (m[0], -(m[1] - m[0])))
        kept: list[tuple[int, int, Entry]] = []
        for start, end, entry in found:
            if kept and start < kept[-1][1]:
                continue
            kept.append((start, end, entry))
        result: list[tuple[int, int, _Speaker]] = []
        taken = [(a, b) for a, b, _ in kept]
        if state is not None:
            for match in _CN_TITLED_RE.finditer(folded):
                start, end = match.span("name")
                if "·" not in match.group("name") and len(match.group("name")) == 3:
                    # 雷军在发布会上, 吴昊很快: the third character starts what follows (a function word, or a
                    # dictionary word); 刘扬伟今日: it is part of the name.
                    word_after = self._word_at_third(folded[start : start + 8])
                    if word_after or folded[end - 1] in _CN_FOLLOWER_CHARS or not _CN_FOLLOWER_RE.match(folded[end:]):
                        end -= 1
                    if not (word_after or _CN_FOLLOWER_RE.match(folded[end:])):
                        continue
                if any(a <= start < b for a, b in inside) or any(a < end and start < b for a, b in taken):
                    continue
                if self.glossary.lookup(text[start:end]) is None:
                    self.new_name(text[start:end], state)
        names = dict(state.names) if state is not None else {}
        if state is not None:
            for key, speaker in state.learned.items():
                if _han(key) >= 2:
                    names.setdefault(key, speaker.canonical)
        if names:
            pattern = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
            for match in re.finditer(rf"(?<![a-z])(?:{pattern})(?![a-z])", folded):
                start, end = match.start(), match.end()
                if any(a <= start < b for a, b in inside) or any(a < end and start < b for a, b in taken):
                    continue
                full = names[match.group()]
                known = state.learned.get(match.group()) if state is not None else None
                speaker = known or (self.new_name(full, state) if state is not None else _Speaker(full, full))
                result.append((start, end, _Speaker(speaker.canonical, text[start:end], speaker.entry_id)))
                taken.append((start, end))
        previous: tuple[int, int, _Speaker] | None = None
        for start, end, entry in kept:
            written = text[start:end]
            if (
                previous
                and previous[2].entry_id == entry.id
                and re.fullmatch(r"\s*[(（]\s*", text[previous[1] : start])
            ):
                written = previous[2].written
            previous = (start, end, self.entry_speaker(entry, written))
            result.append(previous)
        result.sort(key=lambda item: item[0])
        return result

    def subject(
        self,
        unit: _Unit,
        text: str,
        masked: str,
        verb_start: int,
        mentions: Sequence[tuple[int, int, _Speaker]],
        state: _DocState,
    ) -> tuple[_Speaker | None, int]:
        """The subject of the speech verb at `verb_start`: the nearest speaker candidate before it in the same
        clause (see the module doc); (None, -1) when there is none."""
        window_start = max(0, verb_start - 48)
        if not _han(text[window_start:verb_start]):
            window_start = max(0, verb_start - 100)  # English names and appositions are longer
        clause_start = window_start
        for index in range(verb_start - 1, window_start - 1, -1):
            if masked[index] in _CLAUSE_PUNCT or masked[index] == "\x00":
                clause_start = index + 1
                break
        apposition = False
        if (
            not text[clause_start:verb_start].strip()
            and clause_start > window_start
            and masked[clause_start - 1] == ","
        ):
            # English apposition: "Mark Chen, the chief research officer, said" / "officer, Mark Chen, said".
            head = text[window_start : clause_start - 1]
            m = re.search(r"([^,;:.!?\x00“”\"]{1,60})(?:,([^,;:.!?\x00“”\"]{1,60}))?$", head)
            if m and not _han(head):
                clause_start, apposition = window_start + m.start(1), True
        candidates: list[tuple[int, int, _Speaker | None]] = []
        for start, end, speaker in mentions:
            if clause_start <= start and end <= verb_start:
                candidates.append((start, end, speaker))
        for match in _PRONOUN_RE.finditer(masked, clause_start, verb_start):
            candidates.append(
                (match.start(), match.end(), self.antecedent(unit.start + match.start(), state, unit.start))
            )
        for match in _UNNAMED_RE.finditer(masked, clause_start, verb_start):
            candidates.append((match.start(), match.end(), _NOBODY))
        new = self.new_name_before(text, clause_start, verb_start, state, apposition)
        if new is not None:
            candidates.append(new)
        quoted = self.quoted_subject(text, masked, clause_start, verb_start, state)
        if quoted is not None:
            candidates.append(quoted)
        usable = [
            c
            for c in candidates
            if not _ADDRESSEE_RE.search(masked[clause_start : c[0]])
            and not _OBJECT_RE.search(masked[clause_start : c[0]])
        ]
        if not usable:
            return None, -1
        # A person outranks an organisation in the same clause (Altman, the OpenAI CEO, said); in an apposition
        # the name outranks the description (Jane Doe, an analyst at Example Capital, said).
        if any(not self.is_org(c[2]) for c in usable):
            usable = [c for c in usable if not self.is_org(c[2])]
        if apposition and any(c[2] is not None and c[2].named for c in usable):
            usable = [c for c in usable if c[2] is not None and c[2].named]
        # The nearest to the verb; among candidates ending at the same place, the longest (a name over a part).
        start, _end, speaker = max(usable, key=lambda c: (c[1], c[1] - c[0]))
        return speaker, start

    def quoted_subject(
        self, text: str, masked: str, clause_start: int, verb_start: int, state: _DocState
    ) -> tuple[int, int, _Speaker] | None:
        """A name in quotation marks right before the verb (「火眼」表示, “Acme” said): Hong Kong and Taiwanese
        papers often mark a company's name so. Only a short span with no sentence punctuation counts."""
        if clause_start == 0 or masked[clause_start - 1] != "\x00":
            return None
        between = _same_length_fold(text[clause_start:verb_start])
        if _CN_ADVERBS_RE.sub("", between.rstrip()).strip() or _EN_ADVERB_RE.sub("", between).strip():
            return None
        opening = clause_start - 1
        while opening > 0 and masked[opening - 1] == "\x00":
            opening -= 1
        if text[opening] not in _PAIRS or text[clause_start - 1] not in _CLOSERS:
            return None
        inner = text[opening + 1 : clause_start - 1].strip()
        if not 1 <= len(inner) <= 20 or re.search(r"[。！？!?,，;；:：.]", inner):
            return None
        entry = self.glossary.lookup(inner)
        speaker = self.entry_speaker(entry, inner) if entry is not None else self.new_name(inner, state, org=True)
        return opening + 1, clause_start - 1, speaker

    def subject_after(
        self,
        text: str,
        masked: str,
        verb_end: int,
        mentions: Sequence[tuple[int, int, _Speaker]],
        state: _DocState,
    ) -> tuple[_Speaker | None, int]:
        """The subject of an inverted English frame: "said Sam Altman", "said OpenAI CEO Sam Altman",
        "according to Altman", "said a former employee" (unnamed)."""
        stop = verb_end
        while stop < min(len(text), verb_end + 60) and masked[stop] not in _CLAUSE_PUNCT:
            if masked[stop] == "." and not ABBREVIATION_END.search(text, max(verb_end, stop - 6), stop + 1):
                break  # a full stop, not the one of Ms. / Dr. / U.S.
            stop += 1
        after = [(start, speaker) for start, _end, speaker in mentions if verb_end <= start < stop]
        people = [item for item in after if not self.is_org(item[1])]
        if people or after:
            start, speaker = (people or after)[0]
            return speaker, start
        unnamed = _UNNAMED_RE.search(masked, verb_end, stop)
        if unnamed:
            return _NOBODY, unnamed.start()
        match = re.match(
            r"\s+(?:(?:Mr|Mrs|Ms|Dr|Prof)\.?\s+)?((?:[A-Z][a-z'’\-]+|[A-Z]\.)(?:\s+(?:[A-Z][a-z'’\-]+|[A-Z]\.)){0,3})",
            text[verb_end:stop],
        )
        if match:
            tokens = match.group(1).split()
            if masked[max(0, verb_end - 12) : verb_end].endswith("according to") and tokens[-1] in _EN_ORG_WORDS:
                # according to Example News / the Example Times: an outlet the text says the words come from
                return self.new_name(match.group(1), state, org=True), verb_end + match.start(1)
            name = _strip_titles(match.group(1))
            if fold(name) in state.names and fold(name) not in state.learned:
                name = state.names[fold(name)]  # said Ms. Whitmore: the surname of a name the document gives
            if name and (len(name.split()) >= 2 or fold(name) in state.learned):
                return self.new_name(name, state), verb_end + match.end(1) - len(name)
        return None, -1

    def new_name_before(
        self, text: str, clause_start: int, verb_start: int, state: _DocState, apposition: bool = False
    ) -> tuple[int, int, _Speaker] | None:
        """A name the glossary does not know, right before the verb (after adverbs are set aside), or, in an
        apposition, before its first comma."""
        region = text[clause_start:verb_start]
        if apposition:
            for piece in re.finditer(r"[^,]+", region):
                found = self.new_name_before(text, clause_start + piece.start(), clause_start + piece.end(), state)
                if found is not None:
                    return found
            return None
        folded_region = _same_length_fold(region)
        trimmed = _CN_ADVERBS_RE.sub("", folded_region.rstrip())
        trimmed = _EN_ADVERB_RE.sub("", trimmed)
        end = len(trimmed)
        if end == 0:
            return None
        original = region[:end]
        key = fold(original.strip())
        for name_key, speaker in state.learned.items():
            if key.endswith(name_key) and len(name_key) >= 2:
                start = clause_start + end - len(name_key)
                written = region[end - len(name_key) : end]
                return start, clause_start + end, _Speaker(speaker.canonical, written, speaker.entry_id)
        m = _CN_NAME_RE.search(trimmed)
        if m and (not m.group("translit") or _translit_ok(m.group("translit"))):
            group = "name" if m.group("name") else "dotted"
            name = original[m.start(group) : m.end(group)]
            following = _same_length_fold(text[clause_start + m.start(group) : clause_start + m.start(group) + 8])
            if "·" not in name and len(name) == 3 and not m.group("translit") and self._word_at_third(following):
                return None  # 吴昊很: the third character is not part of a name
            if not self.glossary.lookup(name):
                return clause_start + m.start(group), clause_start + m.end(group), self.new_name(name, state)
        m = _CN_OUTLET_RE.search(trimmed)
        if m:
            name = original[m.start("name") : m.end("name")]
            entry = self.glossary.lookup(name)
            speaker = self.entry_speaker(entry, name) if entry is not None else self.new_name(name, state, org=True)
            return clause_start + m.start("name"), clause_start + m.end("name"), speaker
        m = _CN_HONORIFIC_NAME_RE.search(trimmed)
        if m and not self.glossary.lookup(m.group("name")):
            name = original[m.start("name") : m.end("name")]
            return clause_start + m.start("name"), clause_start + m.end("name"), self.new_name(name, state)
        lead = _CN_LEAD_RE.match(trimmed)
        m = _CN_ORG_RE.search(trimmed, lead.end() if lead else 0)
        if m:
            start = m.start("org") + len(trimmed[m.start("org") :]) - len(trimmed[m.start("org") :].lstrip())
            name = original[start : m.end("org")]
            folded_name = fold(name)
            if (
                len(name) >= 4
                and not _ORG_HEAD_NOT.match(folded_name)
                and not any(c in _NOT_IN_NAME for c in folded_name)
                and not _VERB_RE.search(folded_name)
                and not self.glossary.lookup(name)
            ):
                return clause_start + start, clause_start + m.end("org"), self.new_name(name, state, org=True)
        m = _EN_NAME_RE.search(original)
        if m:
            name = _strip_titles(m.group(1))
            tokens = name.split()
            if tokens and len(tokens) >= 2 and not self.glossary.lookup(name):
                start = clause_start + m.end(1) - len(name)
                return start, clause_start + m.end(1), self.new_name(name, state)
        return None

    def dash_name(self, tail: str, state: _DocState) -> _Speaker:
        """The source after a dash (——黃仁勳, — Jane Doe, CEO): a name the document has used for a speaker, a
        titled or dotted Chinese name, or two or three capitalised words; otherwise an unnamed source."""
        first = re.split(r"[,，;；。.!！?？(（]", tail.strip())[0].strip()
        key = fold(first)
        for name_key, speaker in state.learned.items():
            if key == name_key or (len(name_key) >= 2 and key.endswith(name_key) and _han(name_key)):
                return _Speaker(speaker.canonical, first[len(first) - len(name_key) :] if _han(first) else first)
        m = _CN_NAME_RE.search(_same_length_fold(first))
        if m and m.end() == len(first):
            group = "name" if m.group("name") else "dotted"
            return self.new_name(first[m.start(group) : m.end(group)], state)
        name = _strip_titles(first)
        if re.fullmatch(r"(?:[A-Z][a-z'’\-]+|[A-Z]\.)(?:\s+(?:[A-Z][a-z'’\-]+|[A-Z]\.)){1,3}", name):
            return self.new_name(name, state)
        return _NOBODY

    def antecedent(self, position: int, state: _DocState, paragraph_start: int = 0) -> _Speaker | None:
        """Who a pronoun that speaks (他说, he said) stands for. News keeps "he said" for the current speaker
        even after naming others (Cook told Benioff … / “…,” he said = Cook), so: the person who spoke last,
        when that was within the last few paragraphs, unless a person is named after that speech in the
        pronoun's own paragraph (Huang has described … he said = Huang); otherwise the person named nearest
        before the pronoun."""
        index = bisect.bisect_left(state.persons, position, key=lambda item: item[0])
        nearest = state.persons[index - 1] if index else None
        last = state.last_speaker
        recent = last is not None and 0 <= position - last[0] <= _LAST_SPEAKER_REACH
        if recent and (nearest is None or nearest[0] < max(paragraph_start, last[0])):
            nearest = last
        if nearest is None:
            return None
        best = nearest[1]
        return _Speaker(best.canonical, best.written, best.entry_id, pronoun=True)


def _strip_titles(name: str) -> str:
    """The name without titles and roles before it: the last run of tokens that are not title words
    (Chief Financial Officer Colette Kress -> Colette Kress)."""
    tokens = name.split()
    kept: list[str] = []
    for token in reversed(tokens):
        if token.strip(".") in _EN_NOT_NAME or token in _EN_ORG_WORDS:
            break
        kept.insert(0, token)
    return " ".join(kept)
