"""The CORPUS_DIR watch's cheap identity of a corpus folder (cogs.admin.corpus_signature)."""

import os

from cogs.admin import corpus_signature


def test_signature_sees_added_edited_and_removed_files_but_not_hidden_folders(tmp_path):
    (tmp_path / "a.txt").write_text("one\n", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.md").write_text("two\n", encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "index").write_text("x", encoding="utf-8")
    first = corpus_signature(tmp_path)
    assert [name for name, _, _ in first] == ["a.txt", "sub/b.md"]
    assert corpus_signature(tmp_path) == first

    (tmp_path / ".git" / "index").write_text("changed", encoding="utf-8")
    assert corpus_signature(tmp_path) == first, "a hidden folder is not the corpus"

    (tmp_path / "sub" / "b.md").write_text("two, longer\n", encoding="utf-8")
    edited = corpus_signature(tmp_path)
    assert edited != first

    stat = (tmp_path / "a.txt").stat()
    os.utime(tmp_path / "a.txt", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert corpus_signature(tmp_path) != edited, "same size, new mtime"

    (tmp_path / "c.txt").write_text("three\n", encoding="utf-8")
    assert len(corpus_signature(tmp_path)) == 3
    (tmp_path / "c.txt").unlink()
    assert len(corpus_signature(tmp_path)) == 2
    assert corpus_signature(tmp_path / "missing") == ()
