"""Help channels, as rules over text: what a post asks, whether a message reads as a question, whether an answer
is sure enough to post on its own, and which forum tag means "solved". Pure and synchronous; no Discord.

A forum post is asked by its title and its first message (`post_question`). A message in a help text channel is a
question when it reads as one (`reads_as_question`): it ends with a question mark (? or ？), or it opens the way
each language opens a question:

* English: a wh-word (what, who, why, how ...), or an auxiliary verb followed by its subject ("Is the price
  ...", "Does anyone know ...", "Can Apple ..."). The subject is what tells a question from a statement that
  also starts with an auxiliary: "Will do", "Can confirm", "Have a nice day" have none. Auxiliaries that also
  start imperatives ("Do the ...", "Have the ...") need a pronoun subject.
* Chinese (simplified and traditional) and Cantonese: an interrogative word at the start (为什么 / 為什麼, 怎么,
  如何, 哪, 谁 / 誰, 是否, 有没有, 请问; 點解, 點樣, 乜嘢, 邊個, 幾時, 係咪, 有冇 ...), except where the same
  characters start an ordinary word (几乎 "almost", 哪怕 "even if", 多少有 "somewhat"). Chinese leaves its
  question words where the answer would stand ("这个价格是多少", "OpenAI 为什么要暂停 Sora"), so an
  interrogative later in the message counts too, unless it is embedded in a statement ("我不知道为什么" "I don't
  know why", "无论如何" "in any case") or part of an indefinite ("什么都行" "anything goes", "谁都" "anyone").
  A sentence-final question particle (吗 / 嗎, 咩) marks a yes/no question.

Anything else (chat, thanks, a link, an emoji) is not a question, so the bot stays out of the conversation.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from index.normalize import fold

MIN_CONFIDENCE = ("high", "low")
DEFAULT_MIN_CONFIDENCE = "high"

_CUSTOM_EMOJI = re.compile(r"<a?:\w{1,32}:\d{1,20}>")
_URL = re.compile(r"https?://\S+")
_WORD = re.compile(r"[^\W\d_]", re.UNICODE)

# fmt: off
_WH_WORDS = frozenset([
    "what", "what's", "whats", "who", "who's", "whos", "whom", "whose", "when", "where", "why", "which", "how",
    "how's", "hows",
])
# Auxiliaries that start a yes/no question when their subject follows. Those that never start an imperative may
# be followed by a determiner or a name; "do", "have" and "had" start imperatives or statements ("Do the
# dishes", "Have a look", "Had a great time") and need a pronoun.
_AUX_ANY_SUBJECT = frozenset([
    "is", "are", "was", "were", "am", "isn't", "aren't", "wasn't", "weren't", "does", "doesn't", "did", "didn't",
    "has", "hasn't", "can", "can't", "could", "couldn't", "should", "shouldn't", "would", "wouldn't", "will",
    "won't", "shall", "may", "might", "must",
])
_AUX_PRONOUN_SUBJECT = frozenset(["do", "don't", "have", "haven't", "had", "hadn't"])
_PRONOUNS = frozenset([
    "i", "you", "he", "she", "it", "we", "they", "there", "this", "that", "these", "those", "anyone", "anybody",
    "someone", "somebody", "everyone", "everybody", "one", "u", "ya", "y'all",
])
_DETERMINERS = frozenset([
    "the", "a", "an", "my", "your", "our", "their", "his", "her", "its", "any", "some", "no", "every", "each", "all",
])
# fmt: on

# Interrogatives that open a Chinese or Cantonese question (folded to simplified).
# fmt: off
_ZH_OPENERS = (
    "为什么", "为何", "怎么", "怎样", "如何", "哪", "谁", "什么", "几时", "几", "多少", "是否", "是不是", "有没有",
    "能否", "可否", "能不能", "可不可以", "会不会", "请问", "点解", "点样", "点先", "乜嘢", "乜", "咩", "边个",
    "边度", "边间", "边", "几多", "系咪", "系唔系", "有冇", "可唔可以", "会唔会",
)
# fmt: on
# Ordinary words that begin with an interrogative's characters.
_ZH_NOT_OPENERS = ("几乎", "哪怕", "多少有", "多少也", "多少还", "谁知", "边缘", "边境", "边界", "什么都", "怎么都")
_ZH_FINAL_PARTICLES = re.compile("(?:吗|咩|(?<![什怎这那多要])么)$")
# Interrogatives that ask wherever they stand in the sentence, and the statements and indefinites that contain
# them without asking.
_ZH_IN_SITU = re.compile(
    "为什么|为何|怎么|怎样|如何|哪|谁|什么|多少|多久|多长时间|多远|多大|多高|多贵|是否|是不是|有没有|点解|点样|乜嘢"
    "|边个|边度|边间|几时|几多|几点|几号|几岁|几耐|几钱|系咪|有冇"
)
_ZH_NOT_ASKING = re.compile(
    "(?:不知道|不晓得|不清楚|不管|无论|不论|无所谓|没什么|没有什么|冇乜|唔知)"
    "|什么都|什么也|什么的|怎么都|怎么也|谁都|谁也|哪儿都|哪里都|哪都|或多或少|多少有|多少也|不如何|如何是好"
)
_TRAILING = re.compile(r"[\s\W_]+$", re.UNICODE)


def _strip_decoration(text: str) -> str:
    """Remove custom emoji, links, and trailing emoji / symbols, keeping the words and punctuation."""
    text = _CUSTOM_EMOJI.sub(" ", text)
    text = _URL.sub(" ", text)
    return "".join(c for c in text if unicodedata.category(c) not in ("So", "Sk", "Cs", "Co", "Cn")).strip()


def has_words(text: str) -> bool:
    """True when `text` has at least one letter or Han character (not only emoji, digits or punctuation)."""
    return bool(_WORD.search(_strip_decoration(text)))


def reads_as_question(text: str) -> bool:
    """Whether a chat message reads as a question (see the module docstring for the rules)."""
    plain = _strip_decoration(text)
    if not _WORD.search(plain):
        return False
    if re.search(r"[?？]\W*$", plain):
        return True
    folded = fold(plain)
    words = re.findall(r"[a-z0-9']+|[^\W\d_a-z]", folded)
    if words and words[0] in _WH_WORDS:  # "why", "how come", "what about the fees"
        return True
    if len(words) >= 3 and _asks_with_auxiliary(plain):
        return True
    head = folded.lstrip(" \"'“‘「『(（[【")
    if any(head.startswith(opener) for opener in _ZH_OPENERS) and not any(
        head.startswith(word) for word in _ZH_NOT_OPENERS
    ):
        return True
    if _ZH_NOT_ASKING.search(folded):
        return False
    if _ZH_IN_SITU.search(folded):
        return True
    tail = _TRAILING.sub("", folded)
    return len(tail) >= 3 and bool(_ZH_FINAL_PARTICLES.search(tail))


def _asks_with_auxiliary(plain: str) -> bool:
    tokens = re.findall(r"[A-Za-z']+|\S", plain.lstrip(" \"'“‘(["))
    if len(tokens) < 2:
        return False
    first, second = tokens[0].lower().replace("’", "'"), tokens[1]
    subject = second.lower()
    if first in _AUX_PRONOUN_SUBJECT:
        return subject in _PRONOUNS
    if first in _AUX_ANY_SUBJECT:
        named = second[:1].isupper() and second.lower() != "not"
        return subject in _PRONOUNS or subject in _DETERMINERS or named or second[:1].isdigit()
    return False


LONG_BODY = 400
_SENTENCE = re.compile(r"[^.!?。！？\n]+(?:[.!?。！？]+|\n|$)")


@dataclass(frozen=True)
class PostQuestion:
    """What a post asks: `text` for the engine (title and first message, within `limit`), and whether only part
    of the message was read (a long one: its questions, or its beginning)."""

    text: str
    truncated: bool


def post_question(title: str, body: str, limit: int) -> PostQuestion:
    """The question of a forum post (title and first message) or of a chat message (no title).

    The title comes first. A body that repeats the title (many people type the question twice) or that the title
    already contains is not read twice. A long body (over LONG_BODY characters) usually tells a story around one
    or two questions: when it has sentences that end with a question mark, those are what it asks. Otherwise, or
    when they are still too long, the text is cut at a sentence or word end to keep within `limit` characters
    (the engine's question limit).
    """
    title = " ".join(_CUSTOM_EMOJI.sub(" ", title or "").split())
    body = " ".join(_CUSTOM_EMOJI.sub(" ", body or "").split())
    if not has_words(title):
        title = ""
    if not has_words(body):
        body = ""
    shortened = False
    if len(body) > LONG_BODY:
        asked = [s.strip() for s in _SENTENCE.findall(body) if re.search(r"[?？]\s*$", s.strip())]
        if asked:
            body, shortened = " ".join(asked), True
    if title and body:
        folded_title, folded_body = fold(title), fold(body)
        if folded_title in folded_body:
            title = ""
        elif folded_body in folded_title:
            body = ""
    text = f"{title} — {body}" if title and body else title or body
    if len(text) <= limit:
        return PostQuestion(text, shortened)
    return PostQuestion(_cut(text, limit), True)


def _cut(text: str, limit: int) -> str:
    head = text[:limit]
    for mark in ("。", "？", "?", "！", "!", ". ", "\n"):
        end = head.rfind(mark)
        if end >= limit // 2:
            return head[: end + len(mark.rstrip())].strip()
    space = head.rfind(" ")
    return (head[:space] if space >= limit // 2 else head).strip()


def sure_enough(abstained: bool, confidence: str, min_confidence: str) -> bool:
    """Whether an answer may be posted on its own: never after an abstention; at `min_confidence` "high" only a
    high-confidence answer, at "low" a low one too."""
    if abstained:
        return False
    if min_confidence == "low":
        return confidence in ("high", "low")
    return confidence == "high"


_SOLVED_NAMES = frozenset(
    ("solved", "resolved", "answered", "fixed", "done", "已解决", "已回答", "解决", "已完成", "解决了")
)
_SOLVED_EMOJI = frozenset(("✅", "✔️", "✔", "☑️", "☑"))


def is_solved_tag(name: str, emoji: str | None = None) -> bool:
    """Whether a forum tag means "solved": by its name in English or Chinese (any script, case, emoji or
    punctuation around it), or by a check-mark emoji."""
    key = re.sub(r"[\W_]+", "", fold(_strip_decoration(name)))
    return key in _SOLVED_NAMES or (emoji or "") in _SOLVED_EMOJI
