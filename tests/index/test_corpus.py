import subprocess
import sys

import pytest

from index.corpus import full_dates, load_corpus
from index.errors import CorpusError

from ..conftest import ROOT, SEEDS


def test_seed_catalog_fields_come_from_the_catalog():
    loaded = load_corpus(SEEDS)
    assert len(loaded.documents) == 5 and not loaded.skipped
    for doc in loaded.documents:
        info = doc.info
        assert info.title and info.date and info.languages
        assert info.origins["title"] == "catalog" and info.origins["date"] == "catalog"
        assert len(info.date) == 10 and info.date.startswith("2025-12")


def test_bad_documents_are_skipped_with_a_warning_naming_the_file(tmp_path, caplog):
    (tmp_path / "good.md").write_text("# 好的文档\n\nOpenAI 发布了 GPT-5.2。\n", encoding="utf-8")
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 au lait".encode("latin-1"))
    (tmp_path / "empty.txt").write_text("  \n\n", encoding="utf-8")
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\x00\x00\x01")
    (tmp_path / "notes.csv").write_text("not a document", encoding="utf-8")
    loaded = load_corpus(tmp_path)
    assert [d.doc_id for d in loaded.documents] == ["good"]
    skipped = {p.name: why for p, why in loaded.skipped}
    assert set(skipped) == {"latin1.txt", "empty.txt", "binary.txt"}
    assert "not UTF-8" in skipped["latin1.txt"] and "binary" in skipped["binary.txt"]
    for name in skipped:
        assert name in caplog.text


def test_front_matter_and_inference(tmp_path):
    (tmp_path / "a.md").write_text(
        "---\ntitle: Front Title\nsource: Example Daily\nlanguage: en\n---\nBody text. Published 2025-12-03.\n",
        encoding="utf-8",
    )
    (tmp_path / "b.txt").write_text(
        "![]()\n▲\n真正的标题在这里\n2025 年 11 月 30 日发生了一件事,后来 2025/12/10 又有进展。\n", encoding="utf-8"
    )
    docs = {d.doc_id: d.info for d in load_corpus(tmp_path).documents}
    a, b = docs["a"], docs["b"]
    assert (a.title, a.source, a.languages) == ("Front Title", "Example Daily", ("en",))
    assert a.origins["title"] == "front matter" and a.date == "2025-12-03" and a.origins["date"] == "inferred"
    assert b.title == "真正的标题在这里" and b.origins["title"] == "inferred"
    assert b.date == "2025-12-10" and b.languages == ("zh-Hans",) and b.origins["source"] == "unknown"


def test_front_matter_offsets_point_into_the_file(tmp_path):
    from index.passages import split_document

    text = "---\ntitle: T\n---\n第一段。\n第二段。\n"
    (tmp_path / "c.txt").write_text(text, encoding="utf-8")
    doc = load_corpus(tmp_path).documents[0]
    passages = split_document(doc.doc_id, doc.text, doc.body_start)
    assert [text[p.start : p.end] for p in passages] == ["第一段。", "第二段。"]


def test_missing_corpus_folder_is_a_clear_error(tmp_path):
    with pytest.raises(CorpusError, match=str(tmp_path / "nowhere")):
        load_corpus(tmp_path / "nowhere")


def test_full_dates():
    found = full_dates("2022 年 11 月 30 日; 2025-12-15; 2025/12/10; December 9, 2025; 2025-13-45")
    assert sorted(d.isoformat() for d in found) == ["2022-11-30", "2025-12-09", "2025-12-10", "2025-12-15"]


def test_importing_the_engine_does_not_import_discord():
    code = (
        "import sys, index, index.engine, index.evaluate, index.corpus, index.glossary;print('discord' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_document_files_walks_folders_in_order_skipping_hidden_and_reserved(tmp_path):
    from index.corpus import document_files

    for name in ["b.txt", "A.md", "sub/c.TXT", "sub/deeper/d.txt", ".hidden.txt", ".git/e.txt", "sub/.cache/f.md",
                 "README.md", "userdict.txt", "catalog.toml", "LICENSE.txt", "notes.csv"]:  # fmt: skip
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("text\n", encoding="utf-8")
    (tmp_path / "folder.txt").mkdir()  # a folder named like a document is not one
    found = [p.relative_to(tmp_path).as_posix() for p in document_files(tmp_path)]
    assert found == ["A.md", "b.txt", "sub/c.TXT", "sub/deeper/d.txt"]
    assert document_files(tmp_path / "missing") == []


def test_a_dateline_under_the_headline_is_the_article_date(tmp_path):
    (tmp_path / "wire.txt").write_text(
        "Harbor authority opens new terminal\nExample Wire, published 2024-03-05\n\n"
        "The terminal, first planned on 2019-06-01, will open fully on 2026-01-15, officials said.\n",
        encoding="utf-8",
    )
    (tmp_path / "zh.txt").write_text(
        "新港码头启用\n示例新闻网（来源：示例日报），2024-03-06\n\n码头将于 2026 年 1 月 15 日全面启用。\n"
    )
    (tmp_path / "abbr.txt").write_text("Port story\nBy A. Writer | Mar. 7, 2024\n\nThe port expanded in 2023.\n")
    docs = {d.doc_id: d.info for d in load_corpus(tmp_path).documents}
    assert (docs["wire"].date, docs["wire"].origins["date"]) == ("2024-03-05", "dateline")  # not the later 2026 date
    assert (docs["zh"].date, docs["zh"].origins["date"]) == ("2024-03-06", "dateline")
    assert docs["abbr"].date == "2024-03-07"
