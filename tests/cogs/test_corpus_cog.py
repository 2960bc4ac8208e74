"""/corpus add|list|remove called directly with spec'd fakes for Discord, a real corpus folder and real engine."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from unittest.mock import AsyncMock, MagicMock

import discord
import pytest

from cogs.corpus import CorpusCog
from index.engine import Engine
from index.errors import UserFacingError

from ..format_files import write_image_pdf, write_pdf


class FakeBot(SimpleNamespace):
    async def reload_engine(self) -> str:
        self.engine = await asyncio.to_thread(Engine.open, self.settings.corpus_dir, self.settings.data_dir)
        return f"corpus {self.engine.version}"


@pytest.fixture
def bot(tmp_path, data_dir):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "ferry-timetable.txt").write_text("The ferry to the island leaves at 7:15 every morning.\n", "utf-8")
    (corpus / "bridge.md").write_text("# Bridge\n\nThe new bridge opened to cyclists on Monday.\n", "utf-8")
    # the session's data folder: jieba's cache is built once; index files are named after their corpus folder
    settings = SimpleNamespace(corpus_dir=corpus, data_dir=data_dir, upload_max_mb=1)
    return FakeBot(settings=settings, is_owner=AsyncMock(return_value=True))  # no engine until a test reloads


def interaction() -> MagicMock:
    fake = MagicMock(spec=discord.Interaction)
    fake.user = MagicMock(spec=discord.User, id=42)
    fake.response = MagicMock(spec=discord.InteractionResponse)
    fake.response.defer = AsyncMock()
    fake.response.send_message = AsyncMock()
    fake.edit_original_response = AsyncMock()
    return fake


def attachment(name: str, data: bytes) -> MagicMock:
    fake = MagicMock(spec=discord.Attachment)
    fake.filename, fake.size = name, len(data)
    fake.read = AsyncMock(return_value=data)
    return fake


@pytest.mark.asyncio
async def test_the_owner_adds_a_pdf_and_sees_its_passages_and_an_excerpt(bot, tmp_path):
    await bot.reload_engine()
    cog = CorpusCog(bot)
    data = write_pdf(tmp_path / "harbour.pdf").read_bytes()
    asked = interaction()
    await CorpusCog.add.callback(cog, asked, attachment("harbour.pdf", data), "Harbour traffic", "2025-11-20", False)
    asked.response.defer.assert_awaited_once_with(ephemeral=True, thinking=True)
    content = asked.edit_original_response.await_args.kwargs["content"]
    passages = [p for p in bot.engine.passages if p.doc_id == "harbour"]
    assert content.startswith(f"Added **harbour.pdf** (PDF, 3 pages): {len(passages)} passages. Title: Harbour traffic")
    assert "> Harbour report" in content and "— p. 1" in content
    assert (bot.settings.corpus_dir / "harbour.pdf").read_bytes() == data
    answer = bot.engine.ask("When does dredging of the eastern channel start?")
    assert answer.results[0].citation.doc_id == "harbour" and answer.results[0].citation.location == "p. 2"
    # the same name again is refused unless replace:true
    with pytest.raises(UserFacingError, match=r"already in the corpus; add it with replace:true"):
        await CorpusCog.add.callback(cog, interaction(), attachment("harbour.pdf", data), None, None, False)
    replaced = interaction()
    await CorpusCog.add.callback(cog, replaced, attachment("harbour.pdf", data), None, None, True)
    assert replaced.edit_original_response.await_args.kwargs["content"].startswith("Replaced **harbour.pdf**")


@pytest.mark.asyncio
async def test_refusals_write_nothing_and_say_why(bot, tmp_path):
    cog = CorpusCog(bot)
    before = sorted(p.name for p in bot.settings.corpus_dir.iterdir())
    big = attachment("big.txt", b"x" * (2 * 1024 * 1024))
    with pytest.raises(UserFacingError, match=r"big\.txt: 2\.0 MB is more than the 1 MB a document may be"):
        await CorpusCog.add.callback(cog, interaction(), big, None, None, False)
    big.read.assert_not_awaited()  # refused before downloading
    with pytest.raises(UserFacingError, match="cannot contain a folder"):
        await CorpusCog.add.callback(
            cog, interaction(), attachment("../../etc/passwd.md", b"root:x:0:0\n"), None, None, False
        )
    scan = write_image_pdf(tmp_path / "scan.pdf").read_bytes()
    with pytest.raises(UserFacingError, match=r"scan\.pdf: no text in this PDF"):
        await CorpusCog.add.callback(cog, interaction(), attachment("scan.pdf", scan), None, None, False)
    with pytest.raises(UserFacingError, match="Footnote reads"):
        await CorpusCog.add.callback(cog, interaction(), attachment("tool.exe", b"MZ\x90\x00"), None, None, False)
    with pytest.raises(UserFacingError, match="not a date"):
        await CorpusCog.add.callback(cog, interaction(), attachment("a.txt", b"Some text here.\n"), None, "soon", False)
    assert sorted(p.name for p in bot.settings.corpus_dir.iterdir()) == before
    assert not hasattr(bot, "engine"), "nothing was reloaded"


@pytest.mark.asyncio
async def test_only_the_owner_may_change_or_list_the_corpus(bot):
    bot.is_owner = AsyncMock(return_value=False)
    cog = CorpusCog(bot)
    for call in (
        CorpusCog.add.callback(cog, interaction(), attachment("a.txt", b"text\n"), None, None, False),
        CorpusCog.list_documents.callback(cog, interaction()),
        CorpusCog.remove.callback(cog, interaction(), "bridge.md"),
    ):
        with pytest.raises(UserFacingError, match="Only the bot's owner"):
            await call


@pytest.mark.asyncio
async def test_list_and_remove(bot):
    await bot.reload_engine()
    cog = CorpusCog(bot)
    listed = interaction()
    await CorpusCog.list_documents.callback(cog, listed)
    embed = listed.response.send_message.await_args.kwargs["embed"]
    assert embed.title.startswith("2 documents")
    assert "`ferry-timetable.txt` The ferry to the island leaves at 7:15 every morning. · plain text · 1 passages" in (
        embed.description
    )
    choices = await cog.remove_autocomplete(interaction(), "FERRY")
    assert [c.value for c in choices] == ["ferry-timetable.txt"]
    removed = interaction()
    await CorpusCog.remove.callback(cog, removed, "ferry-timetable.txt")
    assert removed.edit_original_response.await_args.kwargs["content"].startswith(
        "Removed **ferry-timetable.txt** (1 passages)."
    )
    assert list(bot.engine.documents) == ["bridge"]
    with pytest.raises(UserFacingError, match="no such document"):
        await CorpusCog.remove.callback(cog, interaction(), "ferry-timetable.txt")
    with pytest.raises(UserFacingError, match="not a document of the corpus"):
        await CorpusCog.remove.callback(cog, interaction(), "../../etc/passwd")
