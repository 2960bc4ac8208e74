"""Quotations: who said what, verbatim, with a citation.

Extraction. A quotation is words the text reports as someone's speech or writing:

* a span in quotation marks (“…”, 「…」 with nested 『…』, "…", ‘…’) that reads as a **statement**, not a term
  (see `is_statement`);
* a transcript turn: a passage under a speaker label line (the engine attaches such labels as `Passage.label`);
* a block quotation: a paragraph without quotation marks right after a paragraph that ends with a colon and a
  speech frame (用网友的话来说: / He wrote:).

Statement or term. Marks also set off terms, names and labels (“红色警报”, “Nano Banana”, the “AI winners”). A
quoted span is a statement when it has a clause of its own: it contains sentence or clause punctuation, or ends
a Chinese sentence inside the marks (。！？), or ends with ? or !; or it is presented as speech, i.e. attributed
right after the closing mark (“…,” he wrote / 」奥特曼坦言), introduced by a speech verb or a colon (表示:「…」,
said, “…”), or standing as a sentence of its own, and is long enough to be one (six Han characters, three or
four English words). A span that is part of the writer's own clause is a term even next to a speech verb: after
是/为/把/的 or a/the/called, before 的/之 or a lower-case noun (he said the gap was “insane”; a “code red” memo).
Such one-word or phrase fragments are not listed.

Attribution, in this order; the first that applies decides:

1. transcript turn: its label;
2. before: the subject of the last speech verb (说, 表示, 坦言, 称, 写道, 强调, 直言, 回应, 指出, 认为, 在 X 看来,
   X 的说法, said, wrote, told, ...) earlier in the quotation's sentence;
3. after: a subject and speech verb right after the closing mark (”X 说。, ”他说, ," he wrote, ," said X) or a
   dash (——X);
4. continuation: a quotation opening a sentence takes the speaker of the sentence before it (a speech verb's
   subject or an attributed quotation), or, at the start of a paragraph, of the last sentence of the paragraph
   before;
5. repeated: a pull-quote whose words appear inside an attributed quotation of the same document;
6. otherwise "unattributed".

A subject is the nearest speaker candidate before the verb in the same clause (an addressee after 对/向/跟, or
what the clause is about after 回应/针对, is skipped; in an English apposition the name wins over its
description): a glossary person or organisation (a person wins over an organisation in the same clause); a
pronoun (他/她/he/she: the nearest person named before it in the same document); a name the glossary does not
know (two to four capitalised English words not taken by titles or organisation words, and then its surname
alone; a Chinese name after a title such as 董事长 or 发言人, or with a middle dot, and then the same name
anywhere in the document); or an unnamed source (网友, 有人, 知情人士, an analyst, a spokeswoman, ...), which makes
the quotation unattributed rather than the nearest named person's. A speech verb right after a quotation whose
subject cannot be named also keeps it from being given to the previous speaker. Speakers are unified through
the glossary: every alias, in every script, gives the entry's canonical name, and titles and roles are left out
(OpenAI 創始人兼 CEO 薩姆·奧爾特曼 -> Sam Altman); a name the glossary does not know is one speaker in either
script (張勇 = 张勇). Wrong attributions are worse than none, so every rule prefers to leave a quotation
unattributed.

Ranking. A topic ranks quotations by BM25 over their sentences (the engine's analyzer, glossary concept terms and
query expansions, scored like `Engine.scores`).
"""

from __future__ import annotations

import bisect
import json
import logging
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.bm25 import BM25Index
from index.engine import Citation, Engine, clean_question
from index.errors import QuestionError, UserFacingError
from index.glossary import Entry, Glossary
from index.normalize import fold
from index.passages import Passage

log = logging.getLogger(__name__)

UNATTRIBUTED = "unattributed"
MAX_TOPIC_CHARS = 300
MAX_SPEAKER_CHARS = 100

# -- quotation marks --------------------------------------------------------------------------------------

_PAIRS = {"“": "”", "「": "」", "『": "』", '"': '"', "‘": "’", "'": "'", "«": "»"}
_STYLE = {"“": "curly", "「": "corner", "『": "corner", '"': "straight", "‘": "single", "'": "single", "«": "guillemet"}
_CLOSERS = set(_PAIRS.values())
_HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’\-]*")

# -- speech verbs (matched on folded text: simplified script, lower case) ----------------------------------

_CN_VERBS = (
    r"补充道|说道|写道|问道|答道|笑道|叹道|的话来说|的话说|的说法|"
    r"(?<![据听虽来小再所传学演解游劝瞎胡话])说(?![法服教明书好话不定到起谎笑唱])|"
    r"表示|坦言|坦承|承认|声称|宣称|(?<![堪名简职对昵俗被人统通声宣号自])称(?![为号之作霸呼心职赞])|"
    r"强调|直言|回应|指出|(?<!被)认为|透露|提到|谈到|补充|解释|告诉|询问|追问|反问|回答|评价|感叹|感慨|"
    r"呼吁|警告|表态|发文|发推|直呼|重申|坦白|提醒|预言|看来|援引|引述"
)
_EN_VERBS = (
    r"said|says|say|wrote|writes|told|tells|added|adds|explained|explains|noted|notes|argued|argues|asked|asks|"
    r"answered|replied|replies|responded|recalled|insisted|warned|declared|stated|tweeted|posted|claimed|"
    r"claims|admitted|acknowledged|conceded|remarked|observed|quipped|joked|continued|according to|put it"
)
_VERB_RE = re.compile(rf"(?:{_CN_VERBS})|\b(?:{_EN_VERBS})\b")
# English verbs whose subject may follow them: "said Altman", "according to Altman".
_INVERTED = {"said", "says", "wrote", "writes", "added", "asked", "according to", "continued"}

# Unnamed sources: a quotation attributed to one of these is unattributed, never the nearest named person's.
_UNNAMED_RE = re.compile(
    r"匿名网友|网友|有人|人们|知情人士|消息人士|业内人士|分析人士|观察人士|人士|分析师|专家|用户|官方|发言人|记者|"
    r"外界|媒体|主持人|读者|评论|消息|投资者|员工|研究人员|一位|一名|某位"
    r"|\b(?:an?\s+|one\s+|another\s+|some\s+|many\s+)?(?:analysts?|someone|people|critics|observers|"
    r"spokes(?:person|man|woman)|sources?|insiders?|experts?|users?|officials?|executives?|employees?|"
    r"reporters?|host|one|another)\b"
)
_PRONOUN_RE = re.compile(r"(?<![其吉利])[他她](?![们們人])|\b(?:he|she)\b")
_ADDRESSEE_RE = re.compile(r"(?:对|向|跟|给|与|和|同|告诉)\s*$")
# A name right after these is what the clause is about, not who speaks (OpenAI 在回应奥特曼的言论时表示).
_OBJECT_RE = re.compile(r"(?:回应|针对|关于|对于|批评|称赞|反驳|采访|邀请|感谢|质疑|支持|反对|谈及|提及|评论)了?\s*$")
_CLAUSE_PUNCT = set(',，;；:：。！？!?\n“”「」『』"')
_SENTENCE_END = set("。！？!?…")

# Titles before a new name (Chinese), and words that are not names (English).
_CN_TITLES = (
    "首席执行官|执行长|首席财务官|首席技术官|副总裁|总裁|董事长|董事|联合创始人|创始人|合伙人|发言人|负责人|"
    "主管|总监|经理|教授|研究员|分析师|工程师|科学家|记者|主编|编辑|作者|主席|部长|院长|校长|博士|律师|"
    "投资人|ceo|cfo|cto|coo"
)
# Common Chinese surnames (simplified): a new Chinese name must start with one, or be a transliteration with ·.
_CN_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施"
    "文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷"
    "盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷"
    "晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
_CN_COMPOUND_SURNAMES = "欧阳|司马|上官|诸葛|东方|皇甫|尉迟|公孙|慕容|令狐|长孙|宇文|司徒|夏侯"
_CN_PERSONAL = rf"(?:{_CN_COMPOUND_SURNAMES}|[{_CN_SURNAMES}])[\u4e00-\u9fff]{{1,2}}"
_CN_DOTTED = r"[\u4e00-\u9fff]{1,6}·[\u4e00-\u9fff]{1,8}"
_CN_NAME_RE = re.compile(rf"(?:{_CN_TITLES})\s*(?P<name>{_CN_DOTTED}|{_CN_PERSONAL})$|(?P<dotted>{_CN_DOTTED})$")
# A title followed by a name anywhere in a paragraph (鴻海董事長劉揚偉今日出席...): the name is two or three
# characters; three unless the third starts what follows the name (a time word, an adverb, a verb).
_CN_TITLED_RE = re.compile(rf"(?:{_CN_TITLES})\s*(?P<name>{_CN_DOTTED}|{_CN_PERSONAL})")
_CN_FOLLOWER_CHARS = "的和与及在于向对也则还又更曾亦再仍已将会仅只都就等说称"
_CN_FOLLOWER_RE = re.compile(
    rf"^(?:$|[\s,，。:：、(（{_CN_FOLLOWER_CHARS}]|今日|今天|昨日|昨天|日前|近日|稍早|此前|"
    r"随后|周[一二三四五六日末]|星期|礼拜|上午|下午|晚间|早前|当天|当日|[0-9一二三四五六七八九十]+[月日号]|"
    r"今年|去年|明年|前年|昨晚|今晚|今早|本周|上周|下周|本月|上月|近期|近来|日内|早些时候|目前|当时|随即|同时|"
    r"首次|再度|公开|近|"
    r"出席|接受|表示|指出|认为|强调|坦言|透露|回应|提到|谈到|告诉|承认|直言|写道|说|称|发表|发布|宣布)"
)
_CN_ADVERBS_RE = re.compile(
    r"(?:也|还|则|又|更|都|就|曾|亦|再次|随后|此前|此后|近日|日前|今天|昨天|公开|直接|专门|"
    r"[\u4e00-\u9fff]{1,3}地|[在于][^,，。、]{1,12})+$"
)
_EN_NAME_RE = re.compile(r"((?:[A-Z][a-z'’\-]+|[A-Z]\.)(?:\s+(?:[A-Z][a-z'’\-]+|[A-Z]\.|de|van|von|der|da)){0,3})\s*$")


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_EN_NOT_NAME = _word_set(
    "The A An He She It They We I You This That These Those But And Or In On At For Of To As By With From "
    "Mr Mrs Ms Dr Prof Professor Chief Executive Officer President Vice Director Chairman Chairwoman Founder "
    "Co-founder Head Senior General Manager Minister Secretary Senator Governor Judge Analyst Spokesperson "
    "Editor Reporter Host Partner Researcher Scientist Engineer CEO CFO CTO COO Last Next Then When While "
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July "
    "August September October November December Earlier Later Also Asked Speaking"
)
_EN_ORG_WORDS = _word_set(
    "Inc Corp Corporation Co Company LLC Ltd Group Holdings Bank Capital Funds Fund Partners Ventures Labs Lab "
    "University College School Institute Foundation Times Journal News Post Street Valley City County Search "
    "Studio Studios Research Technologies Technology Systems Media Network Press Agency Council Association "
    "Department Ministry Office House Senate Congress Court Police Airlines Motors Electronics Securities"
)
_EN_CANDIDATE_RE = re.compile(r"(?<![A-Za-z.'’])((?:[A-Z][a-z'’\-]+)(?:\s+[A-Z][a-z'’\-]+){1,5})(?![A-Za-z])")
_LABEL_ROLE_RE = re.compile(
    r"^(?:主持人|主播|嘉宾|嘉賓|记者|記者|host|guest|interviewer|moderator)[\s:：]*(\S.*)$", re.I
)
_EN_ADVERB_RE = re.compile(r"(?:\s+(?:also|later|then|once|recently|previously|reportedly|\w+ly))+\s*$")

# Terms: what may stand right before / after a quoted term inside the writer's own clause.
_TERM_BEFORE_CN = set("是为成叫作把从到对被像个种项的于在和与及或这那其之所谓")
_TERM_AFTER_CN = re.compile(r"^\s*(?:的|之|等|这|那|一词|二字|两字|状态|模式|信号|式|型|版|系列)")
_TERM_BEFORE_EN = re.compile(
    r"\b(?:a|an|the|its|his|her|their|our|my|your|this|these|those|that|called|named|dubbed|so-called|as|of|is|"
    r"are|was|were|be|been|being|into|from|to|and|or|for|with|by)\s*$",
    re.I,
)


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


_NOBODY = _Speaker(UNATTRIBUTED, "", "", named=False)
# A speech verb right after a quotation whose subject cannot be named: the quotation is someone's, not the
# previous speaker's, but that alone does not make a quoted term a quotation.
_UNKNOWN = _Speaker(UNATTRIBUTED, "", "?", named=False)


@dataclass(frozen=True)
class _Span:
    open: int  # index of the opening mark
    close: int  # index of the closing mark (exclusive end = close + 1); len(text) when unclosed
    mark: str

    @property
    def inner(self) -> tuple[int, int]:
        return self.open + 1, self.close

    @property
    def end(self) -> int:
        return self.close + 1


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

    def add_person(self, position: int, speaker: _Speaker) -> None:
        bisect.insort(self.persons, (position, speaker), key=lambda item: item[0])


# -- extraction -------------------------------------------------------------------------------------------


def _same_length_fold(text: str) -> str:
    """Folded text with the same length as `text`, so offsets are shared (for matching only)."""
    folded = fold(text)
    if len(folded) == len(text):
        return folded
    return "".join((fold(char) or char)[:1] for char in text)


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


def quote_spans(text: str) -> list[_Span]:
    """Outermost quoted spans of a paragraph. Nested spans (『…』 in 「…」) belong to the outer one. An opening
    mark never closed is ignored, except at the start of a paragraph (a quotation running over paragraphs)."""
    spans: list[_Span] = []
    position = 0
    length = len(text)
    while position < length:
        char = text[position]
        if char not in _PAIRS or not _opens(text, position):
            position += 1
            continue
        close = _closing(text, position)
        if close is None:
            if position == 0 or not text[:position].strip():
                spans.append(_Span(position, length, char))
                break
            position += 1
            continue
        spans.append(_Span(position, close, char))
        position = close + 1
    return spans


def _opens(text: str, position: int) -> bool:
    char = text[position]
    if char in "\"'‘":
        before = text[position - 1] if position else " "
        # A straight or single quote opens after space, punctuation or the start, not inside a word (it's).
        if before.isalnum():
            return False
        if char == "'":  # and a straight single quote only before a word ('The hype ...')
            return position + 1 < len(text) and text[position + 1].isalnum()
    return True


def _closing(text: str, position: int) -> int | None:
    opener = text[position]
    closer = _PAIRS[opener]
    depth = 0
    for index in range(position + 1, len(text)):
        char = text[index]
        if char == closer:
            if closer in "’'" and index + 1 < len(text) and text[index + 1].isalpha():
                continue  # an apostrophe (I’m), not the closing mark
            if closer == "'" and text[index - 1].isspace():
                continue
            if opener == closer or depth == 0:
                return index
            depth -= 1
        elif char == opener and opener != closer:
            depth += 1
        elif char == "\n" and opener in "\"'‘":
            return None
    return None


def _han(text: str) -> int:
    return len(_HAN_RE.findall(text))


def _words(text: str) -> int:
    return len(_WORD_RE.findall(text))


def _long_enough(text: str, han: int, words: int) -> bool:
    return _han(text) >= han or (not _han(text) and _words(text) >= words)


def is_statement(
    text: str, span: _Span, verbs: Sequence[tuple[int, int]], after_attributed: bool, glossary: Glossary | None = None
) -> bool:
    """Whether the quoted span reads as a statement (a quotation) rather than a term (see the module doc).
    `verbs`: (start, end) of speech verbs outside quotation marks in `text`; `after_attributed`: a speaker is
    named right after the closing mark; a span that is exactly a glossary name or term is a term."""
    start, stop = span.inner
    inner = text[start:stop].strip()
    if not inner:
        return False
    if glossary is not None and glossary.lookup(inner.rstrip(" ,.;:!?。，！？；：…、")) is not None:
        return False
    core = inner.rstrip(" ,.;:!?。，！？；：…、")
    before = text[: span.open].rstrip()
    after = text[span.end :] if span.close < len(text) else ""
    if span.close >= len(text):  # a quotation running on from the paragraph before
        return _long_enough(inner, 6, 4)
    if re.search(r"[。！？；，：…]", core) or re.search(r"[,.!?;:](?=\s|[A-Z\u3400-\u9fff])", core):
        return True
    if _han(inner) >= 4 and inner[-1] in "。！？!?":
        return True
    if not _han(inner) and inner[-1] in "!?" and _words(inner) >= 2:
        return True
    if after_attributed and (not before or before[-1] in _CLAUSE_PUNCT or before[-1] in _CLOSERS or before[-1] == "."):
        # Attributed right after and opening its own sentence or clause (“Holy shit,” he wrote).
        return _long_enough(inner, 2, 2)
    term_before = (before[-1:] in _TERM_BEFORE_CN) or bool(_TERM_BEFORE_EN.search(before))
    term_after = bool(_TERM_AFTER_CN.match(after)) or bool(re.match(r"^\s*[a-z]", after))
    if term_after:
        return False
    introduced = before.endswith((":", "：")) or any(
        end <= span.open
        and not re.search(r"[。！？!?“”「」\"]", text[end : span.open])
        and (before.endswith((",", "，")) or not text[end : span.open].strip())
        for _start, end in verbs
    )
    if introduced and not term_before:
        # Put right after the verb and closing the clause (表示「會持續投入」,): four Han characters are enough.
        attached = any(end == span.open for _start, end in verbs) and (
            not after.strip() or after.lstrip()[0] in _CLAUSE_PUNCT
        )
        return _long_enough(inner, 4 if attached else 6, 3)
    standalone_before = not before or before[-1] in _SENTENCE_END or before[-1] in _CLOSERS or before[-1] == "."
    standalone_after = (
        not after.strip()
        or after.lstrip()[:1] in _SENTENCE_END
        or bool(re.match(r"^\s*(?:[A-Z\u3400-\u9fff]|$)", after))
    )
    return standalone_before and standalone_after and _long_enough(inner, 6, 4)


class _Extractor:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.glossary = engine.glossary
        self.speaker_names: dict[str, _Speaker] = {}  # folded canonical -> speaker (for new names)

    # -- speakers ------------------------------------------------------------------------------------

    def entry_speaker(self, entry: Entry, written: str) -> _Speaker:
        return _Speaker(entry.canonical, written, entry.id)

    def new_name(self, written: str, state: _DocState) -> _Speaker:
        """A name the glossary does not know: unified by folding (and an English surname with its full name)."""
        key = fold(written).strip()
        if key in state.learned:
            known = state.learned[key]
            return _Speaker(known.canonical, written, known.entry_id)
        speaker = self.speaker_names.get(key) or _Speaker(written.strip(), written.strip())
        self.speaker_names.setdefault(key, speaker)
        state.learned[key] = speaker
        parts = written.split()
        if len(parts) > 1:
            state.learned.setdefault(fold(parts[-1]), speaker)
        if "·" in written:  # 蒂姆·库克 is later 库克
            state.learned.setdefault(fold(written.rsplit("·", 1)[1]), speaker)
        return _Speaker(speaker.canonical, written.strip(), speaker.entry_id)

    def is_org(self, speaker: _Speaker | None) -> bool:
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

    def document(self, units: Sequence[_Unit]) -> list[Quote]:
        state = _DocState()
        state.names = self.english_names(units)
        quotes: list[Quote] = []
        for unit in units:
            quotes.extend(self.unit(unit, state))
        return _resolve_repeats(quotes)

    def unit(self, unit: _Unit, state: _DocState) -> list[Quote]:
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

        spans = quote_spans(text)
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
            if is_statement(text, span, verbs, attributed, self.glossary):
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
            elif not text[s_start : span.open].strip():
                if sentence_index > 0:
                    p_start, p_end = sentences[sentence_index - 1]
                    previous = self.sentence_speaker(p_start, p_end, events, quotes, unit)
                else:
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
        if speaker is not None and speaker.named and not speaker.entry_id and not speaker.pronoun:
            # A new name is an antecedent for later pronouns, like a glossary person.
            state.add_person(unit.start + subject_start, speaker)
        return _Event(start, end, speaker, subject_start)

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
            candidates.append((match.start(), match.end(), self.antecedent(unit.start + match.start(), state)))
        for match in _UNNAMED_RE.finditer(masked, clause_start, verb_start):
            candidates.append((match.start(), match.end(), _NOBODY))
        new = self.new_name_before(text, clause_start, verb_start, state, apposition)
        if new is not None:
            candidates.append(new)
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
        while stop < min(len(text), verb_end + 60) and masked[stop] not in _CLAUSE_PUNCT and masked[stop] != ".":
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
            r"\s+((?:[A-Z][a-z'’\-]+|[A-Z]\.)(?:\s+(?:[A-Z][a-z'’\-]+|[A-Z]\.)){0,3})", text[verb_end:stop]
        )
        if match:
            name = _strip_titles(match.group(1))
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
        if m:
            group = "name" if m.group("name") else "dotted"
            name = original[m.start(group) : m.end(group)]
            following = _same_length_fold(text[clause_start + m.start(group) : clause_start + m.start(group) + 8])
            if "·" not in name and len(name) == 3 and self._word_at_third(following):
                return None  # 吴昊很: the third character is not part of a name
            if not self.glossary.lookup(name):
                return clause_start + m.start(group), clause_start + m.end(group), self.new_name(name, state)
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

    def antecedent(self, position: int, state: _DocState) -> _Speaker | None:
        """The person named nearest before `position` in the document."""
        index = bisect.bisect_left(state.persons, position, key=lambda item: item[0])
        if index == 0:
            return None
        best = state.persons[index - 1][1]
        return _Speaker(best.canonical, best.written, best.entry_id, pronoun=True)

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


def _mask(folded: str, spans: Iterable[tuple[int, int]]) -> str:
    """Folded text with quoted spans blanked (NUL), so verbs and names inside quotations are not read as the
    writer's."""
    chars = list(folded)
    for start, end in spans:
        for index in range(start, min(end, len(chars))):
            chars[index] = "\x00"
    return "".join(chars)


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


def vars_of(quote: Quote) -> dict[str, Any]:
    return {name: getattr(quote, name) for name in Quote.__dataclass_fields__}


def extract_quotes(engine: Engine) -> tuple[Quote, ...]:
    """Every quotation of the corpus, in document order."""
    extractor = _Extractor(engine)
    by_doc: dict[str, list[_Unit]] = {}
    for unit in _units(engine.passages):
        by_doc.setdefault(unit.doc_id, []).append(unit)
    quotes: list[Quote] = []
    for units in by_doc.values():
        quotes.extend(extractor.document(units))
    return tuple(quotes)


# -- the searchable index ---------------------------------------------------------------------------------


class QuoteIndex:
    """The quotations of one corpus version, their speakers, and a small BM25 index over their sentences.
    Build it once per engine (`QuoteIndex.build`, a fraction of a second for the seeds) and reuse it."""

    def __init__(self, engine: Engine, quotes: Sequence[Quote]) -> None:
        self.engine = engine
        self.version = engine.version
        self.quotes: tuple[Quote, ...] = tuple(quotes)
        counts = Counter(q.speaker for q in self.quotes if q.attributed)
        written: dict[str, dict[str, None]] = {}
        ids: dict[str, str] = {}
        for quote in self.quotes:
            if quote.attributed:
                written.setdefault(quote.speaker, {})[quote.speaker_as_written] = None
                ids.setdefault(quote.speaker, quote.speaker_id)
        self.speakers: tuple[SpeakerCount, ...] = tuple(
            SpeakerCount(name, count, ids[name], tuple(written[name]))
            for name, count in sorted(counts.items(), key=lambda item: (-item[1], item[0].lower()))
        )
        self.unattributed = sum(not q.attributed for q in self.quotes)
        self._by_key: dict[str, str] = {}
        for speaker in self.speakers:
            keys = {speaker.name, *speaker.written}
            entry = engine.glossary.by_id.get(speaker.entry_id) if speaker.entry_id else None
            if entry is not None:
                keys.update(entry.aliases)
            for key in keys:
                self._by_key.setdefault(_speaker_key(key), speaker.name)
        analyzer, glossary = engine.analyzer, engine.glossary
        self.bm25 = BM25Index.build(
            [analyzer.terms(q.context) + glossary.concept_terms(fold(q.context)) for q in self.quotes]
        )

    @classmethod
    def build(cls, engine: Engine) -> QuoteIndex:
        quotes = extract_quotes(engine)
        log.info("quotations: %d (%d attributed)", len(quotes), sum(q.attributed for q in quotes))
        return cls(engine, quotes)

    # -- speakers -------------------------------------------------------------------------------------

    def known_speakers(self, limit: int | None = None) -> str:
        """ "Sam Altman (11), 雷总 (10), ..." for messages."""
        names = [f"{s.name} ({s.count})" for s in self.speakers[:limit]]
        if limit is not None and len(self.speakers) > limit:
            names.append(f"and {len(self.speakers) - limit} more")
        return ", ".join(names) if names else "none"

    def resolve_speaker(self, name: str) -> str:
        """The canonical speaker for any alias, script or spelling of a known speaker's name, with titles and
        roles left out (OpenAI CEO Sam Altman, 奧爾特曼, altman -> Sam Altman); "unattributed" for the
        quotations without a speaker. Raises UserFacingError naming the known speakers otherwise."""
        cleaned = clean_question(name)[:MAX_SPEAKER_CHARS]
        if not cleaned:
            raise UserFacingError(f"Which speaker? Known speakers: {self.known_speakers(20)}.")
        if _speaker_key(cleaned) == UNATTRIBUTED:
            return UNATTRIBUTED
        found = self._by_key.get(_speaker_key(cleaned)) or self._partial_speaker(cleaned)
        if found:
            return found
        glossary = self.engine.glossary
        entry = glossary.lookup(cleaned)
        if entry is None:
            # A name with a title or role (OpenAI CEO Sam Altman): the one person it names, else the one org.
            named = {m.entry.id: m.entry for m in glossary.find(cleaned) if m.entry.kind in ("person", "org")}
            people = [e for e in named.values() if e.kind == "person"]
            if len(people) == 1:
                entry = people[0]
            elif len(named) == 1:
                entry = next(iter(named.values()))
        if entry is not None:
            if entry.canonical in {s.name for s in self.speakers}:
                return entry.canonical
            raise UserFacingError(
                f"The corpus quotes no words of {entry.canonical}. Known speakers: {self.known_speakers(20)}."
            )
        raise UserFacingError(f"No speaker called “{cleaned}”. Known speakers: {self.known_speakers(20)}.")

    def _partial_speaker(self, name: str) -> str | None:
        """The one known speaker a part of a name points to: a whole word of a Latin name (Nick -> Nick Turley),
        or two or more Han characters of a Chinese one (奥尔 -> Sam Altman)."""
        key = _speaker_key(name)
        if _han(key) >= 2:
            matches = {speaker for alias, speaker in self._by_key.items() if key in alias}
        elif re.fullmatch(r"[a-z0-9]{2,}", key):
            matches = {
                speaker.name
                for speaker in self.speakers
                if key
                in {fold(word) for form in (speaker.name, *speaker.written) for word in re.split(r"[\s·.\-]+", form)}
            }
        else:
            return None
        return next(iter(matches)) if len(matches) == 1 else None

    def autocomplete(self, partial: str, limit: int = 25) -> list[tuple[str, str]]:
        """(label, value) choices for a speaker option: known speakers whose name or any alias contains what
        was typed, most quoted first. Labels are at most 100 characters."""
        key = _speaker_key(partial)
        choices: list[tuple[str, str]] = []
        for speaker in self.speakers:
            keys = [k for k, v in self._by_key.items() if v == speaker.name]
            if key and not any(key in k for k in keys):
                continue
            noun = "quotation" if speaker.count == 1 else "quotations"
            label = f"{speaker.name} ({speaker.count} {noun})"
            choices.append((label[:100], speaker.name[:100]))
            if len(choices) >= limit:
                break
        return choices

    # -- search ---------------------------------------------------------------------------------------

    def search(
        self, topic: str | None = None, speaker: str | None = None, limit: int | None = None, offset: int = 0
    ) -> QuoteResult:
        """Quotations by `speaker` (any alias) about `topic` (ranked by BM25), or all of a speaker's in document
        order, or everyone's on a topic. At least one of the two is needed."""
        topic = clean_question(topic or "")[:MAX_TOPIC_CHARS] or None
        speaker_text = (speaker or "").strip() or None
        if topic is None and speaker_text is None:
            raise QuestionError("Give a speaker, a topic, or both, e.g. speaker “Sam Altman”, topic “code red”.")
        canonical = self.resolve_speaker(speaker_text) if speaker_text is not None else None
        pool = [i for i, q in enumerate(self.quotes) if canonical is None or q.speaker == canonical]
        scores = np.zeros(len(self.quotes))
        if topic is not None:
            query = self.engine.analyze(topic)
            if not query.concepts and not query.extra:
                raise QuestionError("I found no words to search for in that topic. Try a word or a name.")
            scores, matched = self._scores(query)
            pool = [i for i in pool if matched[i]]
            pool.sort(key=lambda i: (-scores[i], i))
        message = ""
        if not pool:
            who = f" by {canonical}" if canonical else ""
            about = f" about “{topic}”" if topic else ""
            message = f"No quotations{who}{about}."
            if canonical and topic:
                message += f" {canonical} is quoted {self._count(canonical)} times; try without a topic."
        page = pool[offset : offset + limit] if limit is not None else pool[offset:]
        hits = tuple(
            QuoteHit(offset + rank + 1, self.quotes[i], self._citations(self.quotes[i]), round(float(scores[i]), 6))
            for rank, i in enumerate(page)
        )
        return QuoteResult(canonical, topic, hits, len(pool), message)

    def _count(self, canonical: str) -> int:
        return next((s.count for s in self.speakers if s.name == canonical), 0)

    def _scores(self, query: Any) -> tuple[np.ndarray, np.ndarray]:
        """BM25 over quotation sentences, each question concept scored by the best of its literal term and its
        weighted expansions (as Engine.scores does over passages)."""
        bm25 = self.bm25
        scores = np.zeros(bm25.n_docs, dtype=np.float64)
        matched = np.zeros(bm25.n_docs, dtype=bool)
        for concept in query.concepts:
            best = np.zeros(bm25.n_docs, dtype=np.float64)
            ids, weights = bm25.postings(concept.term)
            best[ids] = weights
            if concept.unit:
                matched[ids] = True
            for term, factor in concept.expansions:
                e_ids, e_weights = bm25.postings(term)
                best[e_ids] = np.maximum(best[e_ids], factor * e_weights)
                if concept.unit and term.startswith("@"):
                    matched[e_ids] = True
            scores += best
        for term, factor in query.extra:
            ids, weights = bm25.postings(term)
            scores[ids] += factor * weights
            matched[ids] = True
        return scores, matched

    def _citations(self, quote: Quote) -> tuple[Citation, ...]:
        passage = self.engine.passages[quote.pid]
        citations = [self.engine.citation(passage)]
        for location in passage.duplicates:
            citation = self.engine.citation(location)
            if citation not in citations:
                citations.append(citation)
        return tuple(citations)


def _speaker_key(name: str) -> str:
    return re.sub(r"[\s·・.\-_'’]+", "", fold(name))


def find_quotes(
    engine: Engine, topic: str | None = None, speaker: str | None = None, index: QuoteIndex | None = None
) -> QuoteResult:
    """One-shot search (the CLI): builds the index unless one for this engine version is given."""
    if index is None or index.version != engine.version:
        index = QuoteIndex.build(engine)
    return index.search(topic=topic, speaker=speaker)


# -- output -----------------------------------------------------------------------------------------------


def to_json(result: QuoteResult) -> dict[str, Any]:
    """{"speaker", "topic", "quotes": [{"quote", "speaker", "speaker_as_written", "doc_id", "passage", "context"}]}"""
    return {
        "speaker": result.speaker,
        "topic": result.topic,
        "quotes": [
            {
                "quote": hit.quote.text,
                "speaker": hit.quote.speaker,
                "speaker_as_written": hit.quote.speaker_as_written,
                "doc_id": hit.quote.doc_id,
                "passage": hit.quote.pid,
                "context": hit.quote.context,
            }
            for hit in result.hits
        ],
    }


def speaker_line(quote: Quote) -> str:
    """ "Sam Altman (as 奧爾特曼)" / "unattributed"."""
    if not quote.attributed:
        return UNATTRIBUTED
    if quote.speaker_as_written and _speaker_key(quote.speaker_as_written) != _speaker_key(quote.speaker):
        return f"{quote.speaker} (as {quote.speaker_as_written})"
    return quote.speaker


def format_text(result: QuoteResult) -> str:
    """Plain terminal text: numbered quotations, each with its speaker, sentence and citation."""
    if not result.hits:
        return result.message or "No quotations."
    about = []
    if result.speaker:
        about.append(f"by {result.speaker}")
    if result.topic:
        about.append(f"about “{result.topic}”")
    noun = "quotation" if result.total == 1 else "quotations"
    lines = [f"{result.total} {noun} {' '.join(about)}".rstrip(), ""]
    for hit in result.hits:
        quote = hit.quote
        lines.append(f"[{hit.rank}] {quote.text}")
        lines.append(f"    — {speaker_line(quote)}")
        if quote.context != quote.text:
            lines.append(f"    in: {quote.context}")
        for citation in hit.citations:
            lines.append(f"    {citation.label()}")
        lines.append("")
    return "\n".join(lines).rstrip()


# -- evaluation -------------------------------------------------------------------------------------------


def _read_gold(path: Path) -> list[dict[str, Any]]:
    rows = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UserFacingError(f"{path}:{line_no}: not JSON ({exc.msg})") from exc
        if not isinstance(row, dict) or not {"doc_id", "quote", "speaker"} <= row.keys():
            raise UserFacingError(f"{path}:{line_no}: each line needs doc_id, quote and speaker")
        rows.append(row)
    return rows


def _same_quote(a: str, b: str) -> bool:
    """The same quotation: one's words contain the other's, and the shorter has at least half the length."""
    x, y = _normalized(a), _normalized(b)
    if not x or not y:
        return False
    short, long = sorted((x, y), key=len)
    return short in long and len(short) >= 0.5 * len(long)


def evaluate(engine: Engine, path: Path, index: QuoteIndex | None = None) -> dict[str, Any]:
    """Precision and recall of extraction plus attribution against an annotated list (JSON lines: doc_id,
    quote, speaker, optional kind: "quote" (default) or "fragment", which is not scored).

    A predicted quotation is correct when it is an annotated quotation (same document, same words) with the
    annotated speaker; precision = correct / predicted, recall = correct / annotated. Also reported:
    extraction alone, wrong speakers (a named speaker that is not the annotated one) and quotations left
    unattributed although the annotation names a speaker."""
    gold_rows = _read_gold(path)
    gold = [row for row in gold_rows if row.get("kind", "quote") == "quote"]
    quotes = list(index.quotes if index is not None else extract_quotes(engine))
    docs = {row["doc_id"] for row in gold_rows}
    predicted = [q for q in quotes if q.doc_id in docs]
    used: set[int] = set()
    correct = extracted = wrong = missing_speaker = 0
    errors: list[dict[str, Any]] = []
    for g_index, row in enumerate(gold):
        match = next(
            (
                i
                for i, q in enumerate(predicted)
                if i not in used and q.doc_id == row["doc_id"] and _same_quote(q.text, row["quote"])
            ),
            None,
        )
        if match is None:
            errors.append({"error": "missed", "gold": g_index, "quote": row["quote"][:80], "speaker": row["speaker"]})
            continue
        used.add(match)
        extracted += 1
        quote = predicted[match]
        if quote.speaker == row["speaker"]:
            correct += 1
        elif quote.attributed:
            wrong += 1
            errors.append(
                {"error": "wrong speaker", "quote": row["quote"][:80], "speaker": row["speaker"], "got": quote.speaker}
            )
        else:
            missing_speaker += 1
            errors.append({"error": "unattributed", "quote": row["quote"][:80], "speaker": row["speaker"]})
    for i, quote in enumerate(predicted):
        if i not in used:
            errors.append({"error": "not a quotation", "quote": quote.text[:80], "got": quote.speaker})
    n_pred, n_gold = len(predicted), len(gold)
    attributed = [q for i, q in enumerate(predicted) if i in used and q.attributed]
    return {
        "annotated": n_gold,
        "predicted": n_pred,
        "precision": round(correct / n_pred, 3) if n_pred else None,
        "recall": round(correct / n_gold, 3) if n_gold else None,
        "extraction_precision": round(extracted / n_pred, 3) if n_pred else None,
        "extraction_recall": round(extracted / n_gold, 3) if n_gold else None,
        "attribution_accuracy": round(correct / extracted, 3) if extracted else None,
        "named_speaker_precision": round((len(attributed) - wrong) / len(attributed), 3) if attributed else None,
        "correct": correct,
        "wrong_speaker": wrong,
        "unattributed_but_named": missing_speaker,
        "errors": errors,
    }


def format_evaluation(report: dict[str, Any]) -> str:
    lines = [
        f"quotations: {report['annotated']} annotated, {report['predicted']} extracted",
        f"extraction + attribution: precision {report['precision']}, recall {report['recall']}",
        f"extraction only:          precision {report['extraction_precision']}, recall {report['extraction_recall']}",
        f"attribution of extracted quotations: {report['attribution_accuracy']} correct; "
        f"{report['wrong_speaker']} wrong speaker, {report['unattributed_but_named']} left unattributed; "
        f"named-speaker precision {report['named_speaker_precision']}",
    ]
    for error in report["errors"]:
        got = f" (got {error['got']})" if "got" in error else ""
        want = f" [{error['speaker']}]" if "speaker" in error else ""
        lines.append(f"  {error['error']}: {error['quote']}{want}{got}")
    return "\n".join(lines)
