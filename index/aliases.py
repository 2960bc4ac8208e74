"""Aliases: the names and terms a corpus pairs itself, and lenient matching of person names.

News gives a foreign name once in both forms and then uses one of them: 史東（Steve Stone）, 萨姆·奥特曼(Sam
Altman), 臺積電 (TSMC), 「火眼」（FireEye）, Taiwan Semiconductor Manufacturing Co. (TSMC), 台湾积体电路制造公司
（台积电）, 中国劳工观察（以下简称“劳工观察”）. `AliasTable.build` reads those pairings from the documents when
the index is built, joins them with the glossary's entries, and answers two questions for any command:

* `forms(name)`: every form the corpus (or the glossary) gives the same thing, in the text's own spelling;
* `canonical(name)`: one name for that thing (the glossary's canonical name, else the fullest Latin form, else
  the longest form), or the name itself, without honorifics, when the corpus pairs it with nothing.

Person names are compared leniently (`same_person`, `AliasTable.same`): honorifics are ignored (Mr., Ms., Dr.,
先生, 女士), a surname alone is the full name ("Esper" = "Mark Esper", 奥特曼 = 萨姆·奥特曼, "Mr. Cook" = "Tim
Cook"), and a Chinese surname with an honorific is the full name it starts (任先生 = 任正非). A bare one-character
Chinese surname is never a name. Matching runs on folded text (NFKC, traditional -> simplified, lower case), so
史東 = 史东 and ＴＳＭＣ = TSMC.

How a pairing's Han side is delimited. In "美國網絡安全公司火眼高級副總裁史東（Steve Stone）" nothing in the
script marks where the name starts. The name is the longest ending of the Han run before the bracket (2 to 8
characters) that the same document uses again elsewhere (news names a person or company more than once); when
no ending recurs, the run is cut after the last function word, title or quotation mark and kept to 8
characters. A Latin side is a capitalised word run or an acronym; an acronym after a Latin phrase must match the
phrase's initials (Schwartz and Hearst's rule); a Han short form after a Han phrase must take its characters in
order from it. A form paired with two things of one script that nothing else links (公司（Apple） and 公司（Google）)
is ambiguous and dropped, so one bad pairing never merges two names.

Cost: one regular-expression scan per document plus a substring count per candidate ending, on the text as
written (folding whole documents cost 70 times the scan): DRCD dev's 1,000 paragraphs, 450k characters, in
10 ms. The table is plain data (`to_json` / `from_json`) so an index can store it.
This module knows nothing about quotations or questions; /quote, /ask and /timeline build on it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from index.glossary import Glossary
from index.normalize import fold

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_DOT = "·・•‧."  # the middle dots written inside transliterated names (and a full stop some writers use)
_OPEN_BRACKET = "（("
_CLOSE_BRACKET = "）)"

# -- honorifics and person-name keys ------------------------------------------------------------------------

_EN_HONORIFICS = r"(?:mr|mrs|ms|miss|mx|dr|prof|professor|sir|dame|madam|madame|mister|rev|gen|sen|rep|gov)\.?"
_EN_HONORIFIC_RE = re.compile(rf"^(?:{_EN_HONORIFICS}\s+)+", re.I)
_EN_SUFFIX_RE = re.compile(r",?\s+(?:jr|sr|ii|iii|iv)\.?$", re.I)
_ZH_HONORIFICS = ("先生", "女士", "小姐", "太太", "夫人", "博士", "教授", "老师", "师傅", "阁下", "同志")
_ZH_HONORIFIC_RE = re.compile(rf"(?:{'|'.join(_ZH_HONORIFICS)})$")
_COMPOUND_SURNAMES = (
    "欧阳",
    "司马",
    "上官",
    "诸葛",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "令狐",
    "长孙",
    "宇文",
    "司徒",
    "夏侯",
)
_LATIN_TOKEN_RE = re.compile(r"[a-z0-9][a-z0-9'’\-]*\.?")
_HAN_RE = re.compile(rf"[{_HAN}]")


def _is_han(text: str) -> bool:
    return bool(_HAN_RE.search(text))


def _clean(name: str) -> str:
    """Folded, outer punctuation and white space removed, inner white space collapsed."""
    folded = fold(name)
    folded = re.sub(r"\s+", " ", folded).strip(" \t\"'“”‘’「」『』《》()（）[]【】,，:：;；")
    return folded


def strip_honorifics(name: str) -> str:
    """The name without honorifics before it (Mr., Ms., Dr.) or after it (先生, 女士, 博士), as written."""
    stripped = _EN_HONORIFIC_RE.sub("", name.strip())
    stripped = _EN_SUFFIX_RE.sub("", stripped)
    if _is_han(stripped):
        without = _ZH_HONORIFIC_RE.sub("", fold(stripped))
        if len(without) >= 1 and without != fold(stripped):
            stripped = stripped[: len(without)]
    return stripped.strip() or name.strip()


@dataclass(frozen=True, slots=True)
class NameKey:
    """A person name reduced for comparison: folded full form, surname, and whether it is only a surname."""

    full: str
    surname: str
    surname_only: bool
    han: bool


def name_key(name: str) -> NameKey:
    """How `same_person` sees a name. Latin: the last word is the surname ("Mark Esper" -> esper). Han with a
    middle dot: the last part (萨姆·奥特曼 -> 奥特曼). Han written with an honorific (任先生): its surname, and
    it stands only for a surname. Other Han names are compared whole."""
    written = name.strip()
    honorific_zh = _is_han(written) and bool(_ZH_HONORIFIC_RE.search(fold(written)))
    full = _clean(strip_honorifics(written))
    if not _is_han(full):
        tokens = [t.rstrip(".") for t in _LATIN_TOKEN_RE.findall(full)]
        if not tokens:
            return NameKey(full, full, True, False)
        return NameKey(" ".join(tokens), tokens[-1], len(tokens) == 1, False)
    parts = [p for p in re.split(rf"[{_DOT}\s]+", full) if p]
    if len(parts) > 1:
        return NameKey("".join(parts), parts[-1], False, True)
    if honorific_zh:
        surname = next((s for s in _COMPOUND_SURNAMES if full.startswith(s)), full[:1])
        return NameKey(full, surname if len(full) <= len(surname) else full, len(full) <= len(surname), True)
    return NameKey(full, full, False, True)


def same_person(a: str, b: str) -> bool:
    """Two written names can be the same person: equal without honorifics, or one is the other's surname
    ("Esper" / "Mark Esper", "Mr. Cook" / "Tim Cook", 奥特曼 / 萨姆·奥特曼, 任先生 / 任正非), or both full names
    with the same surname and a first name one abbreviates ("T. Cook" / "Tim Cook")."""
    x, y = name_key(a), name_key(b)
    if not x.full or not y.full:
        return False
    if x.full == y.full:
        return True
    if x.han != y.han:
        return False
    if x.han:
        # 奥特曼 / 萨姆·奥特曼: a surname part; 任先生 / 任正非: a surname with an honorific.
        for short, long in ((x, y), (y, x)):
            if short.surname_only and len(long.full) > len(short.surname) and long.full.startswith(short.surname):
                return not long.surname_only
            if short.full == long.surname and short.full != long.full and len(short.full) >= 2:
                return True
        return False
    if x.surname != y.surname:
        return False
    if x.surname_only or y.surname_only:
        return True
    first_x, first_y = x.full.split()[0], y.full.split()[0]
    return (
        first_x == first_y
        or (len(first_x) == 1 and first_y.startswith(first_x))
        or (len(first_y) == 1 and first_x.startswith(first_y))
    )


# -- pairings read from text --------------------------------------------------------------------------------

# Where a Han name cannot start: after these characters (function words, verbs of saying, titles' last
# characters are handled by _TITLES).
_HAN_BREAK_CHARS = set("的是在和与及由被将对向从为称说了等、，。：；！？「」『』“”《》（）()的之于以把给跟同据按")
# ... and the last characters of verbs that often stand right before a name (据悉, 表示, 指出, 报道, 执导).
_BEFORE_NAME_CHARS = _HAN_BREAK_CHARS | set("悉示出到道闻导演")
_TITLES = (
    "首席执行官|执行长|首席财务官|首席技术官|高级副总裁|资深副总裁|副总裁|总裁|董事长|董事|联合创始人|创始人|"
    "合伙人|发言人|负责人|主管|总监|经理|教授|研究员|分析师|工程师|科学家|记者|主编|编辑|作者|主席|部长|国务卿|"
    "总统|总理|首相|院长|校长|博士|律师|投资人|专家|官员|大使|局长|处长|司令|将军|议员|公司|集团|机构|组织|"
    "大学|学院|媒体|网站|报|社"
)
_TITLE_END_RE = re.compile(rf"(?:{_TITLES})")
# A Han form that is only a generic head is never an alias of a specific name.
_GENERIC = frozenset(
    fold(w)
    for w in (  # noqa: SIM905
        "公司 集团 政府 部门 机构 组织 大学 媒体 网站 平台 软件 系统 产品 技术 芯片 手机 用户 官员 专家 发言人 "
        "研究人员 总统 总理 报告 声明 调查 国家 美国 中国 香港 台湾 日本 英国 以下简称 简称 下称 下同 全称 即 "
        "英文 英语 中文 原名 又名 本名 音译 译名 注"
    ).split()
)
_NAME_PARTICLES = "of|and|for|the|de|van|von|der|du|al|bin|la|le"
_CLOSE_QUOTE = '」』”"’'
_OPEN_QUOTE = '「『“"‘'
# Every pattern is read around an opening bracket (a scan from every character of a megabyte of Han text would
# cost seconds): what stands before it, and what the brackets hold.
_WHOLE_DOCUMENT_CHARS = 30_000
_BRACKET_RE = re.compile(rf"[{_OPEN_BRACKET}]")
_LATIN_WORD = r"[A-Z][A-Za-z0-9&'’.\-]*"
# 史東（Steve Stone）, 「火眼」（FireEye）, 臺積電 (TSMC): a Han run before, a Latin name inside.
_HAN_BEFORE_RE = re.compile(rf"(?P<han>[{_HAN}{_DOT}]{{1,24}})[{_CLOSE_QUOTE}]?\s*$")
_LATIN_INSIDE_RE = re.compile(
    rf"[{_OPEN_BRACKET}]\s*(?P<latin>{_LATIN_WORD}(?:[ \t]+(?:{_LATIN_WORD}|{_NAME_PARTICLES})){{0,7}})"
    rf"\s*[{_CLOSE_BRACKET}]"
)
# Steve Stone（史東）, FireEye (火眼): a Latin name before, a Han name inside.
_LATIN_BEFORE_RE = re.compile(rf"(?P<latin>{_LATIN_WORD}(?:[ \t]+{_LATIN_WORD}){{0,5}})[{_CLOSE_QUOTE}]?\s*$")
_HAN_INSIDE_RE = re.compile(rf"[{_OPEN_BRACKET}]\s*(?P<han>[{_HAN}{_DOT}]{{2,12}})\s*[{_CLOSE_BRACKET}]")
# Taiwan Semiconductor Manufacturing Co. (TSMC): the acronym; its long form is found by `_acronym_long_form`.
_ACRONYM_RE = re.compile(
    rf"[{_OPEN_BRACKET}]\s*(?P<acronym>[A-Z][A-Za-z&]{{0,2}}[A-Z][A-Za-z&]{{0,8}})\s*[{_CLOSE_BRACKET}]"
)
# 台湾积体电路制造公司（台积电）, 中国劳工观察（以下简称“劳工观察”）: a Han short form inside.
_SHORT_INSIDE_RE = re.compile(
    rf"[{_OPEN_BRACKET}]\s*(?:(?:以下|下文)?(?:简称|簡稱|下称|下稱|称|稱)(?:为|為)?\s*)?[{_OPEN_QUOTE}]?"
    rf"(?P<short>[{_HAN}]{{2,8}})[{_CLOSE_QUOTE}]?\s*[{_CLOSE_BRACKET}]"
)
_LATIN_STOP_WORDS = frozenset({"the", "a", "an", "in", "on", "at", "by", "to", "of", "and", "for", "with", "from"})


@dataclass(frozen=True, slots=True)
class Pairing:
    """Two forms a text gives the same thing, as written, and how they were paired."""

    first: str
    second: str
    rule: str  # han-latin, latin-han, acronym, han-short


def _han_form(run: str, document: str) -> str:
    """The name at the end of a Han run (see the module docstring): the longest ending of 2-8 characters that
    the document uses again (as written), else the run cut after its last break character or title, at most 8."""
    folded_run = fold(run)
    for length in range(min(8, len(folded_run)), 1, -1):
        ending = folded_run[-length:]
        if any(c in _HAN_BREAK_CHARS for c in ending) or ending in _GENERIC:
            continue
        if ending[0] in _DOT:
            continue
        # Counted in the text as written (a document writes one script; folding a whole document per build cost
        # more than the rest of the scan): the ending as the run writes it.
        if document.count(run[len(run) - length :]) >= 2:
            start = len(run) - length
            for match in _TITLE_END_RE.finditer(ending):  # 分析专家萨顿 recurs whole: the name follows the title
                if match.end() <= length - 2:
                    start = max(start, len(run) - length + match.end())
            return _with_given_name(run, start)
    cut = 0
    for index, char in enumerate(folded_run):
        if char in _BEFORE_NAME_CHARS:
            cut = index + 1
    for match in _TITLE_END_RE.finditer(folded_run):
        if match.end() < len(folded_run):
            cut = max(cut, match.end())
    form = run[cut:]
    return form[-8:] if len(form) > 8 else form


def _with_given_name(run: str, start: int) -> str:
    """A transliterated surname keeps the given name written before it with a middle dot (萨姆·韦伯): up to four
    characters, cut after a break character, a title or another dot."""
    if start < 2 or run[start - 1] not in _DOT:
        return run[start:]
    prefix = fold(run[: start - 1])
    given = max(0, len(prefix) - 4)
    for index in range(given, len(prefix)):
        if prefix[index] in _BEFORE_NAME_CHARS or prefix[index] in _DOT:
            given = index + 1
    for match in _TITLE_END_RE.finditer(prefix):
        if given <= match.end() < len(prefix) or (match.start() < given < match.end()):
            given = max(given, match.end())
    return run[given:] if given < len(prefix) else run[start:]


def _latin_name(phrase: str) -> str:
    """A Latin phrase without leading small words or sentence-initial articles."""
    words = phrase.split()
    while words and words[0].lower() in _LATIN_STOP_WORDS:
        words.pop(0)
    while words and words[-1].lower() in _LATIN_STOP_WORDS:
        words.pop()
    return " ".join(words).rstrip(".,")


def _acronym_long_form(before: str, acronym: str) -> str | None:
    """Schwartz and Hearst's long form: the shortest run of preceding words (at most min(|A| + 5, 2|A|))
    whose characters contain the acronym's letters in order, the first letter starting a word."""
    words = re.findall(r"[A-Za-z][A-Za-z0-9&'’.\-]*", before[-200:])
    if not words or not before.rstrip().endswith(tuple(words[-1:])):
        return None
    letters = [c.lower() for c in acronym if c.isalnum()]
    limit = min(len(letters) + 5, 2 * len(letters))
    for count in range(1, min(limit, len(words)) + 1):
        candidate = words[-count:]
        if candidate[0].lower() in _LATIN_STOP_WORDS or candidate[0][0].lower() != letters[0]:
            continue
        if not candidate[0][0].isupper():
            continue
        text = " ".join(candidate).lower()
        position = len(text)
        ok = True
        for index, letter in enumerate(reversed(letters)):
            position = text.rfind(letter, 0, position)
            if index == len(letters) - 1:  # the first letter starts a word
                while position > 0 and text[position - 1] != " ":
                    position = text.rfind(letter, 0, position)
            if position < 0:
                ok = False
                break
        if ok and position == 0:
            long_form = " ".join(candidate)
            if long_form.lower() != acronym.lower() and len(candidate) >= 2:
                return long_form.rstrip(".,")
    return None


def _in_order(short: str, long: str) -> int | None:
    """Where the long form starts when `short`'s characters appear in order in `long`'s ending, its first
    character starting it; None otherwise."""
    folded_short, folded_long = fold(short), fold(long)
    start = folded_long.rfind(folded_short[0])
    while start >= 0:
        position = start
        ok = True
        for char in folded_short[1:]:
            position = folded_long.find(char, position + 1)
            if position < 0:
                ok = False
                break
        if ok:
            return start
        start = folded_long.rfind(folded_short[0], 0, start)
    return None


def pairings(document: str) -> list[Pairing]:
    """The pairings one document makes (see the module docstring)."""
    found: list[Pairing] = []
    for bracket in _BRACKET_RE.finditer(document):
        at = bracket.start()
        before = document[max(0, at - 80) : at]
        han_before = _HAN_BEFORE_RE.search(before, max(0, len(before) - 30))
        latin_inside = _LATIN_INSIDE_RE.match(document, at)
        if han_before and latin_inside:
            # Recurrence is counted in the document, or around the bracket in a very long one (news names a
            # person again within a few paragraphs; counting a megabyte per bracket would be quadratic).
            window = (
                document
                if len(document) <= _WHOLE_DOCUMENT_CHARS
                else document[max(0, at - _WHOLE_DOCUMENT_CHARS // 2) : at + _WHOLE_DOCUMENT_CHARS // 2]
            )
            han = _han_form(han_before.group("han"), window)
            latin = _latin_name(latin_inside.group("latin"))
            if len(fold(han)) >= 2 and latin and fold(han) not in _GENERIC:
                found.append(Pairing(han, latin, "han-latin"))
        latin_before = _LATIN_BEFORE_RE.search(before)
        han_inside = _HAN_INSIDE_RE.match(document, at)
        if latin_before and han_inside:
            latin, han = _latin_name(latin_before.group("latin")), han_inside.group("han")
            if latin and fold(han) not in _GENERIC and not any(c in _HAN_BREAK_CHARS for c in fold(han)):
                found.append(Pairing(latin, han, "latin-han"))
        acronym = _ACRONYM_RE.match(document, at)
        if acronym:
            long_form = _acronym_long_form(document[max(0, at - 200) : at], acronym.group("acronym"))
            if long_form:
                found.append(Pairing(long_form, acronym.group("acronym"), "acronym"))
        short_inside = _SHORT_INSIDE_RE.match(document, at)
        if han_before and short_inside:
            short, run = short_inside.group("short"), han_before.group("han")
            start = _in_order(short, run) if fold(short) not in _GENERIC and fold(short) != fold(run) else None
            if start is not None and len(run) - start > len(short) and len(run) >= 3:
                found.append(Pairing(run[start:], short, "han-short"))
    return found


# -- the table ----------------------------------------------------------------------------------------------


class AliasTable:
    """Groups of forms that name the same thing, from the corpus' own pairings and the glossary.

    Build it once per corpus version (`AliasTable.build(documents, glossary)`); lookups are dictionary reads
    (plus, for a name the table does not hold, a scan of the forms sharing its surname)."""

    def __init__(self, pairs: Iterable[Pairing] = (), glossary: Glossary | None = None) -> None:
        self.pairs: tuple[Pairing, ...] = tuple(pairs)
        self.glossary = glossary if glossary is not None else Glossary(())
        self._written: dict[str, str] = {}  # folded form -> first written form
        parent: dict[str, str] = {}

        def find(key: str) -> str:
            while parent.setdefault(key, key) != key:
                parent[key] = parent[parent[key]]
                key = parent[key]
            return key

        def union(a: str, b: str) -> None:
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)

        canonical_of: dict[str, str] = {}
        for entry in self.glossary.entries:
            keys = [_clean(a) for a in (entry.canonical, *entry.aliases) if _clean(a)]
            for key, written in zip(keys, (entry.canonical, *entry.aliases), strict=False):
                self._written.setdefault(key, written)
                union(keys[0], key)
            if keys:
                canonical_of[keys[0]] = entry.canonical
        # A form paired with things that nothing else links is ambiguous: its pairings are dropped.
        partners: dict[str, set[str]] = defaultdict(set)
        for pair in self.pairs:
            a, b = _clean(pair.first), _clean(pair.second)
            if a and b and a != b:
                partners[a].add(b)
                partners[b].add(a)
        # (Two partners in different scripts are fine: 台积电 = TSMC = 台湾积体电路制造公司.)
        ambiguous = set()
        for form, others in partners.items():
            for script in (True, False):
                same_script = {o for o in others if _is_han(o) is script}
                if len(same_script) > 1 and not self._all_linked(same_script, partners, form):
                    ambiguous.add(form)
        for pair in self.pairs:
            a, b = _clean(pair.first), _clean(pair.second)
            if not a or not b or a in ambiguous or b in ambiguous:
                continue
            self._written.setdefault(a, pair.first.strip())
            self._written.setdefault(b, pair.second.strip())
            union(a, b)
        groups: dict[str, list[str]] = defaultdict(list)
        for key in self._written:
            groups[find(key)].append(key)
        self._group: dict[str, str] = {}
        self._members: dict[str, tuple[str, ...]] = {}
        self._canonical: dict[str, str] = {}
        for root, members in groups.items():
            self._members[root] = tuple(sorted(members))
            for member in members:
                self._group[member] = root
            glossary_name = next((canonical_of[m] for m in members if m in canonical_of), None)
            self._canonical[root] = glossary_name or self._choose_canonical([self._written[m] for m in members])
        self._han_keys = tuple(key for key in self._written if _is_han(key))
        self._by_surname: dict[str, list[str]] = defaultdict(list)
        for key, written in self._written.items():
            self._by_surname[name_key(written).surname].append(key)

    @staticmethod
    def _all_linked(others: set[str], partners: dict[str, set[str]], through: str) -> bool:
        """Whether the forms paired with `through` are linked to each other without it (or are one person)."""
        others_list = sorted(others)
        first = others_list[0]
        seen, stack = {first}, [first]
        while stack:
            for nxt in partners.get(stack.pop(), ()):
                if nxt != through and nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return all(o in seen or same_person(first, o) for o in others_list)

    @staticmethod
    def _choose_canonical(written: Sequence[str]) -> str:
        """The fullest Latin form (most words, then longest), else the longest form."""
        latin = [w for w in written if not _is_han(w)]
        if latin:
            return max(latin, key=lambda w: (len(w.split()), len(w), w))
        return max(written, key=lambda w: (len(w), w))

    @classmethod
    def build(cls, documents: Iterable[str], glossary: Glossary | None = None) -> AliasTable:
        """The table of a corpus: the pairings of every document (each string one document's text)."""
        pairs: list[Pairing] = []
        for document in documents:
            pairs.extend(pairings(document))
        return cls(pairs, glossary)

    def _root(self, name: str) -> str | None:
        key = _clean(name)
        if key in self._group:
            return self._group[key]
        stripped = _clean(strip_honorifics(name))
        if stripped in self._group:
            return self._group[stripped]
        entry = self.glossary.lookup(name) if len(self.glossary) else None
        if entry is not None:
            return self._group.get(_clean(entry.canonical))
        # A surname, or a full name of which the table has the surname: lenient, and only when unambiguous.
        roots = {
            self._group[other]
            for other in self._by_surname.get(name_key(name).surname, ())
            if same_person(name, self._written[other])
        }
        if not roots and _is_han(stripped) and len(stripped) >= 2:
            # A Han form read with a word before the name (枪手法鲁克) still answers for the name (法鲁克).
            roots = {
                self._group[key]
                for key in self._han_keys
                if key.endswith(stripped) and 0 < len(key) - len(stripped) <= 3 and stripped not in _GENERIC
            }
        return roots.pop() if len(roots) == 1 else None

    def forms(self, name: str) -> tuple[str, ...]:
        """Every form of the same thing, as first written (the name itself first), glossary aliases included."""
        root = self._root(name)
        if root is None:
            return (name.strip(),)
        forms = [name.strip()]
        forms.extend(self._written[m] for m in self._members[root] if _clean(self._written[m]) != _clean(name))
        return tuple(dict.fromkeys(forms))

    def canonical(self, name: str) -> str:
        """The group's canonical name; for a name the table does not know, the name without honorifics."""
        root = self._root(name)
        return self._canonical[root] if root is not None else strip_honorifics(name)

    def same(self, a: str, b: str) -> bool:
        """Whether two names are the same person or thing: one group, or `same_person` on any of their forms."""
        ra, rb = self._root(a), self._root(b)
        if ra is not None and ra == rb:
            return True
        return any(same_person(x, y) for x in self.forms(a) for y in self.forms(b))

    def groups(self) -> list[tuple[str, ...]]:
        """Every group of two or more forms, each form as first written (in a stable order)."""
        return [
            tuple(self._written[m] for m in members) for _, members in sorted(self._members.items()) if len(members) > 1
        ]

    def known(self, name: str) -> bool:
        return self._root(name) is not None

    def __len__(self) -> int:
        return len(self._members)

    def to_json(self) -> list[list[str]]:
        return [[p.first, p.second, p.rule] for p in self.pairs]

    @classmethod
    def from_json(cls, data: Any, glossary: Glossary | None = None) -> AliasTable:
        return cls((Pairing(str(a), str(b), str(rule)) for a, b, rule in data), glossary)
