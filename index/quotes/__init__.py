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
2. before: the subject of the last speech verb (说, 表示, 坦言, 称, 写道, 强调, 直言, 回应, 指出, 认为, 透露, 披露,
   建议, Hong Kong 指 / 話 / 講, 在 X 看来, X 的说法, said, wrote, told, recounted, weighed in, ...) earlier in
   the quotation's sentence;
3. after: a subject and speech verb right after the closing mark (”X 说。, ”他说, ," he wrote, ," said X,
   ," said Mr. Cook) or a dash (——X);
4. continuation: a quotation opening a sentence, or closing a sentence of reported speech that has no speech
   verb and names nobody, takes the speaker of the sentence before it (a speech verb's subject or an
   attributed quotation; up to three sentences back in the paragraph), or, at the start of a paragraph, of the
   last sentence of the paragraph before (a quotation running over paragraphs: news opens each paragraph with a
   mark and closes only the last);
5. repeated: a pull-quote whose words appear inside an attributed quotation of the same document;
6. otherwise "unattributed".

A subject is the nearest speaker candidate before the verb in the same clause, once time words, places,
addressees and manners are set aside (任正非周二在深圳接受美联社访问时表示, 艾伟告诉记者, 萨顿（H I Sutton）撰文说;
an addressee after 对/向/跟, or what the clause is about after 回应/针对, is never the subject; in an English
apposition the name wins over its description): a glossary person or organisation (a person wins over an
organisation in the same clause); a pronoun (他/她/佢/he/she: the person who spoke last within two paragraphs,
unless someone is named after that speech in the pronoun's own paragraph; else the person named nearest before
it); a name the glossary does not know (two to four capitalised English words not taken by titles or
organisation words, and then its surname alone, with or without Mr./Ms.; a Chinese name after a title such as
董事长, 发言人, 院士, 国务卿, 专家, also a transliteration that starts with no Chinese surname (国务卿蓬佩奥), or
with a middle dot, or a surname with an honorific (何太, 陳生, 王先生), and then the same name anywhere in the
document); an organisation (a name-like head with a suffix that says what body it is: 苹果公司表示, 美国商务部称;
该公司 is no name); a name in quotation marks right before the verb (「火眼」表示); or an unnamed source (网友, 有人,
知情人士, an analyst, a spokeswoman, the mayor, ...), which makes the quotation unattributed rather than the
nearest named person's. A speech verb right after a quotation whose subject cannot be named also keeps it from
being given to the previous speaker. Speakers are unified through the glossary and the corpus' own pairings
(`index.aliases.AliasTable`: 史東（Steve Stone）makes 史東 Steve Stone): every alias, in every script, gives one
canonical name, and titles and roles are left out (OpenAI 創始人兼 CEO 薩姆·奧爾特曼 -> Sam Altman); a name the
table does not know is one speaker in either script (張勇 = 张勇). Wrong attributions are worse than none, so
every rule prefers to leave a quotation unattributed.

Bad input. An unclosed mark that the next paragraph does not continue, or a span over MAX_QUOTE_CHARS, is no
quotation; a paragraph of LONG_PARAGRAPH_CHARS or more without a sentence end is read all the same. Each is
named, with its document, in one warning per document.

The package: `marks` (spans, statement or term), `lexicon` (the words news uses), `speakers` (who is the
subject of a speech verb), `extraction` (the rules above, per document), `model` (results), `search` (the
index, speakers by alias, BM25 over quotations, output).

Ranking. A topic ranks quotations by BM25 over their sentences (the engine's analyzer, glossary concept terms and
query expansions, scored like `Engine.scores`).
"""

from index.quotes.extraction import LONG_PARAGRAPH_CHARS, corpus_aliases, extract_quotes
from index.quotes.marks import MAX_QUOTE_CHARS, is_statement, quote_spans
from index.quotes.model import UNATTRIBUTED, Quote, QuoteHit, QuoteResult, SpeakerCount
from index.quotes.search import (
    MAX_SPEAKER_CHARS,
    MAX_TOPIC_CHARS,
    QuoteIndex,
    find_quotes,
    format_text,
    speaker_line,
    to_json,
)

__all__ = [
    "LONG_PARAGRAPH_CHARS",
    "MAX_QUOTE_CHARS",
    "MAX_SPEAKER_CHARS",
    "MAX_TOPIC_CHARS",
    "UNATTRIBUTED",
    "Quote",
    "QuoteHit",
    "QuoteIndex",
    "QuoteResult",
    "SpeakerCount",
    "corpus_aliases",
    "extract_quotes",
    "find_quotes",
    "format_text",
    "is_statement",
    "quote_spans",
    "speaker_line",
    "to_json",
]
