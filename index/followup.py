"""Follow-up questions: how a question leans on the previous turn of the same conversation.

Pure rules, no storage. Given the new question and the previous turn's searched query, `resolve` decides:

- ``more``: "more", "next", "更多", "继续"... continues the previous result list (the caller excludes passages
  already shown);
- ``swap``: "what about Google?", "那谷歌呢?", "and Gemini?" replaces the previous question's subject (a
  glossary entity, preferring one of the same kind) with the new one: "OpenAI 的估值是多少" -> "Google 的估值是多少";
- ``followup``: a question with a pronoun (他, she, they...) or with no words of its own ("why?", "为什么")
  keeps the previous subject as context terms searched at a lower weight;
- ``new``: anything else.

Every follow-up resolves against the previous turn as it was *resolved*: its query and the context it was
searched with. So "What is code red?" -> "why?" -> "why?" keeps "code red" as the subject at the third turn, and
"更多" after "他后来怎么说" pages that question together with its subject, not the bare words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.glossary import Glossary, Mention
from index.normalize import fold
from index.tokenize import Analyzer

_MORE = {
    "more",
    "more please",
    "next",
    "next page",
    "continue",
    "go on",
    "more results",
    "tell me more",
    "更多",
    "还有",
    "还有吗",
    "还有呢",
    "继续",
    "下一页",
    "再来",
    "再多一些",
    "多一点",
}
_SWAP = (
    re.compile(r"^(?:what|how)\s+about\s+(?P<subject>.+?)$"),
    re.compile(r"^and\s+(?P<subject>.+?)$"),
    re.compile(r"^(?:那|那么|还有)?(?P<subject>.+?)(?:呢|怎么样|如何)$"),
)
_PRONOUN_ZH = re.compile(r"(?<!其)[他她它](?!人|国|山)|这家公司|该公司|此人|这个人|对方")
_PRONOUN_EN = re.compile(r"\b(?:he|she|it|they|him|her|them|his|its|their|this|that|these|those)\b")


@dataclass(frozen=True)
class Resolution:
    kind: str  # "new", "followup", "swap" or "more"
    query: str  # what to search
    context: str = ""  # previous subject, searched at a lower weight (followup)
    understood: str = ""  # how the question was understood, shown when it was rewritten

    @property
    def rewritten(self) -> bool:
        return self.kind != "new"


def _key(text: str) -> str:
    return re.sub(r"[\s\W_]+", " ", fold(text)).strip()


def _subjects(glossary: Glossary, text: str) -> list[Mention]:
    """Outermost glossary mentions of a text (not the ones inside a longer mention)."""
    mentions = sorted(glossary.find(text), key=lambda m: (m.start, -(m.end - m.start)))
    outer: list[Mention] = []
    for mention in mentions:
        if outer and mention.start < outer[-1].end:
            continue
        outer.append(mention)
    return outer


def _label(query: str, context: str) -> str:
    return f"{query} (about {context})" if context else query


def _swap_in(text: str, subjects: list[Mention], subject_text: str, new_subjects: list[Mention]) -> str:
    """`text` with its subject (one of the same kind as the new one, else the first) replaced by `subject_text`."""
    wanted_kind = new_subjects[0].entry.kind if new_subjects else None
    target = next((m for m in subjects if m.entry.kind == wanted_kind), subjects[0])
    return text[: target.start] + subject_text + text[target.end :]


def resolve(
    question: str,
    previous_query: str | None,
    glossary: Glossary,
    analyzer: Analyzer,
    previous_context: str = "",
) -> Resolution:
    """How to search `question` given the previous turn of the same conversation: the query it searched and the
    context (subject) it searched with (None if there was no previous turn)."""
    key = _key(question)
    if key in _MORE:
        if previous_query is None:
            return Resolution("more", "")
        label = _label(previous_query, previous_context)
        return Resolution("more", previous_query, previous_context, understood=f"more results for “{label}”")
    if previous_query is None:
        return Resolution("new", question)
    previous_subjects = _subjects(glossary, previous_query)
    context_subjects = _subjects(glossary, previous_context) if previous_context else []
    for pattern in _SWAP:
        match = pattern.match(key)
        if not match:
            continue
        subject_text = match.group("subject").strip()
        if not subject_text or len(subject_text) > 40:
            break
        new_subjects = _subjects(glossary, subject_text)
        spans = [span for span in analyzer.spans(subject_text) if not analyzer.is_stopword(span.term)]
        outside = [s for s in spans if not any(m.start <= s.start and s.end <= m.end for m in new_subjects)]
        # A swap names one subject, not a whole new question ("OpenAI 为什么要暂停 Sora 呢" is a new question):
        # after "what about" / before "呢" stands one named thing, or at most two plain words.
        one_named = len(new_subjects) == 1 and not outside
        plain = not new_subjects and len(spans) <= 2
        if not spans or not (one_named or plain):
            break
        if previous_subjects:
            rewritten = _swap_in(previous_query, previous_subjects, subject_text, new_subjects)
            return Resolution("swap", rewritten, understood=rewritten)
        if context_subjects:  # the previous turn was a follow-up: its subject lives in its context
            context = _swap_in(previous_context, context_subjects, subject_text, new_subjects)
            return Resolution("swap", previous_query, context, understood=_label(previous_query, context))
        rewritten = f"{subject_text} {previous_query}"
        return Resolution("swap", rewritten, understood=rewritten)
    folded = fold(question)
    if not re.search(r"[^\W\d_]", folded):  # no word at all (emoji, punctuation): nothing to follow up on
        return Resolution("new", question)
    own_terms = analyzer.terms(question)
    has_pronoun = bool(_PRONOUN_ZH.search(folded) or _PRONOUN_EN.search(folded))
    if has_pronoun or not own_terms:
        parts = [previous_query[m.start : m.end] for m in previous_subjects]
        if previous_context and previous_context not in parts:
            parts.append(previous_context)
        subject = " ".join(dict.fromkeys(parts)) or previous_query
        return Resolution("followup", question, context=subject, understood=f"{question} (about {subject})")
    return Resolution("new", question)
