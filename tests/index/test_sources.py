"""The stat-based currency check (index/sources.py): a file whose stat matches the index's record is trusted
without being read; anything else is hashed, so every change to the corpus still changes the source key."""

import dataclasses
import os
import shutil

import pytest

from index.engine import Engine
from index.indexfile import FileStats, read_file_stats
from index.sources import RACY_NS, _source_key, _Sources, index_path

from ..conftest import SEEDS


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name, text in {
        "a.txt": "第一篇文档：某公司发布了新的手表。\n第二段。\n",
        "b.md": "# Title\n\nAn invented note about a river crossing.\n",
        "sub/c.txt": "另一个文件，内容不同。\n",
    }.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _files(folder):
    """The files' paths relative to `folder`, in corpus order (as index.corpus.scan_corpus_names gives them)."""
    return [p.relative_to(folder).as_posix() for p in sorted(p for p in folder.rglob("*") if p.is_file())]


def _recorded(folder) -> FileStats:
    """The stats a build records, as if its index was built 3 s after the files were written (not racy)."""
    _, _, _, stats, trusted = _source_key(folder, _files(folder), [b"x"])
    assert trusted == 0
    return dataclasses.replace(stats, taken_ns=stats.taken_ns + RACY_NS + 1_000_000_000)


def _key(folder, known):
    key, contents, blobs, _, trusted = _source_key(folder, _files(folder), [b"x"], known)
    return key, contents, blobs, trusted


def test_unchanged_files_are_trusted_without_being_read(corpus):
    known = _recorded(corpus)
    full_key, full_contents, _, _ = _key(corpus, None)
    key, contents, blobs, trusted = _key(corpus, known)
    assert trusted == 3 and blobs == {}
    assert key == full_key and contents == full_contents


def test_a_changed_file_is_hashed_and_changes_the_key(corpus):
    known = _recorded(corpus)
    before, _, _, _ = _key(corpus, None)
    (corpus / "a.txt").write_text("第一篇文档：内容改了，长度也变了。\n", encoding="utf-8")
    key, _, blobs, trusted = _key(corpus, known)
    assert trusted == 2 and list(blobs) == [str(corpus / "a.txt")]
    assert key != before and key == _key(corpus, None)[0]


def test_a_same_size_edit_with_its_mtime_put_back_is_detected(corpus):
    known = _recorded(corpus)
    before, _, _, _ = _key(corpus, None)
    path = corpus / "sub" / "c.txt"
    old = path.stat()
    data = path.read_bytes()
    path.write_bytes(data.replace("不同".encode(), "相同".encode()))  # same size
    os.utime(path, ns=(old.st_atime_ns, old.st_mtime_ns))  # mtime restored; the ctime cannot be
    assert path.stat().st_size == old.st_size and path.stat().st_mtime_ns == old.st_mtime_ns
    key, _, blobs, trusted = _key(corpus, known)
    assert str(path) in blobs and trusted == 2
    assert key != before


def test_added_removed_and_renamed_files_change_the_key(corpus):
    known = _recorded(corpus)
    before, _, _, _ = _key(corpus, None)
    (corpus / "d.txt").write_text("新增的文件。\n", encoding="utf-8")
    added, _, _, trusted = _key(corpus, known)
    assert added != before and trusted == 3
    (corpus / "d.txt").unlink()
    assert _key(corpus, known)[0] == before
    (corpus / "b.md").unlink()
    removed, _, _, trusted = _key(corpus, known)
    assert removed != before and trusted == 2
    _recorded_again = _recorded(corpus)
    (corpus / "a.txt").rename(corpus / "renamed.txt")
    renamed, _, blobs, _ = _key(corpus, _recorded_again)
    assert renamed != removed and str(corpus / "renamed.txt") in blobs


def test_a_touched_file_is_hashed_again_and_the_key_stays(corpus):
    known = _recorded(corpus)
    before, _, _, _ = _key(corpus, None)
    path = corpus / "b.md"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 5_000_000_000))
    key, _, blobs, trusted = _key(corpus, known)
    assert key == before and trusted == 2 and list(blobs) == [str(path)]


def test_a_file_replaced_by_another_inode_is_hashed(corpus):
    known = _recorded(corpus)
    path = corpus / "a.txt"
    stat = path.stat()
    replacement = corpus / "a.tmp"
    replacement.write_bytes(path.read_bytes())
    os.utime(replacement, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(replacement, path)
    _, _, blobs, trusted = _key(corpus, known)
    assert str(path) in blobs and trusted == 2


def test_racy_files_are_never_trusted(corpus):
    """Files changed within RACY_NS before their stats were taken (here: just written) are hashed."""
    _, _, _, stats, _ = _source_key(corpus, _files(corpus), [b"x"])
    _, _, blobs, trusted = _key(corpus, stats)
    assert trusted == 0 and len(blobs) == 3


def test_the_index_file_records_the_stats_and_a_load_trusts_them(tmp_path):
    folder = tmp_path / "corpus"
    shutil.copytree(SEEDS, folder)
    data = tmp_path / "data"
    first = Engine.open(folder, data)
    path = index_path(folder, data)
    stats = read_file_stats(path)
    assert stats is not None
    documents = {p.relative_to(folder).as_posix() for p in _Sources.read(folder, data, "search").files}
    assert set(stats.names) == documents and all(len(d) == 64 for d in stats.digests)
    # As if the build had run 3 s later: every file's stat is trusted, the index loads as it is.
    later = dataclasses.replace(stats, taken_ns=stats.taken_ns + RACY_NS + 1_000_000_000)
    sources = _Sources.read(folder, data, "search")
    _, _, blobs, _, trusted = _source_key(sources.corpus_dir, sources.names, sources.extra, later)
    assert trusted == len(documents) and blobs == {}
    second = Engine.open(folder, data)
    assert second.version == first.version and len(second.passages) == len(first.passages)
    # A changed document is still found (its stat changed): the index is rebuilt with the new text.
    target = sorted(folder.glob("*.txt"))[0]
    target.write_text(target.read_text(encoding="utf-8") + "\n新加的一段：河边的桥修好了。\n", encoding="utf-8")
    third = Engine.open(folder, data)
    assert third.version != first.version
    assert any("河边的桥修好了" in p.text for p in third.passages)
