"""/corpus through Discord: real attachments served by the twin, downloaded by the bot, indexed, cited.

The bot's owner (or a team member) adds a PDF and a web page, asks about them, lists and removes documents;
strangers and bad files are refused with the reason, and nothing is written outside (or, when refused, inside)
the corpus folder."""

from __future__ import annotations

import pytest

from client import FootnoteBot
from index.engine import Engine

from ..format_files import html_page, write_image_pdf, write_pdf, write_zip_bomb
from .footnote_helpers import assert_no_pings, settings_for
from .twin import MESSAGE_FLAG_EPHEMERAL, make_user

RELOAD = 120.0  # seconds: a reload rebuilds the index (a few seconds idle, far more on a busy machine)


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "ferry.txt").write_text("The ferry to the island leaves at 7:15 every morning.\n", encoding="utf-8")
    return folder


async def start_corpus_bot(twin, run_bot, store, tmp_path, corpus, **overrides):
    data = tmp_path / "data"
    engine = Engine.open(corpus, data)
    settings = settings_for(twin, tmp_path, corpus_dir=corpus, data_dir=data, reload_poll_seconds=0, **overrides)
    bot = FootnoteBot(settings=settings, store=store, engine=engine, extensions=("cogs.ask", "cogs.corpus"))
    return await run_bot(bot)


async def corpus_command(twin, sub, options=None, user=None, responses=2):
    interaction_id = await twin.slash_command("corpus", options or {}, subcommand=sub, user=user or twin.default_user)
    return interaction_id, await twin.wait_for_responses(interaction_id, responses, timeout=RELOAD)


def reply_text(twin, interaction_id, responses) -> str:
    """The text the user finally sees: the edited original, else the last follow-up or callback."""
    original = twin.interaction(interaction_id).original_message_id
    if original and twin.message(original)["content"]:
        return twin.message(original)["content"]
    return responses[-1].message.get("content", "")


@pytest.mark.asyncio
async def test_the_owner_adds_a_pdf_from_discord_and_answers_cite_its_pages(twin, run_bot, store, tmp_path, corpus):
    bot = await start_corpus_bot(twin, run_bot, store, tmp_path, corpus)
    data = write_pdf(tmp_path / "harbour.pdf").read_bytes()
    file = {"filename": "harbour.pdf", "data": data, "content_type": "application/pdf"}
    interaction_id, responses = await corpus_command(twin, "add", {"file": file, "title": "Harbour traffic"})
    assert responses[0].callback_type == 5 and responses[0].message["flags"] & MESSAGE_FLAG_EPHEMERAL
    assert len(twin.attachment_downloads) == 1  # the bot downloaded it from the twin's CDN
    assert (corpus / "harbour.pdf").read_bytes() == data
    text = reply_text(twin, interaction_id, responses)
    passages = [p for p in bot.engine.passages if p.doc_id == "harbour"]
    assert text.startswith(f"Added **harbour.pdf** (PDF, 3 pages): {len(passages)} passages. Title: Harbour traffic")
    assert "> Harbour report" in text and "— p. 1" in text

    ask_id = await twin.slash_command("ask", {"question": "When does dredging of the eastern channel start?"})
    await twin.wait_for_responses(ask_id, 2, timeout=30)
    embed = twin.message(twin.interaction(ask_id).original_message_id or "")["embeds"][0]
    assert "will **start** in March and take eleven weeks" in embed["description"]
    assert "— *Harbour traffic* — p. 2" in embed["description"]

    # the same name again: refused without replace, accepted with it
    again, responses = await corpus_command(twin, "add", {"file": dict(file)})
    assert "already in the corpus; add it with replace:true" in reply_text(twin, again, responses)
    replaced, responses = await corpus_command(twin, "add", {"file": dict(file), "replace": True})
    assert reply_text(twin, replaced, responses).startswith("Replaced **harbour.pdf**")
    assert twin.violations == []
    assert_no_pings(twin)


@pytest.mark.asyncio
async def test_strangers_are_refused_and_team_members_are_owners(twin, run_bot, store, tmp_path, corpus):
    developer, viewer = make_user("dev"), make_user("viewer")
    twin.application_team = [{**developer, "role": "developer"}, {**viewer, "role": "read_only"}]
    bot = await start_corpus_bot(twin, run_bot, store, tmp_path, corpus)
    page = {"filename": "tram.html", "data": html_page().encode()}
    for user in (make_user("stranger"), viewer):
        interaction_id, responses = await corpus_command(twin, "add", {"file": dict(page)}, user=user, responses=1)
        assert "Only the bot's owner (or its team) can change the corpus." in responses[0].message["content"]
        assert responses[0].message["flags"] & MESSAGE_FLAG_EPHEMERAL
    assert twin.attachment_downloads == [] and not (corpus / "tram.html").exists()
    interaction_id, responses = await corpus_command(twin, "add", {"file": dict(page)}, user=developer)
    text = reply_text(twin, interaction_id, responses)
    assert text.startswith("Added **tram.html** (HTML page): ") and "Tram line doubles its forecast, 2025-11-03" in text
    assert "tram" in bot.engine.documents
    assert twin.violations == []


@pytest.mark.asyncio
async def test_bad_uploads_are_refused_with_the_reason_and_nothing_is_written(twin, run_bot, store, tmp_path, corpus):
    bot = await start_corpus_bot(twin, run_bot, store, tmp_path, corpus, upload_max_mb=1)
    version = bot.engine.version
    before = sorted(p.name for p in tmp_path.rglob("*") if "data" not in p.parts)
    cases = [
        ({"filename": "../../etc/passwd.md", "data": b"root:x:0:0\n"}, "cannot contain a folder", False),
        ({"filename": "big.txt", "data": b"word " * 300_000}, "big.txt: 1.4 MB is more than the 1 MB", False),
        ({"filename": "notes.exe", "data": b"MZ\x90\x00"}, "Footnote reads", False),
        (
            {"filename": "scan.pdf", "data": write_image_pdf(tmp_path / "scan.pdf").read_bytes()},
            "no text in this PDF",
            True,
        ),
        ({"filename": "report.docx", "data": write_zip_bomb(tmp_path / "b.docx").read_bytes()}, "zip bomb", True),
        (
            {"filename": "page.pdf", "data": html_page().encode()},
            "the name says PDF but the content is an HTML page",
            True,
        ),
    ]
    (tmp_path / "scan.pdf").unlink()
    (tmp_path / "b.docx").unlink()
    for file, why, downloads in cases:
        seen = len(twin.attachment_downloads)
        interaction_id, responses = await corpus_command(twin, "add", {"file": file}, responses=2 if downloads else 1)
        text = reply_text(twin, interaction_id, responses)
        assert why in text, text
        assert len(twin.attachment_downloads) == seen + downloads  # refused before downloading where it can be
    assert sorted(p.name for p in tmp_path.rglob("*") if "data" not in p.parts) == before
    assert not (tmp_path.parent / "etc").exists() and bot.engine.version == version
    assert twin.violations == []


@pytest.mark.asyncio
async def test_list_and_remove_with_autocomplete(twin, run_bot, store, tmp_path, corpus):
    (corpus / "bridge.md").write_text("# Bridge\n\nThe new bridge opened to [cyclists](https://x.example).\n", "utf-8")
    bot = await start_corpus_bot(twin, run_bot, store, tmp_path, corpus)
    _, [reply] = await corpus_command(twin, "list", responses=1)
    embed = reply.message["embeds"][0]
    assert (
        embed["title"].startswith("2 documents")
        and "`bridge.md` Bridge · Markdown · 1 passages" in embed["description"]
    )
    choices_id = await twin.autocomplete("corpus", "document", "bri", subcommand="remove")
    await twin.wait_for_responses(choices_id, 1)
    assert [c["value"] for c in twin.interaction(choices_id).choices or []] == ["bridge.md"]
    removed, responses = await corpus_command(twin, "remove", {"document": "bridge.md"})
    assert reply_text(twin, removed, responses).startswith("Removed **bridge.md** (1 passages).")
    assert not (corpus / "bridge.md").exists() and list(bot.engine.documents) == ["ferry"]
    outside, responses = await corpus_command(twin, "remove", {"document": "../../etc/passwd"})
    assert "not a document of the corpus" in reply_text(twin, outside, responses)
    assert twin.violations == []
