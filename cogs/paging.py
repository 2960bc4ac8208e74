"""◀ ▶ paging for any command's answer, surviving restarts.

A command family (cog) that pages sets `pager_kind` (a short lowercase word) and implements
`async def render_page(self, record: AnswerRecord, page: int) -> tuple[discord.Embed, int]` returning the embed
of that page and the number of pages. Its message carries `page_view(kind, record_id, page, pages)`; the buttons'
custom_ids hold kind, record id, direction and page, and the record (the command's options) is in the store.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Protocol

import discord

from cogs.cooldown import question_cooldown
from cogs.render import INVALID_BUTTON, NO_MENTIONS, deliver, reply_privately, stored_id
from index.errors import UserFacingError
from lifecycle import first_delivery, tracking
from store import StoreError

log = logging.getLogger(__name__)


class Pager(Protocol):
    pager_kind: str

    async def render_page(self, record: Any, page: int) -> tuple[discord.Embed, int]: ...


class PageButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"fn:pg:(?P<kind>[a-z]{1,12}):(?P<record>[0-9]{1,19}):(?P<direction>prev|next):(?P<page>[0-9]{1,3})",
):
    def __init__(self, kind: str, record_id: int | None, direction: str, page: int, *, disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                style=discord.ButtonStyle.secondary,
                emoji="◀" if direction == "prev" else "▶",
                custom_id=f"fn:pg:{kind}:{record_id or 0}:{direction}:{page}",
                disabled=disabled,
            )
        )
        self.kind, self.record_id, self.direction, self.page = kind, record_id, direction, page

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> PageButton:
        return cls(match["kind"], stored_id(match["record"]), match["direction"], int(match["page"]))

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return first_delivery(interaction)  # the same click delivered twice is answered once

    async def callback(self, interaction: discord.Interaction) -> None:
        if self.record_id is None:
            log.info("page button with an invalid record id from user %s", interaction.user.id)
            await reply_privately(interaction, INVALID_BUTTON)
            return
        try:
            async with tracking(interaction.client):
                await self._turn(interaction)
        except UserFacingError as exc:
            await reply_privately(interaction, str(exc))
        except Exception:
            log.exception("page button %s failed", self.item.custom_id)
            await reply_privately(interaction, "Something went wrong on my side; it has been logged.")

    async def _turn(self, interaction: discord.Interaction) -> None:
        client: Any = interaction.client
        pager = next((c for c in client.cogs.values() if getattr(c, "pager_kind", None) == self.kind), None)
        if pager is None:
            raise UserFacingError("This command is not available any more.")
        record = await client.store.get_answer(self.record_id)
        if record is None or record.kind != self.kind:
            raise UserFacingError("This answer is no longer stored; please run the command again.")
        if record.private and interaction.user.id != record.user_id:
            raise UserFacingError("Only the person who asked can use the buttons of a private answer.")
        if record.corpus_version != client.engine.version:
            raise UserFacingError("The corpus has changed since this answer; run the command again.")
        question_cooldown(client).check(interaction.user.id)  # turning a page runs the query again
        target = max(0, self.page - 1 if self.direction == "prev" else self.page + 1)
        await interaction.response.defer()
        embed, pages = await pager.render_page(record, target)
        target = min(target, max(0, pages - 1))
        await interaction.edit_original_response(
            embed=embed, view=page_view(self.kind, self.record_id, target, pages), allowed_mentions=NO_MENTIONS
        )


def page_view(kind: str, record_id: int, page: int, pages: int) -> discord.ui.View:
    """◀ ▶ for page `page` of `pages` (an empty view when everything fits on one page)."""
    view = discord.ui.View(timeout=None)
    if pages > 1:
        view.add_item(PageButton(kind, record_id, "prev", page, disabled=page <= 0))
        view.add_item(PageButton(kind, record_id, "next", page, disabled=page >= pages - 1))
    return view


async def send_first_page(
    interaction: discord.Interaction,
    bot: Any,
    *,
    kind: str,
    question: str,
    params: dict[str, Any],
    private: bool,
    abstained: bool,
    embed: discord.Embed,
    pages: int,
) -> None:
    """Edit a deferred response into page 0 of a paged answer. The command's options are stored (as `kind`) so
    that the ◀ ▶ buttons can re-render any page later, after a restart too; if the store fails, the answer goes
    out without buttons."""
    record_id: int | None = None
    try:
        record_id = await bot.store.save_answer(
            question=question,
            user_id=interaction.user.id,
            guild_id=interaction.guild_id,
            channel_id=interaction.channel_id,
            private=private,
            corpus_version=bot.engine.version,
            abstained=abstained,
            kind=kind,
            params=params,
        )
    except StoreError:
        log.exception("could not store the /%s options; the answer goes out without page buttons", kind)
    view = page_view(kind, record_id, 0, pages) if record_id is not None else discord.ui.View()
    await deliver(interaction, private=private, embed=embed, view=view)
