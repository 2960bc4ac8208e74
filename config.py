"""Footnote's configuration: the `Settings` read once from the environment and a .env file, and `ConfigError`.

Every setting has a default except DISCORD_TOKEN, which only `footnote run` and `footnote sync` need
(`Settings.require_token`). A setting that does not parse raises `ConfigError`, whose message names the setting
and how to fix it; the token itself is never logged, printed or put in a repr. README.md's "Configuration" table
and .env.example document each variable.

This module sits near the bottom of the top-level import graph (docs/architecture.md): it imports only
`locations` (where the bundled seeds and the default data folder are), so the CLI, the doctor and the client can
all read settings without importing each other.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from locations import bundled_corpus, default_data_dir

PROJECT_DIR = Path(__file__).resolve().parent
DEFAULT_CORPUS = bundled_corpus()  # the checkout's seeds/, or the installed package data
DEFAULT_DATA = default_data_dir()  # the checkout's data/, or the platform's user data folder

_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{20,}$")
TOKEN_HELP = (
    "Create an application at https://discord.com/developers/applications, open Bot, press Reset Token, "
    "and put the token in .env as DISCORD_TOKEN=... (see .env.example)."
)


class ConfigError(Exception):
    """A setting is missing or malformed; the message says which and how to fix it."""


def load_env() -> None:
    """Read a .env file from the working directory into the environment (variables already set win)."""
    from dotenv import load_dotenv

    load_dotenv()


@dataclass(frozen=True)
class Settings:
    """Configuration read once from the environment (and .env). The token is never logged or printed."""

    corpus_dir: Path
    data_dir: Path
    database_path: Path
    log_level: str | None
    tokenizer_mode: str
    discord_token: str = field(default="", repr=False)
    dev_guild_id: int | None = None
    cooldown_rate: int = 5
    cooldown_per: float = 30.0
    memory_window_minutes: float = 30.0
    retention_days: float = 90.0
    digest_tick_seconds: float = 60.0
    reload_poll_seconds: float = 30.0
    upload_max_mb: float = 10.0  # the largest document /corpus add accepts
    # PostgreSQL instead of the SQLite file (several processes sharing state); it may hold a password.
    database_url: str = field(default="", repr=False)
    database_pool_size: int = 5
    # Sharding: None runs as one unsharded client; shard_ids None with a count runs all shards in this process.
    shard_count: int | None = None
    shard_ids: tuple[int, ...] | None = None
    helpdesk_per_hour: int = 20

    @property
    def database(self) -> str | Path:
        """What `Store.open` opens: the DATABASE_URL when set, else the SQLite file."""
        return self.database_url or self.database_path

    @classmethod
    def from_env(cls, corpus: str | None = None) -> Settings:
        data_dir = Path(os.environ.get("DATA_DIR") or DEFAULT_DATA).expanduser()
        return cls(
            corpus_dir=Path(corpus or os.environ.get("CORPUS_DIR") or DEFAULT_CORPUS).expanduser(),
            data_dir=data_dir,
            database_path=Path(os.environ.get("DATABASE_PATH") or data_dir / "footnote.sqlite3").expanduser(),
            log_level=(os.environ.get("LOG_LEVEL") or "").upper() or None,
            tokenizer_mode=os.environ.get("FOOTNOTE_TOKENIZER", "search"),
            discord_token=os.environ.get("DISCORD_TOKEN", "").strip(),
            dev_guild_id=_int_setting("DEV_GUILD_ID", None),
            cooldown_rate=_int_setting("COOLDOWN_RATE", 5) or 5,
            cooldown_per=float(_int_setting("COOLDOWN_SECONDS", 30) or 30),
            memory_window_minutes=float(_int_setting("MEMORY_WINDOW_MINUTES", 30) or 30),
            retention_days=float(_int_setting("RETENTION_DAYS", 90) or 0),
            digest_tick_seconds=float(_int_setting("DIGEST_TICK_SECONDS", 60) or 0),
            reload_poll_seconds=float(_int_setting("CORPUS_POLL_SECONDS", 30) or 0),
            upload_max_mb=float(_int_setting("CORPUS_UPLOAD_MAX_MB", 10) or 10),
            database_url=_database_url(),
            database_pool_size=_int_setting("DATABASE_POOL_SIZE", 5) or 5,
            **_shards(),
            helpdesk_per_hour=_int_setting("HELPDESK_PER_HOUR", 20) or 20,
        )

    def require_token(self) -> str:
        if not self.discord_token:
            raise ConfigError(f"DISCORD_TOKEN is not set. {TOKEN_HELP}")
        if not _TOKEN_RE.match(self.discord_token):
            raise ConfigError(f"DISCORD_TOKEN does not look like a bot token (three dot-separated parts). {TOKEN_HELP}")
        return self.discord_token


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if url and not url.startswith(("postgresql://", "postgres://")):
        raise ConfigError(
            "DATABASE_URL must be a PostgreSQL URL (postgresql://user:password@host:5432/database); "
            "leave it empty to use the SQLite file at DATABASE_PATH."
        )
    return url


def parse_shard_ids(value: str, shard_count: int) -> tuple[int, ...]:
    """SHARD_IDS as ranges and lists: "0-3", "4,5,6,7", "0-1,6"; each below `shard_count`, none twice."""
    ids: list[int] = []
    for part in (p.strip() for p in value.split(",")):
        low, dash, high = part.partition("-")
        if not low.strip().isdigit() or (dash and not high.strip().isdigit()):
            raise ConfigError(f"SHARD_IDS must list shard numbers like 0-3 or 4,5,6,7, not {value!r}.")
        first, last = int(low), int(high) if dash else int(low)
        if last < first:
            raise ConfigError(f"SHARD_IDS: the range {part!r} runs backwards.")
        ids.extend(range(first, last + 1))
    if len(set(ids)) != len(ids):
        raise ConfigError(f"SHARD_IDS names a shard twice: {value!r}.")
    if max(ids) >= shard_count:
        raise ConfigError(
            f"SHARD_IDS {value!r}: shards are numbered 0 to {shard_count - 1} (SHARD_COUNT={shard_count})."
        )
    return tuple(sorted(ids))


def _shards() -> dict[str, object]:
    count = _int_setting("SHARD_COUNT", None)
    raw_ids = os.environ.get("SHARD_IDS", "").strip()
    if count is None:
        if raw_ids:
            raise ConfigError("SHARD_IDS needs SHARD_COUNT, the total number of shards of all processes.")
        return {}
    if count < 1:
        raise ConfigError("SHARD_COUNT must be at least 1.")
    return {"shard_count": count, "shard_ids": parse_shard_ids(raw_ids, count) if raw_ids else None}


def _int_setting(name: str, default: int | None) -> int | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise ConfigError(f"{name} must be a whole number, not {raw!r}.")
    return int(raw)
