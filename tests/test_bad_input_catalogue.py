"""The bad input catalogue (issue 14): every hostile document and input we know of, each in a test.

One bad file must not take the corpus down: it is named in one warning and the rest still load, index and
answer. Large inputs are generated here, never committed. Discord-side hostile input (forged buttons, private
questions, failures of Discord itself) is in tests/e2e; this module covers documents, corpus data files and the
command line.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cogs.admin import corpus_signature
from index.corpus import load_corpus
from index.engine import Engine
from index.glossary import Glossary

from .conftest import ROOT

GOOD = "OpenAI declared a code red in December 2025. Altman said the company would focus on ChatGPT.\n"
UTF16_TEXT = "Sora 的留存率在第三十天跌到百分之一。Retention of Sora fell to one percent by day thirty.\n"


def _good_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "good.txt").write_text(GOOD, encoding="utf-8")
    return folder


# Each hostile document: file name (bytes for names that are not UTF-8) -> (how to make it, what the warning says).
def _symlink_loop(path: Path) -> None:
    os.symlink(path.name, path)


def _dangling(path: Path) -> None:
    os.symlink("no-such-document.txt", path)


HOSTILE = {
    "loop.txt": (_symlink_loop, "symbolic links"),
    "dangling.txt": (_dangling, "broken symbolic link"),
    b"caf\xe9.txt": (lambda p: p.write_text("Sora retention, under a Latin-1 file name.\n"), "not valid UTF-8"),
    "binary.txt": (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "binary"),
    "latin1.txt": (lambda p: p.write_bytes("Caf\xe9 au lait et Sora.\n".encode("latin-1")), "not UTF-8"),
    "empty.txt": (lambda p: p.write_text("  \n\n"), "empty"),
    "front-only.md": (lambda p: p.write_text("---\ntitle: Nothing\n---\n"), "no text"),
    "utf16-no-bom.txt": (lambda p: p.write_bytes("Sora without a byte order mark.\n".encode("utf-16-le")), "binary"),
}
READABLE = {  # documents in other encodings that are read, not skipped
    "utf16-le.txt": lambda p: p.write_bytes(UTF16_TEXT.encode("utf-16")),  # Python writes the BOM, little-endian
    "utf16-be.txt": lambda p: p.write_bytes(b"\xfe\xff" + UTF16_TEXT.replace("Sora", "Gemini").encode("utf-16-be")),
    "utf32.txt": lambda p: p.write_bytes(UTF16_TEXT.replace("Sora", "Codex").encode("utf-32")),
    "utf8-bom.txt": lambda p: p.write_bytes(b"\xef\xbb\xbf" + UTF16_TEXT.replace("Sora", "Atlas").encode()),
}


@pytest.fixture(scope="module")
def hostile_corpus(tmp_path_factory) -> Path:
    folder = _good_corpus(tmp_path_factory.mktemp("hostile"))
    for name, (make, _) in HOSTILE.items():
        make(Path(os.fsdecode(os.path.join(os.fsencode(folder), name if isinstance(name, bytes) else name.encode()))))
    for name, make in READABLE.items():
        make(folder / name)
    return folder


def _name(name: str | bytes) -> str:
    """How a file name is printed: undecodable bytes as \\xNN."""
    return name.decode("utf-8", "backslashreplace") if isinstance(name, bytes) else name


def test_every_hostile_document_is_named_in_one_warning_and_the_rest_load(hostile_corpus, caplog):
    caplog.set_level(logging.WARNING)
    loaded = load_corpus(hostile_corpus)
    assert sorted(d.doc_id for d in loaded.documents) == sorted(["good", *(n.rsplit(".", 1)[0] for n in READABLE)])
    skipped = {Path(str(path)).name: why for path, why in loaded.skipped}
    for name, (_, why) in HOSTILE.items():
        assert why in skipped[_name(name)], (name, skipped)
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING and _name(name) in r.getMessage()]
        assert len(warnings) == 1, (name, [r.getMessage() for r in warnings])


def test_utf16_and_utf32_documents_are_read_and_quoted_verbatim(hostile_corpus, tmp_path):
    engine = Engine.open(hostile_corpus, tmp_path / "data")
    for word in ("Sora", "Gemini", "Codex", "Atlas"):
        answer = engine.ask(f"{word} 留存率 retention", k=3)
        assert not answer.abstained, word
        top = answer.results[0]
        assert top.passage.text == UTF16_TEXT.replace("Sora", word).strip()
        assert not top.passage.text.startswith("\ufeff")


def test_the_command_line_survives_every_hostile_document(hostile_corpus, tmp_path):
    env = {**os.environ, "DATA_DIR": str(tmp_path / "data"), "CORPUS_DIR": str(hostile_corpus), "LOG_LEVEL": "WARNING"}
    env.pop("DISCORD_TOKEN", None)
    for args in (["index"], ["ask", "code red"], ["corpus", "--json"], ["timeline"], ["quote", "code red"], ["digest"]):
        out = _footnote(env, *args)
        assert out.returncode == 0 and "Traceback" not in out.stderr, (args, out.stderr[-2000:])
    listing = json.loads(_footnote(env, "corpus", "--json").stdout)
    skipped = " ".join(f"{path} {why}" for path, why in listing["skipped"])
    for name in HOSTILE:
        assert _name(name) in skipped, name


def test_a_current_index_still_names_every_document_it_skipped(hostile_corpus, tmp_path):
    """`footnote index` on an index built earlier names the unreadable documents again: not only the run that
    built it (which alone read their bytes) said it skipped them."""
    env = {**os.environ, "DATA_DIR": str(tmp_path / "data"), "CORPUS_DIR": str(hostile_corpus), "LOG_LEVEL": "WARNING"}
    env.pop("DISCORD_TOKEN", None)
    assert _footnote(env, "index").returncode == 0
    again = _footnote(env, "index")
    assert again.returncode == 0
    for name in HOSTILE:
        assert len([line for line in again.stderr.splitlines() if _name(name) in line]) == 1, (name, again.stderr)


def _footnote(env, *args):
    return subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), *args], env=env, cwd=ROOT, capture_output=True, text=True
    )


# -- corpus data files: catalog.toml, glossary.toml, userdict.txt ----------------------------------------------


def test_data_files_that_are_folders_are_ignored_with_a_warning(tmp_path, caplog):
    corpus = _good_corpus(tmp_path / "corpus")
    for name in ("catalog.toml", "glossary.toml", "userdict.txt"):
        (corpus / name).mkdir()
    engine = Engine.open(corpus, tmp_path / "data")
    assert not engine.ask("code red", k=1).abstained
    for name in ("catalog.toml", "glossary.toml", "userdict.txt"):
        assert len([r for r in caplog.records if f"{name} is not a file" in r.getMessage()]) == 1, name


def test_a_catalog_with_wrong_value_types_is_ignored_field_by_field(tmp_path, caplog):
    corpus = _good_corpus(tmp_path / "corpus")
    (corpus / "other.txt").write_text("Sora was paused in December 2025.\n", encoding="utf-8")
    (corpus / "catalog.toml").write_text(
        'stray = "not a table"\n'
        '["good.txt"]\ntitle = ["a", "list"]\ndate = "yesterday"\nsource = {nested = 1}\nlanguages = 7\n'
        '["other.txt"]\ntitle = "Sora paused"\ndate = 2025-12-10\nsource = "Example"\n',
        encoding="utf-8",
    )
    loaded = load_corpus(corpus)
    good, other = sorted(loaded.documents, key=lambda d: d.doc_id)
    assert good.info.title.startswith("OpenAI declared") and good.info.origins["title"] == "inferred"
    assert good.info.date == "" and good.info.source == ""
    assert (other.info.title, other.info.date, other.info.source) == ("Sora paused", "2025-12-10", "Example")
    [warning] = [r.getMessage() for r in caplog.records if "catalog.toml" in r.getMessage()]
    for problem in ("title", "yesterday", "source", "languages", "stray"):
        assert problem in warning, problem


GOOD_ENTRY = '[[entry]]\nid = "openai"\naliases = ["OpenAI", "开放人工智能"]\n'


@pytest.mark.parametrize(
    ("glossary", "kept"),
    [
        ('entry = "not an array"\n', []),  # was read letter by letter, a warning for each
        ('[[entry]]\nid = 5\naliases = ["Sora"]\n' + GOOD_ENTRY, ["openai"]),
        ('[[entry]]\nid = "sora"\naliases = "Sora"\n' + GOOD_ENTRY, ["openai"]),  # once made one-letter aliases
        ('[[entry]]\nid = "sora"\naliases = [1, 2]\n' + GOOD_ENTRY, ["openai"]),
        ('[[entry]]\nid = "sora"\naliases = ["Sora"]\nkind = 3\n' + GOOD_ENTRY, ["openai"]),
        ('[[entry]]\nid = "sora"\naliases = ["Sora"]\nroles = "CEO"\n' + GOOD_ENTRY, ["openai"]),
        ("[[entry]\nid = ", []),  # not TOML
    ],
)
def test_a_glossary_with_wrong_value_types_keeps_its_good_entries(tmp_path, caplog, glossary, kept):
    path = tmp_path / "glossary.toml"
    path.write_text(glossary, encoding="utf-8")
    loaded = Glossary.load(path)
    assert [e.id for e in loaded.entries] == kept
    assert all(len(alias) > 1 for entry in loaded.entries for alias in entry.aliases)
    assert len([r for r in caplog.records if "glossary.toml" in r.getMessage()]) == 1


@pytest.mark.parametrize("bad", ["2025-02-30", "yesterday", "12/10/2025", "2025-13", "0000"])
def test_bad_front_matter_dates_are_not_printed_in_citations(tmp_path, caplog, bad):
    corpus = _good_corpus(tmp_path / "corpus")
    (corpus / "dated.md").write_text(
        f"---\ntitle: Sora paused\ndate: {bad}\n---\nOpenAI paused Sora on 2025-12-10 to save compute.\n",
        encoding="utf-8",
    )
    [dated] = [d for d in load_corpus(corpus).documents if d.doc_id == "dated"]
    assert dated.info.date == "2025-12-10" and dated.info.origins["date"] == "inferred"
    [warning] = [r.getMessage() for r in caplog.records if "dated.md" in r.getMessage()]
    assert bad in warning and "date" in warning


@pytest.mark.parametrize("good", ["2025", "2025-12", "2025-12-10"])
def test_partial_dates_stay_accepted(tmp_path, good):
    corpus = _good_corpus(tmp_path / "corpus")
    (corpus / "dated.md").write_text(f"---\ndate: {good}\n---\nSora was paused.\n", encoding="utf-8")
    [dated] = [d for d in load_corpus(corpus).documents if d.doc_id == "dated"]
    assert (dated.info.date, dated.info.origins["date"]) == (good, "front matter")


# -- the CORPUS_DIR watch ------------------------------------------------------------------------------------


def test_a_dangling_symlink_does_not_stop_the_corpus_watch(tmp_path):
    corpus = _good_corpus(tmp_path / "corpus")
    _dangling(corpus / "gone.txt")
    _symlink_loop(corpus / "loop.txt")
    before = corpus_signature(corpus)
    assert {name for name, _, _ in before} == {"good.txt", "gone.txt", "loop.txt"}
    (corpus / "new.txt").write_text("A new document about Gemini.\n", encoding="utf-8")
    after = corpus_signature(corpus)
    assert after != before and "new.txt" in {name for name, _, _ in after}


# -- the command line: developer commands and questions that are not UTF-8 (points 3 and 8) ----------------------


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory):
    from .conftest import SEEDS

    data = tmp_path_factory.mktemp("cli-data")
    env = {**os.environ, "DATA_DIR": str(data), "CORPUS_DIR": str(SEEDS), "LOG_LEVEL": "WARNING"}
    env.pop("DISCORD_TOKEN", None)
    return env


def _bad_eval_files(folder: Path) -> dict[str, Path]:
    folder.mkdir(exist_ok=True)
    files = {
        "missing": folder / "missing.jsonl",
        "folder": folder / "folder.jsonl",
        "no-q": folder / "no-q.jsonl",
        "a-list": folder / "a-list.jsonl",
        "q-not-text": folder / "q-not-text.jsonl",
        "not-json": folder / "not-json.jsonl",
        "empty": folder / "empty.jsonl",
    }
    files["folder"].mkdir(exist_ok=True)
    files["no-q"].write_text('{"id": "a", "keys": ["x"]}\n', encoding="utf-8")
    files["a-list"].write_text("[1, 2]\n", encoding="utf-8")
    files["q-not-text"].write_text('{"q": 5}\n', encoding="utf-8")
    files["not-json"].write_text("what is code red?\n", encoding="utf-8")
    files["empty"].write_text("\n", encoding="utf-8")
    return files


@pytest.mark.parametrize("case", ["missing", "folder", "no-q", "a-list", "q-not-text", "not-json", "empty"])
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_eval_on_a_bad_question_file_is_one_clear_error(cli_env, tmp_path, case, as_json):
    path = _bad_eval_files(tmp_path)[case]
    out = _footnote(cli_env, "eval", str(path), *(["--json"] if as_json else []))
    assert out.returncode == 2 and "Traceback" not in out.stderr + out.stdout, out.stderr
    if as_json:
        assert str(path) in json.loads(out.stdout)["error"] and not out.stderr.strip()
    else:
        assert out.stderr.startswith("footnote: ") and str(path) in out.stderr and len(out.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("content", "said"),
    [('{"x": 1}', "not a SQuAD file"), ('{"data": []}', "without questions"), ("[]", "not a SQuAD file"),
     ('{"data": [{"paragraphs": [{"context": 5, "qas": []}]}]}', "not a SQuAD file"), ("{", "not JSON")],
)  # fmt: skip
def test_eval_squad_on_a_file_that_is_not_squad_is_one_clear_error(cli_env, tmp_path, content, said):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    for extra in ([], ["--json"]):
        out = _footnote(cli_env, "eval", "--squad", str(path), *extra)
        assert out.returncode == 2 and "Traceback" not in out.stderr + out.stdout, out.stderr
        assert said in (json.loads(out.stdout)["error"] if extra else out.stderr)


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "2025-13-01", "yesterday"])
def test_digest_on_a_date_out_of_range_is_one_clear_error(cli_env, day):
    out = _footnote(cli_env, "digest", "--date", day)
    assert out.returncode == 2 and out.stderr.startswith("footnote: --date") and "Traceback" not in out.stderr
    out = _footnote(cli_env, "digest", "--date", day, "--json")
    assert out.returncode == 2 and "--date" in json.loads(out.stdout)["error"]


def test_a_question_that_is_not_utf8_on_the_command_line_is_answered(cli_env):
    question = os.fsdecode(b"Sora \xff\xfe \xe7\x95\x99\xe5\xad\x98\xe7\x8e\x87")  # "Sora <bad bytes> 留存率"
    out = _footnote(cli_env, "ask", question, "--json")
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    assert "not valid UTF-8" in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert not json.loads(out.stdout)["abstained"]


def test_a_chat_line_that_is_not_utf8_is_named_and_the_rest_is_answered(cli_env):
    lines = b"What is code red?\n\xff\xfe bad bytes\nmore\nWho is Mark Chen?\n"
    out = subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "chat"], env=cli_env, cwd=ROOT, input=lines, capture_output=True
    )
    stdout = out.stdout.decode("utf-8", "replace")
    assert out.returncode == 0 and b"Traceback" not in out.stderr, out.stderr
    assert stdout.count("not valid UTF-8") == 1
    assert "? Who is Mark Chen?" in stdout  # the input after the bad line was not lost
    assert stdout.count("? ") == 4


# -- documents that are too big in one piece (points 3 and 5) ----------------------------------------------------


def test_a_word_repeated_past_65535_times_in_one_line_indexes_and_answers(tmp_path):
    """It overflowed the uint16 token counts of the index build and crashed every command."""
    corpus = _good_corpus(tmp_path / "corpus")
    (corpus / "spam.txt").write_text("spam " * 70_000 + "\n", encoding="utf-8")
    engine = Engine.open(corpus, tmp_path / "data")
    answer = engine.ask("spam", k=3)
    assert not answer.abstained and "spam" in answer.results[0].passage.text
    assert not engine.ask("code red", k=3).abstained


def test_passages_have_a_hard_size_cap_whatever_the_punctuation(tmp_path):
    """A long line without a sentence end became one passage that every matching question scored in full."""
    import random

    from index.passages import MAX_PASSAGE_CHARS

    rng = random.Random(7)
    vocabulary = ["".join(rng.choice("abcdefghijklmnop") for _ in range(rng.randint(3, 9))) for _ in range(2000)]
    corpus = _good_corpus(tmp_path / "corpus")
    (corpus / "one-line.txt").write_text(" ".join(rng.choice(vocabulary) for _ in range(40_000)) + "\n", "utf-8")
    (corpus / "han.txt").write_text("字" * 20_000 + "\n", encoding="utf-8")  # no spaces at all
    engine = Engine.open(corpus, tmp_path / "data")
    assert max(len(p.text) for p in engine.passages) <= MAX_PASSAGE_CHARS
    assert len([p for p in engine.passages if p.doc_id == "one-line"]) > 400
    assert all(p.text.strip() == p.text and p.text for p in engine.passages)
    text = (corpus / "one-line.txt").read_text(encoding="utf-8")
    pieces = sorted((p.start, p.end) for p in engine.passages if p.doc_id == "one-line")
    assert " ".join(text[s:e] for s, e in pieces) == text.strip()  # cut at spaces, nothing lost
