from datetime import date

from index.digest import build_digest, digest_to_json, format_digest_text, passage_key


def test_digest_sections_are_cited_and_verbatim(engine):
    some_doc = next(iter(engine.documents))
    digest = build_digest(
        engine,
        day=date(2025, 12, 20),
        topics=["Sora", "算力"],
        new_documents=[some_doc],
        unanswered=[("Who won the 2022 World Cup?", 3)],
    )
    kinds = [s.kind for s in digest.sections]
    assert kinds == ["new_documents", "topic", "topic", "gaps"]
    texts = {p.text for p in engine.passages}
    for section in digest.sections[:3]:
        for item in section.items:
            assert item.citation is not None
            assert any(item.text in text for text in texts)
    assert digest.sections[3].items[0].note == "asked 3×"
    payload = digest_to_json(digest)
    assert payload["date"] == "2025-12-20" and len(payload["sections"]) == 4
    assert "## Sora" in format_digest_text(digest)


def test_no_passage_is_repeated_within_the_window(engine):
    first = build_digest(engine, day=date(2025, 12, 20), topics=["Sora"])
    second = build_digest(engine, day=date(2025, 12, 21), topics=["Sora"], posted_recently=set(first.keys))
    assert first.keys and not set(first.keys) & set(second.keys)
    assert all(key.startswith("passage:") for key in first.keys)


def test_default_topics_are_the_corpus_main_topics(engine):
    digest = build_digest(engine, day=date(2025, 12, 20))
    assert [s.title for s in digest.sections] == engine.topics[: len(digest.sections)]


def test_an_empty_digest_says_so(engine):
    everything = {passage_key(p.doc_id, p.start) for p in engine.passages}
    digest = build_digest(engine, day=date(2025, 12, 20), topics=["Sora"], posted_recently=everything)
    assert digest.empty and "nothing new" in format_digest_text(digest)
