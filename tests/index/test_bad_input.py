"""Broken documents for /quote and /timeline: unbalanced quotation marks, a quotation to the end of the file,
impossible dates and years, a megabyte paragraph without punctuation. Each loads, nothing swallows the rest of
its document, and the document is named in a warning. The big input is generated here, never committed."""

from __future__ import annotations

import logging

import pytest

from index.corpus import load_corpus
from index.engine import Engine
from index.quotes import MAX_QUOTE_CHARS, QuoteIndex
from index.timeline import build_index

DOCUMENTS = {
    "unbalanced.txt": (
        "Council votes on the bridge\nExample Gazette, published 2024-05-16\n\n"
        "Mayor Lina Ortiz said “we will rebuild the bridge, and everything after this mark is not a quotation.\n\n"
        "The council met on Tuesday. “It is done,” Ortiz said after the vote.\n"
    ),
    "to_the_end.txt": (
        "A quotation that never ends\nExample Gazette, published 2024-05-16\n\n"
        "The harbour reopened on Monday.\n\n"
        "“This quotation has no closing mark and runs to the end of the file, past the date of May 3, 2024\n"
    ),
    "bad_dates.txt": (
        "日期错误\n示例日报，2024-05-16\n\n"
        "公司称新品于2月30日发布。The launch on Feb. 30 was cancelled. 档案写着0000年和99999年。"
        "The firm was founded in 1998.\n"
    ),
    "huge.txt": (
        "A megabyte paragraph\nExample Gazette, published 2024-05-16\n\n"
        + "数据流量持续增长" * 125_000  # 1,000,000 characters, no punctuation at all
        + "\n\n“It still works,” engineer Tom Reyes said on Wednesday.\n"
    ),
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[QuoteIndex, object, str]:
    folder = tmp_path_factory.mktemp("broken")
    for name, text in DOCUMENTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    handler = _Capture()
    logging.getLogger("index").addHandler(handler)
    try:
        broken = Engine.from_documents(load_corpus(folder).documents, workers=1)
        quotes = QuoteIndex.build(broken)
        timeline = build_index(broken)
    finally:
        logging.getLogger("index").removeHandler(handler)
    return quotes, timeline, "\n".join(handler.messages)


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_no_quotation_swallows_its_document(built) -> None:
    quotes, _timeline, _log = built
    assert all(len(q.text) <= MAX_QUOTE_CHARS for q in quotes.quotes)
    texts = {q.text: q for q in quotes.quotes}
    assert texts["It is done,"].speaker == "Lina Ortiz"  # found after the unbalanced mark of the paragraph before
    assert texts["It still works,"].speaker == "Tom Reyes"  # after the megabyte paragraph
    assert not any(q.text.startswith(("we will rebuild", "This quotation has no closing")) for q in quotes.quotes)


def test_no_event_from_an_impossible_date(built) -> None:
    _quotes, timeline, _log = built
    dates = {(r.doc_id, r.date.iso) for event in timeline.events for r in event.reports}
    assert ("bad_dates", "1998") in dates
    assert not any(doc == "bad_dates" and iso != "1998" for doc, iso in dates)
    assert ("huge", "2024-05-15") in dates  # "on Wednesday" of the article dated Thursday 2024-05-16
    assert ("unbalanced", "2024-05-14") in dates  # "on Tuesday", in the paragraph after the unbalanced mark


def test_each_broken_document_is_named_in_a_warning(built) -> None:
    _quotes, _timeline, log = built
    assert "quotations in unbalanced" in log and "not closed" in log
    assert "quotations in to_the_end" in log
    assert "dates in bad_dates" in log and "2月30日" in log and "Feb. 30" in log and "99999年" in log
    assert "0000年" in log
    # The megabyte paragraph is cut into passages when the index is built, and named there.
    assert "huge: paragraph 3 has 1,000,000 characters and no sentence end" in log
