"""The corpus' dated events, in order, with citations: extraction, merging, conflicts, topic filter, rendering.

`build_index(engine)` does the work once per corpus version (under 0.1 s for the seeds): every date
expression of every passage line (index.dates) becomes a report of an event, with the verbatim sentence around it.
Reports of the same event are merged into one event with several citations; when sources give the same event
dates that cannot both be true, the event is kept once, marked `conflict`, and shows every date with its citation.
`timeline(engine, topic, start, end, index=...)` then filters and is cheap. docs/timeline.md explains the rules.

Reference dates. Relative expressions of a document are resolved against its publication date (the catalog's
`date`); a dateline or "today is ..." in the text moves the reference for the rest of that document.

Same event. Two reports (of different sentences) are the same event when their sentences are near-identical, or
when they share an action (release, announce, join, leave, pause, fund, grow, sue, found...: a bilingual lexicon
of news verbs), share named things (glossary entities; at least two when both name two or more, and half of the
smaller set), do not name different products, and do not give different figures. A report joins the most similar
event whose date its own date overlaps. Otherwise, if it is strictly the same event (the same products, the same
action, most entities shared) from another document, with neither date approximate, it joins as a conflict.

Topics. Event sentences form a small BM25 index of their own (the engine's terms plus glossary concept terms),
so a topic in any language or script reaches its aliases ("Altman" finds 奥特曼); an event is kept when one of its
sentences covers at least half of the topic's words (idf-weighted; a glossary alias counts as the word).
"""

from __future__ import annotations

import logging
import re
import time
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from index.bm25 import BM25Index
from index.dates import PRECISION_RANK, DateMention, ResolvedDate, extract, parse_range
from index.engine import Citation, Engine, clean_question, figures, passage_terms
from index.errors import QuestionError
from index.glossary import CONCEPT_PREFIX, Entry
from index.normalize import fold
from index.passages import Passage

log = logging.getLogger(__name__)

MIN_COVERAGE = 0.5
MAX_TOPIC_CHARS = 200
CHOICES_LIMIT = 25
CHOICE_NAME_LIMIT = 100
SUGGESTIONS = 3
NEAR_DUPLICATE = 0.6
_GLOSSARY_CREDIT = 1.0
_DICTIONARY_CREDIT = 0.8

# Bilingual lexicon of what news reports happening, by kind of action (folded: simplified Chinese, lower case).
_ACTION_WORDS: dict[str, tuple[str, ...]] = {
    "release": (
        "发布", "推出", "上线", "亮相", "问世", "面世", "开源", "上新", "首发", "发表", "公布", r"\breleas",
        r"\blaunch", r"\bunveil", r"\bdebut", r"\bintroduc", r"\broll(?:s|ed|ing)?\s+out", r"\bship(?:s|ped)?\b",
    ),
    "announce": (
        "宣布", "宣告", "拉响", "声明", "表态", "内部信", "备忘录", "警报", r"\bdeclar", r"\bannounc", r"\bmemo\b",
    ),
    "join": ("加入", "入职", "加盟", "出任", "任命", "聘请", "担任", r"\bjoin", r"\bhire", r"\bhiring", r"\bappoint"),
    "leave": (
        "离职", "辞职", "离开", "出走", "卸任", "退出", "解雇", r"\bleav", r"\bleft\b", r"\bresign", r"\bdepart",
        r"\bstep(?:s|ped)?\s+down", r"\bquit", r"\bfired\b", r"\boust",
    ),
    "money": (
        "融资", "投资", "估值", "收购", "募资", "注资", "上市", r"\bfunding\b", r"\binvest", r"\bvaluation",
        r"\bacqui", r"\braised?\b", r"\bipo\b",
    ),
    "pause": (
        "暂停", "推迟", "搁置", "叫停", "延后", "暂缓", "放弃", r"\bpaus", r"\bdelay", r"\bpostpon", r"\bhalt",
        r"\bshelv", r"\bdeprioriti", r"\bsuspend",
    ),
    "change": (
        "增长", "上涨", "跃升", "飙升", "下降", "下跌", "放缓", "停滞", "减少", "突破", "达到", "超过", "翻倍",
        r"\bgr[eo]w", r"\brose\b", r"\brise", r"\bfell\b", r"\bfall", r"\bdeclin", r"\bdrop", r"\bsurg",
        r"\bjump", r"\breach", r"\bdoubl", r"\bslow",
    ),
    "legal": ("起诉", "诉讼", "指控", "判决", "裁定", r"\bsue[sd]?\b", r"\blawsuit", r"\ballege", r"\bcourt\b"),
    "found": ("成立", "创立", "创办", "诞生", "生日", "周年", r"\bfound(?:ed|ing)\b", r"\bestablish", r"\bbirthday"),
    "switch": ("转向", "倒戈", "改用", "换成", r"\bswitch", r"\bconvert", r"\bdefect"),
    "test": ("测试", "内测", "试用", r"\btest", r"\btrial", r"\bpilot"),
    "report": (
        "报道", "曝", "披露", "透露", "援引", "声称", "宣称", "表示", "指出", r"\breport", r"\breveal", r"\bdisclos",
        r"\bsaid\b",
    ),
}  # fmt: skip
_ACTIONS = {kind: re.compile("|".join(words)) for kind, words in _ACTION_WORDS.items()}
_REPORTING = "report"  # tells that something happened, but not what: not an action two reports can share


@dataclass(frozen=True)
class EventReport:
    """One source's report of a dated event: its date, the verbatim sentence, and where it stands."""

    date: ResolvedDate
    expression: str
    text: str
    doc_id: str
    passage: int
    citation: Citation
    also: tuple[Citation, ...] = ()  # the same passage elsewhere (collapsed duplicates)
    relative: bool = False

    @property
    def citations(self) -> tuple[Citation, ...]:
        return (self.citation, *self.also)


@dataclass(frozen=True)
class TimelineEvent:
    """A dated event: the date, sentence and passage of its most precise report, and every report of it."""

    date: ResolvedDate
    text: str
    doc_id: str
    passage: int
    reports: tuple[EventReport, ...]
    conflict: bool = False

    @property
    def precision(self) -> str:
        return self.date.precision

    @property
    def citations(self) -> tuple[Citation, ...]:
        seen: dict[tuple[str, int], Citation] = {}
        for report in self.reports:
            for citation in report.citations:
                seen.setdefault((citation.doc_id, citation.paragraph), citation)
        return tuple(seen.values())

    @property
    def dates(self) -> tuple[ResolvedDate, ...]:
        """The distinct dates its reports give (several when the sources disagree)."""
        found: dict[str, ResolvedDate] = {}
        for report in self.reports:
            found.setdefault(report.date.iso, report.date)
        return tuple(found.values())


@dataclass(frozen=True)
class TopicChoice:
    name: str
    kind: str
    events: int
    aliases: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()  # folded name and aliases, for matching what the user types

    @property
    def label(self) -> str:
        count = f" ({self.events} event{'s' if self.events != 1 else ''})"
        return self.name[: CHOICE_NAME_LIMIT - len(count)] + count


@dataclass(frozen=True)
class Timeline:
    """The answer to a timeline request: events in chronological order, or why there are none."""

    topic: str
    start: date | None
    end: date | None
    events: tuple[TimelineEvent, ...]
    total: int  # events of the whole corpus timeline
    message: str = ""  # why the result is empty
    suggestions: tuple[str, ...] = ()
    elapsed_ms: float = 0.0

    @property
    def empty(self) -> bool:
        return not self.events


@dataclass
class _Report:
    """A report with what is needed to compare it with others."""

    report: EventReport
    order: tuple[str, str, int, int]  # publication date, document, passage, offset: the source order
    sentence_key: tuple[int, int]
    folded: str
    entities: frozenset[str]
    products: frozenset[str]
    actions: frozenset[str]
    figures: frozenset[str]
    shingles: frozenset[str]


@dataclass
class _Group:
    seed: _Report
    members: list[_Report] = field(default_factory=list)
    conflict: bool = False


@dataclass(frozen=True)
class TimelineIndex:
    """Every event of one corpus version, merged and sorted, with what topic filtering and autocomplete need."""

    version: str
    events: tuple[TimelineEvent, ...]
    choices: tuple[TopicChoice, ...]
    sentences: BM25Index  # one document per distinct event sentence
    event_sentences: tuple[tuple[int, ...], ...]  # sentence ids of each event
    reports: int = 0
    build_ms: float = 0.0

    def complete(self, typed: str, limit: int = CHOICES_LIMIT) -> list[tuple[str, str]]:
        """(label, value) autocomplete pairs for what the user typed, in any script: exact names first, then
        names starting with it, then names containing it; most events first within each."""
        key = fold(typed).strip()
        ranked: list[tuple[int, int, str, str]] = []
        for order, choice in enumerate(self.choices):
            if not key:
                ranked.append((0, order, choice.label, choice.name))
                continue
            ranks = [0 if k == key else 1 if k.startswith(key) else 2 if key in k else 3 for k in choice.keys]
            best = min(ranks, default=3)
            if best < 3:
                ranked.append((best, order, choice.label, choice.name))
        ranked.sort()
        return [(label[:CHOICE_NAME_LIMIT], value[:CHOICE_NAME_LIMIT]) for _, _, label, value in ranked[:limit]]

    def suggestions(self, exclude: str = "", limit: int = SUGGESTIONS) -> tuple[str, ...]:
        key = fold(exclude).strip()
        return tuple(c.name for c in self.choices if key not in c.keys)[:limit]


# -- building --------------------------------------------------------------------------------------------


def build_index(engine: Engine) -> TimelineIndex:
    """Extract, merge and sort every dated event of the engine's corpus (pure; call it once per version)."""
    started = time.perf_counter()
    reports = _reports(engine)
    groups = _merge(reports)
    events = sorted((_event(group) for group in groups), key=_event_key)
    sentence_ids: dict[tuple[int, int], int] = {}
    texts: list[str] = []
    event_sentences: list[tuple[int, ...]] = []
    key_of = {id(r.report): r.sentence_key for r in reports}
    for event in events:
        ids = []
        for report in event.reports:
            key = key_of[id(report)]
            if key not in sentence_ids:
                sentence_ids[key] = len(texts)
                texts.append(report.text)
            ids.append(sentence_ids[key])
        event_sentences.append(tuple(dict.fromkeys(ids)))
    sentences = BM25Index.build([passage_terms(engine.analyzer, engine.glossary, text) for text in texts])
    choices = _choices(engine, events)
    elapsed = (time.perf_counter() - started) * 1000
    log.info(
        "timeline: %d events from %d dated mentions, %d topics (%.0f ms)",
        len(events),
        len(reports),
        len(choices),
        elapsed,
    )
    return TimelineIndex(
        engine.version, tuple(events), tuple(choices), sentences, tuple(event_sentences), len(reports), elapsed
    )


def _reference(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _reports(engine: Engine) -> list[_Report]:
    reports: list[_Report] = []
    references: dict[str, date | None] = {}
    for passage in engine.passages:
        info = engine.documents.get(passage.doc_id)
        if info is None:
            continue
        if passage.doc_id not in references:
            references[passage.doc_id] = _reference(info.date)
        citation = engine.citation(passage)
        also = tuple(engine.citation(location) for location in passage.duplicates)
        offset = 0
        for line in passage.text.split("\n"):
            extraction = extract(line, references[passage.doc_id])
            references[passage.doc_id] = extraction.reference
            by_sentence: dict[tuple[int, int], list[DateMention]] = {}
            for mention in extraction.mentions:
                by_sentence.setdefault(mention.sentence, []).append(mention)
            for (s_start, s_end), mentions in by_sentence.items():
                sentence = line[s_start:s_end]
                folded = fold(sentence)
                eventful = any(regex.search(folded) for regex in _ACTIONS.values())
                spans = [(m.start - s_start, m.end - s_start) for m in mentions]
                clauses = _clauses(sentence, spans)
                dateless = _blank(fold(sentence), spans)
                informative: list[tuple[bool, bool]] | None = None
                for mention in mentions:
                    if mention.anchor or (mention.deictic and not eventful):
                        continue  # a dateline, or "today" in a sentence that reports nothing happening
                    lead = len(sentence) - len(sentence.lstrip())
                    report = EventReport(
                        mention.date,
                        mention.expression,
                        sentence.strip(),
                        passage.doc_id,
                        passage.pid,
                        citation,
                        also,
                        mention.relative,
                    )
                    if informative is None:
                        informative = _informative(engine, sentence, clauses)
                    focus = _focus(sentence, clauses, informative, mention.start - s_start, mentions, s_start)
                    reports.append(_features(engine, report, passage, offset + s_start + lead, dateless, focus))
            offset += len(line) + 1
    return reports


_CLAUSE_END = re.compile(r"[,，;；:：()（）—–、]+|\s[-–—]\s")


def _clauses(sentence: str, protected: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans of the clauses of a sentence (cut at commas, colons, brackets and dashes, but never inside a date
    expression such as "December 9, 2025")."""
    cuts = [0]
    for match in _CLAUSE_END.finditer(sentence):
        if not any(start < match.end() and match.start() < end for start, end in protected):
            cuts.extend((match.start(), match.end()))
    cuts.append(len(sentence))
    return [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts) - 1, 2) if cuts[i + 1] > cuts[i]] or [(0, len(sentence))]


def _focus(
    sentence: str,
    clauses: Sequence[tuple[int, int]],
    informative: Sequence[tuple[bool, bool]],
    position: int,
    mentions: Sequence[DateMention],
    s_start: int,
) -> str:
    """What a date is about: its clause, grown by the next and previous clauses in turn until it names
    something (a glossary entity) and something happening (an action), or is the whole sentence. Its date
    expressions are blanked (their numbers are not the event's figures). `informative`: for each clause, whether
    it names an entity and whether it has an action."""
    index = next((i for i, (start, end) in enumerate(clauses) if start <= position < end), 0)
    low = high = index

    def complete(low: int, high: int) -> bool:
        window = informative[low : high + 1]
        return any(named for named, _ in window) and any(acting for _, acting in window)

    forward = True
    while not complete(low, high) and (high + 1 < len(clauses) or low > 0):
        if (forward and high + 1 < len(clauses)) or low == 0:
            high += 1
        else:
            low -= 1
        forward = not forward
    start, end = clauses[low][0], clauses[high][1]
    dates = [(m.start - s_start - start, m.end - s_start - start) for m in mentions]
    return _blank(fold(sentence[start:end]), dates)


def _informative(engine: Engine, sentence: str, clauses: Sequence[tuple[int, int]]) -> list[tuple[bool, bool]]:
    """For each clause: does it name a glossary entity, does it say something happened (not just reported)."""
    found = []
    for start, end in clauses:
        text = fold(sentence[start:end])
        named = bool(engine.glossary.find_folded(text))
        found.append((named, any(k != _REPORTING and r.search(text) for k, r in _ACTIONS.items())))
    return found


def _blank(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """`text` with the characters of `spans` replaced by spaces (offsets of folded text equal the original's
    except in rare NFKC expansions; spans outside the text are ignored)."""
    chars = list(text)
    for start, end in spans:
        for i in range(max(0, start), min(len(chars), end)):
            chars[i] = " "
    return "".join(chars)


def _features(engine: Engine, report: EventReport, passage: Passage, offset: int, dateless: str, focus: str) -> _Report:
    """What a report is about. `dateless`: its folded sentence without date expressions; `focus`: the clauses
    around its date (index.timeline._focus)."""
    mentions = engine.glossary.find_folded(focus)
    entries: dict[str, Entry] = {m.entry.term: m.entry for m in mentions}
    unnamed = _blank(focus, [(m.start, m.end) for m in mentions])  # "Rocket 10" is a name, not a figure
    info = engine.documents[report.doc_id]
    key = re.sub(r"[\W_]+", "", dateless)
    return _Report(
        report=report,
        order=(info.date, report.doc_id, passage.pid, offset),
        sentence_key=(passage.pid, offset),
        folded=dateless,
        entities=frozenset(entries),
        products=frozenset(term for term, entry in entries.items() if entry.kind == "product"),
        actions=frozenset(kind for kind, regex in _ACTIONS.items() if regex.search(focus)),
        figures=frozenset(figures(unnamed)),
        shingles=frozenset(key[i : i + 3] for i in range(max(1, len(key) - 2))),
    )


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def similarity(a: _Report, b: _Report) -> float:
    """How surely two reports tell the same event (0: not the same); see the module docstring."""
    if a.sentence_key == b.sentence_key:
        return 0.0
    if a.figures and b.figures and not a.figures & b.figures:
        return 0.0
    if a.products and b.products and not a.products & b.products:
        return 0.0
    if _jaccard(a.shingles, b.shingles) >= NEAR_DUPLICATE:
        return 1.0
    if not (a.actions & b.actions) - {_REPORTING}:
        return 0.0
    if a.products and b.products and not a.products & b.products:
        return 0.0
    shared = a.entities & b.entities
    smaller = min(len(a.entities), len(b.entities))
    if not shared or len(shared) < min(2, smaller):
        return 0.0
    overlap = len(shared) / smaller
    return overlap if overlap >= 0.5 else 0.0


def contradicts(a: _Report, b: _Report) -> bool:
    """Strictly the same event from two documents, with dates that cannot both hold."""
    if a.report.doc_id == b.report.doc_id or a.report.date.overlaps(b.report.date):
        return False
    if "approximate" in (a.report.date.precision, b.report.date.precision):
        return False
    if (a.figures and b.figures and not a.figures & b.figures) or a.products != b.products:
        return False
    if _jaccard(a.shingles, b.shingles) >= NEAR_DUPLICATE:
        return True
    persons_a = {e for e in a.entities if e not in a.products}
    persons_b = {e for e in b.entities if e not in b.products}
    return (
        bool((a.actions & b.actions) - {_REPORTING})
        and ((a.products == b.products and bool(a.products)) or (not a.products and not b.products and bool(persons_a)))
        and len(a.entities & b.entities) >= 2
        and _jaccard(a.entities, b.entities) >= 0.5
        and not (a.figures and b.figures and not a.figures & b.figures)
        and (a.products or persons_a == persons_b)
    )


_SKETCH_MASKS = (0x5BD1E995, 0x2545F491, 0x9E3779B9, 0x7FEB352D)  # near-identical sentences share a min-hash
_PAIRED_ENTITIES = 8  # entity pairs are formed from at most this many entities of a report
_MAX_CANDIDATES = 300  # groups compared with one report at most
_SKETCH_BUCKET = 50  # groups filed under one min-hash at most


def _sketch(shingles: frozenset[str]) -> tuple[int, ...]:
    hashes = [zlib.crc32(shingle.encode()) for shingle in shingles] or [0]
    return tuple(min(h ^ mask for h in hashes) for mask in _SKETCH_MASKS)


def _keys(report: _Report) -> tuple[set[tuple], set[tuple]]:
    """(keys a report looks under, keys its group is filed under when it seeds one). Only groups sharing a key
    are compared, which keeps merging near-linear. similarity() needs a near-identical sentence (a shared
    min-hash) or shared entities: two when both name two or more (a shared pair of entities), else the one a
    single-entity report names, and a shared action. Merging needs overlapping dates (a shared year); a conflict
    needs the same products, or with none the same people."""
    date = report.report.date
    years = range(date.start.year, min(date.end.year, date.start.year + 10) + 1)
    entities = sorted(report.entities)
    actions = sorted(report.actions - {_REPORTING})
    sketch = {("sketch", i, value) for i, value in enumerate(_sketch(report.shingles))}
    if not entities or not actions:
        return sketch, sketch  # without a shared action or entity only a near-identical sentence is the same event
    pairs = {
        ("pair", a, b, act, year)
        for i, a in enumerate(entities[:_PAIRED_ENTITIES])
        for b in entities[i + 1 : _PAIRED_ENTITIES]
        for act in actions
        for year in years
    }
    singles = {("one", e, act, year) for e in entities for act in actions for year in years}
    anyone = {("any", e, act, year) for e in entities for act in actions for year in years}
    people = frozenset(e for e in entities if e not in report.products)
    same = {("same", report.products or people, act) for act in actions}
    if len(entities) == 1:
        look, files = anyone, singles | anyone
    else:
        look, files = pairs | singles, pairs | anyone
    return look | same | sketch, files | same | sketch


def _merge(reports: Sequence[_Report]) -> list[_Group]:
    """Group reports of the same event; the most precise report of a group is its seed."""
    order = sorted(reports, key=lambda r: (PRECISION_RANK[r.report.date.precision], r.report.date.span_days, r.order))
    groups: list[_Group] = []
    sentences: list[set[tuple[int, int]]] = []  # sentence keys of each group's members
    filed: dict[tuple, list[int]] = {}
    for report in order:
        look, files = _keys(report)
        best: tuple[float, int, bool] | None = None
        shared = Counter(g for key in look for g in filed.get(key, ()))
        # The groups sharing most keys are the likeliest; past _MAX_CANDIDATES (templated text) the rest wait.
        for number in sorted(g for g, _ in shared.most_common(_MAX_CANDIDATES)):
            group = groups[number]
            if report.sentence_key in sentences[number]:
                continue
            score = similarity(group.seed, report)
            if score <= 0 or (best is not None and score <= best[0]):
                continue
            if report.report.date.overlaps(group.seed.report.date):
                best = (score, number, False)
            elif contradicts(group.seed, report):
                best = (score, number, True)
        if best is None:
            for key in files:
                bucket = filed.setdefault(key, [])
                if key[0] != "sketch" or len(bucket) < _SKETCH_BUCKET:  # a min-hash of templated text: no signal
                    bucket.append(len(groups))
            groups.append(_Group(report, [report]))
            sentences.append({report.sentence_key})
            continue
        _, number, conflict = best
        group = groups[number]
        group.members.append(report)
        group.conflict = group.conflict or conflict
        sentences[number].add(report.sentence_key)
    return groups


def _event(group: _Group) -> TimelineEvent:
    seed = group.seed.report
    others = sorted(group.members[1:], key=lambda r: (r.report.date.start, r.order))
    reports = (seed, *(member.report for member in others))
    return TimelineEvent(seed.date, seed.text, seed.doc_id, seed.passage, reports, group.conflict)


def _event_key(event: TimelineEvent) -> tuple:
    seed = event.reports[0]
    return (event.date.start, PRECISION_RANK[event.date.precision], seed.citation.date, seed.doc_id, seed.passage)


def _choices(engine: Engine, events: Sequence[TimelineEvent]) -> list[TopicChoice]:
    """Topics for autocomplete and suggestions: the glossary entities named in most events, then (for a corpus
    without a glossary, or to fill the list) the words found in most event sentences."""
    counts: Counter[str] = Counter()
    for event in events:
        terms: set[str] = set()
        for report in event.reports:
            terms.update(engine.glossary.concept_terms(fold(report.text)))
        counts.update(terms)
    choices: list[TopicChoice] = []
    for term, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        entry = engine.glossary.by_id.get(term[len(CONCEPT_PREFIX) :])
        if entry is None:
            continue
        aliases = tuple(dict.fromkeys(a for a in (entry.canonical, *entry.aliases) if a.strip()))
        choices.append(
            TopicChoice(
                entry.canonical[:CHOICE_NAME_LIMIT], entry.kind, count, aliases, tuple(fold(a) for a in aliases)
            )
        )
    if len(choices) < CHOICES_LIMIT:
        choices.extend(_frequent_words(engine, events, {c.keys[0] for c in choices}, CHOICES_LIMIT - len(choices)))
    return choices


def _frequent_words(engine: Engine, events: Sequence[TimelineEvent], taken: set[str], limit: int) -> list[TopicChoice]:
    """Words (as written) found in at least two events: capitalised names and longer Chinese words first."""
    counts: Counter[str] = Counter()
    surface: dict[str, Counter[str]] = {}
    for event in events:
        seen: set[str] = set()
        for report in event.reports:
            for span in engine.analyzer.spans(report.text):
                word = report.text[span.start : span.end]
                if (
                    len(word) < 2
                    or re.search(r"\d", word)
                    or engine.analyzer.is_stopword(span.term)
                    or (word.isascii() and not word[:1].isupper())
                ):
                    continue
                surface.setdefault(span.term, Counter())[word] += 1
                seen.add(span.term)
        counts.update(seen)
    words = []
    for term, count in sorted(counts.items(), key=lambda item: (-item[1], -len(item[0]), item[0])):
        if count < 2:
            break
        name = surface[term].most_common(1)[0][0][:CHOICE_NAME_LIMIT]
        if fold(name) in taken or len(words) >= limit:
            continue
        taken.add(fold(name))
        words.append(TopicChoice(name, "word", count, (name,), (fold(name),)))
    return words


# -- querying --------------------------------------------------------------------------------------------


def matching_events(engine: Engine, index: TimelineIndex, topic: str) -> list[int]:
    """Indexes of the events one of whose sentences covers at least half of the topic (idf-weighted)."""
    bm25 = index.sentences
    ids = np.arange(bm25.n_docs, dtype=np.int32)
    entry = engine.glossary.lookup(topic)
    if entry is not None:  # a name in any of its spellings: the events naming that entity
        named = set(np.flatnonzero(bm25.contains(entry.term, ids)).tolist())
        return [i for i, sentence_ids in enumerate(index.event_sentences) if named.intersection(sentence_ids)]
    query = engine.analyze(topic)
    if not query.concepts and not query.extra:
        raise QuestionError(f"I found no words to search for in the topic “{topic}”. Try a name, e.g. “Gemini”.")
    covered = np.zeros(len(ids))
    anchored = np.zeros(len(ids), dtype=bool)
    total = 0.0
    for concept in query.concepts:
        if not concept.unit:
            continue
        known = [t for t in (concept.term, *(e for e, _ in concept.expansions)) if bm25.df(t)]
        weight = max((bm25.informativeness(t) for t in known), default=bm25.max_informativeness)
        total += weight
        literal = bm25.contains(concept.term, ids)
        match = literal.astype(np.float64)
        anchored |= literal
        for term, factor in concept.expansions:
            present = bm25.contains(term, ids)
            if term.startswith(CONCEPT_PREFIX):
                anchored |= present
                match = np.maximum(match, _GLOSSARY_CREDIT * present)
            else:
                match = np.maximum(match, _DICTIONARY_CREDIT * min(1.0, factor / 0.5) * present)
        covered += weight * match
    for term, _factor in query.extra:
        weight = bm25.informativeness(term)
        total += weight
        present = bm25.contains(term, ids)
        anchored |= present
        covered += weight * present
    coverage = np.where(anchored, covered / total if total else 0.0, 0.0)
    good = set(np.flatnonzero(coverage >= MIN_COVERAGE).tolist())
    return [i for i, sentence_ids in enumerate(index.event_sentences) if good.intersection(sentence_ids)]


def timeline(
    engine: Engine,
    topic: str | None = None,
    start: date | None = None,
    end: date | None = None,
    *,
    index: TimelineIndex | None = None,
) -> Timeline:
    """The events about `topic` (all events without one) whose date lies in [start, end], oldest first."""
    began = time.perf_counter()
    if index is None or index.version != engine.version:
        index = build_index(engine)
    cleaned = clean_question(topic or "")
    if len(cleaned) > MAX_TOPIC_CHARS:
        raise QuestionError(f"The topic is {len(cleaned):,} characters long; please keep it under {MAX_TOPIC_CHARS}.")
    selected = list(range(len(index.events)))
    if cleaned:
        selected = matching_events(engine, index, cleaned)
    about = len(selected)
    events = tuple(
        index.events[i] for i in selected if any(report.date.within(start, end) for report in index.events[i].reports)
    )
    message, suggestions = "", ()
    if not events:
        message, suggestions = _why_empty(index, cleaned, start, end, about)
    return Timeline(
        cleaned,
        start,
        end,
        events,
        len(index.events),
        message,
        suggestions,
        (time.perf_counter() - began) * 1000,
    )


def _why_empty(
    index: TimelineIndex, topic: str, start: date | None, end: date | None, about: int
) -> tuple[str, tuple[str, ...]]:
    suggestions = index.suggestions(exclude=topic)
    if not index.events:
        return "The corpus has no dated events.", ()
    span = f"{index.events[0].date.iso} to {max(e.date.end for e in index.events).isoformat()}"
    window = _window(start, end)
    if topic and about == 0:
        return f"No dated events about “{topic}” in the corpus.", suggestions
    if topic:
        return (
            f"No dated events about “{topic}” {window}; it has {about} at other dates. The corpus' events run from "
            f"{span}.",
            suggestions,
        )
    return f"No dated events {window}. The corpus' events run from {span}.", suggestions


def _window(start: date | None, end: date | None) -> str:
    if start and end:
        return f"between {start.isoformat()} and {end.isoformat()}"
    if start:
        return f"from {start.isoformat()} on"
    return f"up to {end.isoformat()}" if end else "in the corpus"


def timeline_from_text(
    engine: Engine,
    topic: str | None = None,
    start: str | None = None,
    end: str | None = None,
    *,
    index: TimelineIndex | None = None,
) -> Timeline:
    """`timeline` with --from / --to as typed (YYYY, YYYY-MM or YYYY-MM-DD); DateBoundError for bad ones."""
    low, high = parse_range(start, end)
    return timeline(engine, topic, low, high, index=index)


def events_on(index: TimelineIndex, day: date) -> list[tuple[str, str, Citation]]:
    """(date, sentence, citation) of the day-precise events on this month and day in any year (the digest's
    "on this day")."""
    return [
        (event.date.iso, event.text, event.reports[0].citation)
        for event in index.events
        if event.precision == "day" and (event.date.start.month, event.date.start.day) == (day.month, day.day)
    ]


# -- rendering -------------------------------------------------------------------------------------------


def _citation_json(report: EventReport, citation: Citation) -> dict:
    return {
        "doc_id": citation.doc_id,
        "title": citation.title,
        "source": citation.source,
        "date": citation.date,
        "paragraph": citation.paragraph,
        "location": citation.location,
        "passage": report.passage,
        "event_date": report.date.iso,
        "precision": report.date.precision,
        "expression": report.expression,
        "text": report.text,
    }


def to_json(result: Timeline) -> dict:
    """{"topic", "events": [{"date", "precision", "text", "doc_id", "passage", "citations", "conflict"}]}.
    Each citation is one report: where it is (doc_id, title, source, publication date, paragraph, passage) and
    what it says (event_date, precision, expression, text), so a conflict shows each source's date."""
    return {
        "topic": result.topic or None,
        "events": [
            {
                "date": event.date.iso,
                "precision": event.precision,
                "text": event.text,
                "doc_id": event.doc_id,
                "passage": event.passage,
                "citations": [
                    _citation_json(report, citation) for report in event.reports for citation in report.citations
                ],
                "conflict": event.conflict,
            }
            for event in result.events
        ],
    }


def date_label(value: ResolvedDate) -> str:
    """The date as shown to people: the ISO text, with "~" for an approximate one and the quarter named."""
    if value.precision == "quarter":
        return f"{value.start.year} Q{(value.start.month + 2) // 3}"
    if value.precision == "approximate":
        return f"~{value.iso}"
    return value.iso


def heading(result: Timeline) -> str:
    subject = f"Timeline: {result.topic}" if result.topic else "Timeline of the corpus"
    window = _window(result.start, result.end) if result.start or result.end else ""
    return f"{subject} {window}".strip()


def format_text(result: Timeline) -> str:
    """Plain terminal text: a heading, then numbered events, each with its citations (and, for a conflict, every
    source's date and sentence)."""
    count = len(result.events)
    lines = [f"{heading(result)} — {count} event{'s' if count != 1 else ''}"]
    if result.empty:
        lines.append(result.message)
        if result.suggestions:
            lines.append("Try: " + ", ".join(result.suggestions) + ".")
        return "\n".join(lines)
    for number, event in enumerate(result.events, 1):
        lines.append("")
        lines.append(f"[{number}] {date_label(event.date)} ({event.precision}) {event.text}")
        if event.conflict:
            dates = " vs ".join(date_label(d) for d in event.dates)
            lines.append(f"    ⚠ sources disagree on the date: {dates}")
            for report in event.reports:
                lines.append(f"    {date_label(report.date)}: {report.text}")
                lines.extend(f"        — {citation.label()}" for citation in report.citations)
        else:
            lines.extend(f"    — {citation.label()}" for citation in event.citations)
    return "\n".join(lines)
