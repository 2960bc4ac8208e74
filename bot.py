"""Footnote's composition root: it wires the engine, the store and the Discord client together, and is the
`footnote` console script's entry point (`python bot.py` runs the bot).

`main` hands the command line to `cli.main` together with `start_bot`, so `footnote run` and `footnote sync` reach
this composition root through the function they were given, and nothing imports this module except the console
script (docs/architecture.md). Terminal commands (`footnote ask`, `corpus`, `index`, `eval`, ...) never get here
and never import discord.py.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

import cli
from config import TOKEN_HELP, ConfigError, Settings


async def start_bot(settings: Settings, token: str, sync_only: bool = False) -> None:
    """Compose the bot: engine (loaded off the event loop, before any command is accepted), store, client.

    The Message Content intent is asked for only when a help channel is configured (cogs/helpdesk.py reads posts
    that do not mention the bot). If Discord refuses it (the gateway closes with 4014: the intent is not enabled
    in the Developer Portal), the bot logs how to fix it and starts again without it, so everything else keeps
    working; `footnote doctor` reports the refusal from the heartbeat."""
    import asyncio  # here: `footnote ask` (the same entry point) never starts an event loop

    import discord

    from client import FootnoteBot, ShardedFootnoteBot
    from index.engine import Engine
    from lifecycle import heartbeat_path, tune_for_serving
    from store import Store, StoreError
    from store.helpdesk import help_channels_configured

    try:  # a DATABASE_URL that cannot be used is one line, before the index is loaded
        store = await Store.open(settings.database, pool_size=settings.database_pool_size)
    except StoreError as exc:
        raise ConfigError(str(exc)) from exc
    try:
        engine = await asyncio.to_thread(
            Engine.open, settings.corpus_dir, settings.data_dir, mode=settings.tokenizer_mode
        )
        tune_for_serving()
        message_content = await help_channels_configured(store)
        refused = False
        heartbeat = heartbeat_path(settings.data_dir, settings.shard_ids)
        while True:
            if settings.shard_count is None:
                bot = FootnoteBot(settings=settings, store=store, engine=engine, message_content=message_content)
            else:  # discord.AutoShardedBot over this process's shards (all of them without SHARD_IDS)
                bot = ShardedFootnoteBot(
                    settings=settings,
                    store=store,
                    engine=engine,
                    message_content=message_content,
                    shard_count=settings.shard_count,
                    shard_ids=list(settings.shard_ids) if settings.shard_ids is not None else None,
                )
            bot.message_content_refused = refused
            try:
                async with bot:
                    if sync_only:
                        await bot.login(token)  # runs setup_hook, which syncs when the command set changed
                        print(await bot.sync_commands(force=True))
                        return
                    # SIGTERM / Ctrl-C: stop taking commands, finish answers in progress (bounded), close; see
                    # lifecycle.py
                    async with bot.lifecycle.running(bot, heartbeat=heartbeat):
                        await bot.start(token)
                    if bot.token_rejected:  # a REST request learnt it first (client.py): the same line as for 4004
                        raise ConfigError(
                            "Discord answered a request with 401 Unauthorized: the bot token was reset or revoked. "
                            + TOKEN_HELP
                        )
                return
            except discord.PrivilegedIntentsRequired as exc:
                if not message_content:
                    raise ConfigError(f"Discord refused an intent: {exc}") from exc
                logging.getLogger("footnote").error(
                    "Discord refused the Message Content intent (gateway closed with 4014). Help channels need it to"
                    " read posts: enable it at https://discord.com/developers/applications (your application, Bot,"
                    " Privileged Gateway Intents, Message Content) and restart. Running without it meanwhile."
                )
                message_content, refused = False, True
    except discord.LoginFailure as exc:
        raise ConfigError(f"Discord refused the token ({exc}). {TOKEN_HELP}") from exc
    except discord.ConnectionClosed as exc:
        if exc.code != 4004:
            raise
        # The token was reset or revoked while the bot ran: one clear line (cli prints it) and a failing exit.
        raise ConfigError(
            f"Discord closed the connection: the bot token was reset or revoked (gateway code 4004). {TOKEN_HELP}"
        ) from exc
    finally:
        await store.close()


def main(argv: Sequence[str] | None = None) -> int:
    """The `footnote` command (pyproject.toml's console script)."""
    return cli.main(argv, serve=start_bot)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["run"]))
