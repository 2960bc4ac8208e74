"""FootnoteBot: the discord.py client, composed by bot.py with its settings, store and engine."""

from __future__ import annotations

import hashlib
import json
import logging
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from cogs import EXTENSIONS
from cogs.render import NO_MENTIONS, on_app_command_error

if TYPE_CHECKING:
    from bot import Settings
    from index.engine import Engine
    from store import Store

log = logging.getLogger(__name__)

COMMANDS_HASH_KEY = "commands_hash"


def intents() -> discord.Intents:
    """Default intents: DMs and messages that mention the bot carry their content without the privileged
    message-content intent, which Footnote does not ask for."""
    return discord.Intents.default()


class FootnoteBot(commands.Bot):
    """`extensions` defaults to all of Footnote's cogs; tests pass the ones they exercise."""

    def __init__(
        self,
        *,
        settings: Settings,
        store: Store,
        engine: Engine,
        extensions: tuple[str, ...] = EXTENSIONS,
        **options: Any,
    ) -> None:
        options.setdefault("intents", intents())
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            allowed_mentions=NO_MENTIONS,
            **options,
        )
        self.settings = settings
        self.store = store
        self.engine = engine
        self.footnote_extensions = extensions

    async def setup_hook(self) -> None:
        self.tree.error(on_app_command_error)
        for name in self.footnote_extensions:
            try:
                await self.load_extension(name)
            except commands.ExtensionError:
                log.exception("could not load extension %s", name)
        log.info("%s", await self.sync_commands())

    async def on_message(self, message: discord.Message) -> None:
        """Footnote has no prefix commands: DMs and mentions are answered by the Ask cog's listener."""

    def command_set_hash(self) -> str:
        payload = sorted((c.to_dict(self.tree) for c in self.tree.get_commands()), key=lambda c: c["name"])
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()

    async def sync_commands(self, force: bool = False) -> str:
        """Sync to DEV_GUILD_ID at once; globally only when the command set changed (or when forced).
        Returns what was done, for the log and for `footnote sync`."""
        guild_id = self.settings.dev_guild_id
        if guild_id:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            return f"synced {len(synced)} commands to guild {guild_id}"
        digest = self.command_set_hash()
        if not force and await self.store.get_meta(COMMANDS_HASH_KEY) == digest:
            return "global commands unchanged; not synced"
        synced = await self.tree.sync()
        await self.store.set_meta(COMMANDS_HASH_KEY, digest)
        return f"synced {len(synced)} global commands"

    async def on_ready(self) -> None:
        engine = self.engine
        log.info(
            "ready: %s in %d guilds; corpus %s (%d documents, %d passages); commands: %s",
            self.user,
            len(self.guilds),
            engine.version,
            len(engine.documents),
            len(engine.passages),
            ", ".join("/" + c.name for c in self.tree.get_commands()),
        )
