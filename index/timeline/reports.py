"""Reports: every date expression of every passage line (index.dates) with the verbatim sentence around it,
and what is needed to compare it with other reports (entities, products, actions, figures, shingles)."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import date

from index.dates import DateMention, extract
from index.engine import Engine
from index.glossary import Entry
from index.normalize import fold
from index.passages import Passage
from index.sameness import figures
from index.timeline.model import EventReport, _Report

log = logging.getLogger(__name__)

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


def _reference(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _reports(engine: Engine) -> list[_Report]:
    reports: list[_Report] = []
    references: dict[str, date | None] = {}
    problems: dict[str, list[str]] = {}
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
            if extraction.rejected:
                noted = problems.setdefault(passage.doc_id, [])
                noted.extend(f"“{e}” is no date (left out)" for e in extraction.rejected)
            if len(line) >= _LONG_LINE_CHARS and not re.search(r"[。！？!?.]", line):
                problems.setdefault(passage.doc_id, []).append(
                    f"paragraph {passage.paragraph} has {len(line):,} characters and no sentence end"
                )
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
    for doc_id, found in problems.items():
        shown = "; ".join(found[:5]) + (f"; and {len(found) - 5} more" if len(found) > 5 else "")
        log.warning("dates in %s: %s", doc_id, shown)
    return reports


_LONG_LINE_CHARS = 20_000  # a paragraph this long without a sentence end is named in a warning
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
