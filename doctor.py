"""`footnote doctor`: check that this machine can run Footnote, and say how to fix what is wrong.

Checks, in order: configuration, the folders in use (corpus, data, database, and why each), the Discord token
(presence and shape; never printed), the corpus folder, the
index file's freshness, the database, the data folder (jieba cache, index files), Discord's reachability (skipped
with --offline or without a network), when a bot runs with this data folder, its heartbeat, and when help channels
are configured, the Message Content intent they need (from the heartbeat, and online from the application). Each
check ends OK, WARN, FAIL or SKIP with a line on how to fix it; the exit code is 1 when a check failed, else 0.

The Docker image's HEALTHCHECK runs `footnote doctor --offline --quiet` every minute, so this module stays cheap:
no discord import, no jieba dictionary load, no index build (see docs/operations.md).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import concurrent.futures
import errno
import json
import logging
import os
import shutil
import socket
import sqlite3
import sys
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from config import TOKEN_HELP, ConfigError, Settings, load_env
from lifecycle import Heartbeat, heartbeat_path

if TYPE_CHECKING:
    from index.corpus import CorpusLoad

log = logging.getLogger(__name__)

DISCORD_API = "https://discord.com/api/v10"
NETWORK_TIMEOUT = 5.0
HEARTBEAT_STALE_SECONDS = 120.0  # older than this while the bot process lives: it has lost Discord
LOW_DISK_BYTES = 50 * 1024 * 1024
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_USER_AGENT = "DiscordBot (https://github.com/footnote, 0.1) footnote-doctor"


class Status(StrEnum):
    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"
    SKIP = "SKIP"


@dataclass(frozen=True)
class Check:
    """One check's outcome: `detail` says what was found, `fix` what to do about it (empty when nothing)."""

    name: str
    status: Status
    detail: str
    fix: str = ""


# -- the checks --------------------------------------------------------------------------------------------------


def run_doctor(
    settings: Settings,
    offline: bool,
    *,
    discord_api: str = DISCORD_API,
    timeout: float = NETWORK_TIMEOUT,
    now: Callable[[], float] = time.time,
) -> list[Check]:
    """Every check, in order, for parsed settings. Never raises for a problem it finds: that is a Check."""
    checks = [check_configuration(settings), check_folders(settings), check_token(settings)]
    corpus, loaded = check_corpus(settings.corpus_dir)
    checks.append(corpus)
    checks.append(check_index(settings, loaded))
    checks.append(
        check_postgres(settings.database_url) if settings.database_url else check_database(settings.database_path)
    )
    checks.append(check_data_dir(settings.data_dir))
    checks.append(check_discord(settings, offline, api=discord_api, timeout=timeout))
    checks.append(check_heartbeat(settings.data_dir, now=now, shard_ids=settings.shard_ids))
    checks.append(check_message_content(settings, offline, api=discord_api, timeout=timeout, now=now))
    return checks


def diagnose(
    corpus: str | None, offline: bool, *, discord_api: str = DISCORD_API, timeout: float = NETWORK_TIMEOUT
) -> list[Check]:
    """Parse the settings from the environment (as `footnote run` does), then run every check. A setting that
    does not parse is the one FAIL reported: the other checks need the settings."""
    try:
        settings = Settings.from_env(corpus)
    except ConfigError as exc:
        return [Check("configuration", Status.FAIL, str(exc), "fix the setting in .env or the environment")]
    return run_doctor(settings, offline, discord_api=discord_api, timeout=timeout)


def check_configuration(settings: Settings) -> Check:
    from index.tokenize import MODES

    problems = []
    if settings.tokenizer_mode not in MODES:
        problems.append(f"FOOTNOTE_TOKENIZER is {settings.tokenizer_mode!r}, not one of {', '.join(MODES)}")
    if settings.log_level and settings.log_level not in LOG_LEVELS:
        problems.append(f"LOG_LEVEL is {settings.log_level!r}, not one of {', '.join(LOG_LEVELS)}")
    if settings.dev_guild_id is not None and not 15 <= len(str(settings.dev_guild_id)) <= 21:
        problems.append(f"DEV_GUILD_ID {settings.dev_guild_id} does not look like a server id (17-20 digits)")
    if problems:
        return Check(
            "configuration",
            Status.FAIL,
            "; ".join(problems),
            "fix these settings in .env or the environment (the table is in README.md)",
        )
    sync = f"commands sync to server {settings.dev_guild_id}" if settings.dev_guild_id else "commands sync globally"
    if settings.shard_count is None:
        shards = "unsharded"
    elif settings.shard_ids is None:
        shards = f"all {settings.shard_count} shards in this process"
    else:
        shards = f"shards {','.join(map(str, settings.shard_ids))} of {settings.shard_count}"
    return Check(
        "configuration",
        Status.OK,
        f"settings parsed: corpus {settings.corpus_dir}, data {settings.data_dir}, tokenizer "
        f"{settings.tokenizer_mode}, {sync}, {shards}",
    )


def check_folders(settings: Settings) -> Check:
    """Which corpus, data folder and database are in use, and why (checkout, install, variable, option)."""
    from locations import folders_in_use

    folders = folders_in_use(settings.corpus_dir, settings.data_dir, settings.database_path)
    return Check("folders", Status.OK, folders.describe())


def check_token(settings: Settings) -> Check:
    """Presence and shape of DISCORD_TOKEN. The token itself never appears in a Check."""
    token = settings.discord_token
    if not token:
        return Check(
            "token",
            Status.WARN,
            "DISCORD_TOKEN is not set: `footnote ask`, `chat` and `eval` work without it; `footnote run` and "
            "`footnote sync` need it",
            TOKEN_HELP,
        )
    hint = _token_mistake(token)
    try:
        settings.require_token()
    except ConfigError:
        return Check("token", Status.FAIL, f"DISCORD_TOKEN is set but {hint or 'is not a bot token'}", TOKEN_HELP)
    bot_id = _token_bot_id(token)
    owner = f" of bot user {bot_id}" if bot_id else ""
    return Check("token", Status.OK, f"DISCORD_TOKEN is set and has the shape of a bot token{owner}")


def _token_mistake(token: str) -> str | None:
    """What a malformed token most likely is, in words that do not repeat it."""
    if token.lower().startswith("bot "):
        return "starts with 'Bot ': put only the token itself in DISCORD_TOKEN"
    if token[:1] in "'\"" or token[-1:] in "'\"":
        return "is wrapped in quotes: remove them"
    if any(c.isspace() for c in token):
        return "contains spaces or line breaks"
    if token.isdigit():
        return "is all digits: that is the application ID, not the bot token"
    if "." not in token and len(token) == 32:
        return "looks like the OAuth2 client secret, not the bot token"
    if token.count(".") != 2:
        return f"has {token.count('.') + 1} dot-separated parts instead of 3"
    return None


def _token_bot_id(token: str) -> str | None:
    """A bot token's first part is the bot's user id in base64 (public, safe to show)."""
    head = token.split(".", 1)[0]
    try:
        decoded = base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return decoded if decoded.isdigit() else None


def check_corpus(corpus_dir: Path) -> tuple[Check, CorpusLoad | None]:
    from index.corpus import load_corpus
    from index.errors import CorpusError

    fix_folder = (
        "set CORPUS_DIR (or --corpus) to a folder of documents (.txt, .md, .pdf, .html, .docx, .epub); see README.md,"
        " “Using your own corpus”"
    )
    if not corpus_dir.is_dir():
        return Check("corpus", Status.FAIL, f"corpus folder {corpus_dir} not found", fix_folder), None
    try:
        loaded = load_corpus(corpus_dir.resolve())
    except CorpusError as exc:
        return Check("corpus", Status.FAIL, str(exc), fix_folder), None
    except OSError as exc:
        return Check("corpus", Status.FAIL, f"cannot read {corpus_dir}: {exc}", "make the folder readable"), None
    problems = [f"{path.name}: {why}" for path, why in loaded.skipped]
    for name in ("catalog.toml", "glossary.toml"):
        problem = _toml_problem(corpus_dir / name)
        if problem:
            problems.append(f"{name} is ignored ({problem})")
    languages = sorted({lang for doc in loaded.documents for lang in doc.info.languages})
    found = f"{len(loaded.documents)} documents in {corpus_dir}" + (f" ({', '.join(languages)})" if languages else "")
    if problems:
        return (
            Check(
                "corpus",
                Status.WARN,
                f"{found}; " + "; ".join(problems),
                "fix or remove the files named; skipped documents are not searched",
            ),
            loaded,
        )
    return Check("corpus", Status.OK, found), loaded


def _toml_problem(path: Path) -> str | None:
    if not path.exists():
        return None
    try:
        with path.open("rb") as handle:
            tomllib.load(handle)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        return str(exc)
    return None


def expected_version(loaded: CorpusLoad, corpus_dir: Path, mode: str) -> str:
    """The corpus version Engine.open would compute (documents, glossary, user dictionary, tokeniser mode),
    without building anything. tests/test_doctor.py keeps it equal to Engine.open(...).version."""
    from index.corpus import corpus_fingerprint, read_data_file
    from index.glossary import Glossary

    corpus_dir = corpus_dir.resolve()
    glossary_file = corpus_dir / "glossary.toml"
    userdict = corpus_dir / "userdict.txt"
    extra = [
        mode.encode(),
        (read_data_file(glossary_file, quiet=True) or b"") if len(Glossary.load(glossary_file)) else b"",
    ]
    if userdict.exists():
        extra.append(read_data_file(userdict, quiet=True) or b"")
    return corpus_fingerprint(loaded.documents, extra)


def check_index(settings: Settings, loaded: CorpusLoad | None) -> Check:
    from index.errors import CorpusError, IndexFileError
    from index.indexfile import read_index
    from index.sources import index_path, index_source_key

    if loaded is None:
        return Check("index", Status.SKIP, "no corpus to index (see the corpus check)")
    path = index_path(settings.corpus_dir.resolve(), settings.data_dir)
    try:
        version = expected_version(loaded, settings.corpus_dir, settings.tokenizer_mode)
        # The same check as Engine.open: the corpus files' bytes, its data files, the settings and the index code.
        source_key = index_source_key(settings.corpus_dir, settings.data_dir, settings.tokenizer_mode)
        index = read_index(path, version, source_key=source_key)
    except IndexFileError as exc:
        missing = not path.exists()
        return Check(
            "index",
            Status.WARN,
            f"no index file yet at {path}" if missing else f"out of date: {exc}",
            "run `footnote index` to build it now; otherwise the bot builds it at start (and `/reload` rebuilds it "
            "while running), which delays the first answers",
        )
    except (OSError, CorpusError) as exc:
        return Check("index", Status.WARN, f"cannot read the corpus for its version: {exc}", "see the corpus check")
    return Check(
        "index",
        Status.OK,
        f"current: version {version}, {index.meta.get('passage_count', 0):,} passages, {path}",
    )


def check_database(path: Path) -> Check:
    """Open the real database file (creating and migrating it as the bot would) and take its write lock."""
    if str(path) == ":memory:":
        return Check(
            "database",
            Status.WARN,
            "DATABASE_PATH is :memory:: stored answers, conversation memory and digest schedules are lost at "
            "every restart",
            "set DATABASE_PATH to a file in a writable folder (in Docker: under the /data volume)",
        )
    fallback = (
        "the bot would fall back to an in-memory database: answer buttons, conversation memory and digest "
        "schedules would not survive a restart"
    )
    fix = "make the folder writable by this user (in Docker: the /data volume) or set DATABASE_PATH elsewhere"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _probe_write(path)
        version, latest = _migrate(path)
    except (OSError, sqlite3.Error) as exc:
        return Check("database", Status.FAIL, f"cannot write {path} ({exc}); {fallback}", fix)
    if version is None:
        return Check("database", Status.FAIL, f"{path} could not be opened; {fallback}", fix)
    detail = f"{path} writable, schema version {version}"
    if version > latest:
        return Check(
            "database",
            Status.WARN,
            f"{detail}, newer than this Footnote knows ({latest})",
            "the file was used by a newer Footnote; upgrade, or point DATABASE_PATH at another file",
        )
    free = shutil.disk_usage(path.parent).free
    if free < LOW_DISK_BYTES:
        return Check(
            "database", Status.WARN, f"{detail}, only {free // 2**20} MB free", "free disk space on that volume"
        )
    return Check("database", Status.OK, f"{detail}, {free // 2**20} MB free")


def check_postgres(url: str) -> Check:
    """Connect to DATABASE_URL (without changing anything) and compare its schema with this Footnote's."""
    from store import StoreError, migrations
    from store.postgres import PostgresStore, redact

    async def inspect() -> tuple[int, str]:
        store = await PostgresStore.connect(url, pool_size=1, migrate=False)
        try:
            version = await store.schema_version()
            row = await store._one(
                "SELECT current_setting('max_connections'), (SELECT COUNT(*) FROM pg_stat_activity"
                " WHERE datname = current_database()), current_setting('server_version')"
            )
            assert row is not None
            return version, f"PostgreSQL {row[2]}, {row[1]} of {row[0]} connections in use"
        finally:
            await store.close()

    where = redact(url)
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            version, server = pool.submit(asyncio.run, inspect()).result()
    except StoreError as exc:
        return Check(
            "database",
            Status.FAIL,
            str(exc),
            "fix DATABASE_URL (postgresql://user:password@host:5432/database), or unset it to use SQLite",
        )
    latest = max(v for v, _ in migrations("postgres"))
    detail = f"{where}: {server}, schema version {version}"
    if version == 0:
        return Check(
            "database",
            Status.WARN,
            f"{where}: {server}, Footnote's tables are not created yet",
            "run `footnote db migrate` (the bot also creates them at start, if its user may)",
        )
    if version < latest:
        return Check(
            "database", Status.WARN, f"{detail}, older than this Footnote's {latest}", "run `footnote db migrate`"
        )
    if version > latest:
        return Check(
            "database",
            Status.WARN,
            f"{detail}, newer than this Footnote knows ({latest})",
            "the database was used by a newer Footnote; upgrade this one",
        )
    return Check("database", Status.OK, detail)


def _probe_write(path: Path) -> None:
    """Take (and release) the write lock in WAL mode, as the store does; a running bot only delays it."""
    connection = sqlite3.connect(path, timeout=5.0, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("ROLLBACK")
    finally:
        connection.close()


def _migrate(path: Path) -> tuple[int | None, int]:
    """(schema version after Store.open, or None if it fell back to memory; the newest migration's version)."""
    from store import Store, migrations

    async def opened() -> int | None:
        store = await Store.open(path)
        try:
            return await store.schema_version() if store.persistent else None
        finally:
            await store.close()

    # Store is async (aiosqlite); its own loop in a worker thread works whether or not a loop runs here.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        version = pool.submit(asyncio.run, opened()).result()
    return version, max(v for v, _ in migrations())


def check_data_dir(data_dir: Path) -> Check:
    """The data folder holds the index files and jieba's dictionary as a memory-mapped word table (the segmenter
    learns a question's words from it instead of building its whole dictionary); both are remade when missing."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        probe = data_dir / f".doctor-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return Check(
            "jieba cache",
            Status.WARN,
            f"data folder {data_dir} is not writable ({exc.strerror or exc}): the index cannot be saved (it is "
            "rebuilt at every start) and the segmenter builds its whole dictionary at every start",
            "set DATA_DIR to a writable folder",
        )
    caches = sorted(p for p in data_dir.glob("jieba*") if p.suffix in (".npy", ".cache") and p.stat().st_size > 0)
    if not caches:
        return Check(
            "jieba cache",
            Status.OK,
            f"{data_dir} is writable; jieba's dictionary is cached there at first use (about 0.5 s, once)",
        )
    size = sum(p.stat().st_size for p in caches) / 2**20
    return Check("jieba cache", Status.OK, f"{caches[0]} ({size:.1f} MB); {data_dir} is writable")


def check_discord(
    settings: Settings, offline: bool, *, api: str = DISCORD_API, timeout: float = NETWORK_TIMEOUT
) -> Check:
    """GET /gateway (no token needed); with a well-formed token also GET /users/@me, which says whether Discord
    accepts it. Without a network this is a SKIP with a note, not a failure."""
    if offline:
        return Check("discord", Status.SKIP, "not checked (--offline)")
    started = time.perf_counter()
    try:
        gateway = _get_json(f"{api}/gateway", None, timeout)
    except urllib.error.HTTPError as exc:
        return Check(
            "discord",
            Status.WARN,
            f"{api}/gateway answered HTTP {exc.code}",
            "Discord may be having an outage (https://discordstatus.com); a proxy may also block it",
        )
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return _network_problem(api, exc, timeout)
    elapsed = (time.perf_counter() - started) * 1000
    reached = f"reached {api} in {elapsed:.0f} ms (gateway {gateway.get('url', '?')})"
    token = settings.discord_token
    if not token or _token_mistake(token):
        return Check("discord", Status.OK, f"{reached}; token not checked (see the token check)")
    try:
        me = _get_json(f"{api}/users/@me", token, timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 401:
            return Check("discord", Status.FAIL, f"{reached}, but Discord rejected the token (HTTP 401)", TOKEN_HELP)
        return Check("discord", Status.WARN, f"{reached}, but /users/@me answered HTTP {exc.code}", "try again later")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return _network_problem(api, exc, timeout)
    return Check("discord", Status.OK, f"{reached}; token accepted for bot {me.get('username', '?')} ({me.get('id')})")


def _get_json(url: str, token: str | None, timeout: float) -> dict:
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    if token:
        request.add_header("Authorization", f"Bot {token}")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        data = json.loads(response.read().decode("utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{url} did not answer a JSON object")
    return data


def _network_problem(api: str, exc: BaseException, timeout: float) -> Check:
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, socket.gaierror) or getattr(reason, "errno", None) in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return Check("discord", Status.SKIP, f"no network: {api} cannot be reached ({reason}); not checked")
    if isinstance(reason, TimeoutError | socket.timeout):
        detail = f"{api} did not answer within {timeout:.0f} s"
    else:
        detail = f"cannot reach {api}: {reason}"
    return Check(
        "discord",
        Status.WARN,
        detail,
        "check the network, a firewall or proxy (HTTPS_PROXY), and https://discordstatus.com",
    )


def check_heartbeat(
    data_dir: Path, *, now: Callable[[], float] = time.time, shard_ids: tuple[int, ...] | None = None
) -> Check:
    """Is a bot running with this data folder (and these shards), and connected to Discord? (SKIP when none
    runs.)"""
    path = heartbeat_path(data_dir, shard_ids)
    try:
        beat = Heartbeat.read(path)
    except ValueError as exc:
        return Check("bot heartbeat", Status.WARN, f"{path} is unreadable ({exc})", f"delete {path}")
    if beat is None:
        return Check("bot heartbeat", Status.SKIP, "no bot is running with this data folder")
    age = max(0.0, now() - beat.time)
    here = beat.host == socket.gethostname()
    if here and not _process_alive(beat.pid):
        return Check(
            "bot heartbeat",
            Status.SKIP,
            f"no bot is running (the last one, pid {beat.pid}, stopped {age:.0f} s ago without a clean shutdown)",
        )
    where = f"pid {beat.pid}" + ("" if here else f" on {beat.host}")
    if age > HEARTBEAT_STALE_SECONDS:
        return Check(
            "bot heartbeat",
            Status.FAIL,
            f"the bot ({where}) has not been connected to Discord for {age:.0f} s",
            "read the bot's log (network, token, Discord outage); it reconnects by itself; restart it if this lasts",
        )
    latency = f", latency {beat.latency_ms:.0f} ms" if beat.latency_ms is not None else ""
    return Check(
        "bot heartbeat",
        Status.OK,
        f"bot {beat.user} ({where}) connected to {beat.guilds} servers, last heartbeat {age:.0f} s ago{latency}",
    )


MESSAGE_CONTENT_FIX = (
    "enable it at https://discord.com/developers/applications (your application, Bot, Privileged Gateway Intents,"
    " Message Content), then restart the bot"
)
_APP_FLAGS_MESSAGE_CONTENT = (1 << 18) | (1 << 19)  # GATEWAY_MESSAGE_CONTENT, GATEWAY_MESSAGE_CONTENT_LIMITED


def check_message_content(
    settings: Settings,
    offline: bool,
    *,
    api: str = DISCORD_API,
    timeout: float = NETWORK_TIMEOUT,
    now: Callable[[], float] = time.time,
) -> Check:
    """Help channels read posts that do not mention the bot, which needs the privileged Message Content intent.
    Needed only when a help channel is configured. Refused when the running bot's heartbeat says Discord closed
    its gateway with 4014, or (online) when the application's flags say the intent is not enabled."""
    name = "message content"
    count = (
        _postgres_help_channel_count(settings.database_url)
        if settings.database_url
        else _help_channel_count(settings.database_path)
    )
    if count is None:
        return Check(name, Status.SKIP, "the database cannot be read (see the database check)")
    if count == 0:
        return Check(name, Status.OK, "not needed: no help channel is configured (/helpdesk set)")
    channels = f"{count} help channel{'s' if count != 1 else ''}"
    state = _live_message_content(settings.data_dir, now(), settings.shard_ids)
    if state == "refused":
        return Check(
            name,
            Status.FAIL,
            f"Discord closed the gateway with 4014 when the bot asked for the Message Content intent: the {channels}"
            " read forum titles only, and text help channels nothing",
            MESSAGE_CONTENT_FIX,
        )
    portal = None if offline else _portal_allows_message_content(settings, api, timeout)
    if portal is False:
        return Check(
            name,
            Status.FAIL,
            f"the Message Content intent is not enabled for this application, and {channels} need it",
            MESSAGE_CONTENT_FIX,
        )
    if state == "off":
        return Check(
            name,
            Status.WARN,
            f"the running bot started before the {channels} were set, so it did not ask for the Message Content"
            " intent: it reads forum titles only",
            "restart the bot (it asks for the intent at start-up when a help channel is configured)",
        )
    where = " and enabled for the application" if portal else ""
    running = "the running bot holds it" if state == "on" else "asked for at the bot's next start"
    return Check(name, Status.OK, f"needed by {channels}: {running}{where}")


def _help_channel_count(database: Path) -> int | None:
    """How many help channels the database holds (read-only; 0 before the table exists)."""
    if str(database) == ":memory:" or not database.is_file():
        return 0
    try:
        connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5.0)
        try:
            (count,) = connection.execute("SELECT COUNT(*) FROM helpdesk_channels").fetchone()
        finally:
            connection.close()
    except sqlite3.OperationalError as exc:
        return 0 if "no such table" in str(exc) else None
    except sqlite3.Error:
        return None
    return int(count)


def _postgres_help_channel_count(url: str) -> int | None:
    """How many help channels the PostgreSQL database holds (read-only; 0 before the table exists)."""
    from store import StoreError
    from store.postgres import PostgresStore

    async def count() -> int:
        store = await PostgresStore.connect(url, pool_size=1, migrate=False)
        try:
            exists = await store._one("SELECT to_regclass('helpdesk_channels') IS NOT NULL")
            if exists is None or not exists[0]:
                return 0
            row = await store._one("SELECT COUNT(*) FROM helpdesk_channels")
            return int(row[0]) if row is not None else 0
        finally:
            await store.close()

    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, count()).result()
    except StoreError:
        return None


def _live_message_content(data_dir: Path, now: float, shard_ids: tuple[int, ...] | None = None) -> str | None:
    """The running bot's Message Content state from its heartbeat (this process's shards' heartbeat when sharded;
    None when no bot runs, or an old one)."""
    try:
        beat = Heartbeat.read(heartbeat_path(data_dir, shard_ids))
    except ValueError:
        return None
    if beat is None or now - beat.time > HEARTBEAT_STALE_SECONDS:
        return None
    if beat.host == socket.gethostname() and not _process_alive(beat.pid):
        return None
    return beat.message_content


def _portal_allows_message_content(settings: Settings, api: str, timeout: float) -> bool | None:
    """Whether the application may use the intent (its flags), or None when that cannot be asked."""
    token = settings.discord_token
    if not token or _token_mistake(token):
        return None
    try:
        application = _get_json(f"{api}/oauth2/applications/@me", token, timeout)
    except (urllib.error.URLError, OSError, ValueError):
        return None
    return bool(int(application.get("flags") or 0) & _APP_FLAGS_MESSAGE_CONTENT)


def _process_alive(pid: int) -> bool:
    if os.name != "posix":  # os.kill(pid, 0) would terminate the process on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# -- output --------------------------------------------------------------------------------------------------------


def exit_code(checks: Sequence[Check]) -> int:
    return 1 if any(c.status is Status.FAIL for c in checks) else 0


def format_checks(checks: Sequence[Check], quiet: bool = False) -> str:
    """One line per check (`STATUS  name  detail`), a `fix:` line under each WARN and FAIL, then a summary.
    `quiet` keeps only the WARN and FAIL lines (nothing at all when every check passed or was skipped)."""
    width = max((len(c.name) for c in checks), default=0)
    lines = []
    for check in checks:
        if quiet and check.status in (Status.OK, Status.SKIP):
            continue
        lines.append(f"{check.status.value:<5} {check.name:<{width}}  {check.detail}")
        if check.fix and check.status in (Status.WARN, Status.FAIL):
            lines.append(f"{'':<5} {'':<{width}}  fix: {check.fix}")
    if not quiet:
        counts = {status: sum(c.status is status for c in checks) for status in Status}
        lines.append(
            f"\n{counts[Status.FAIL]} failing, {counts[Status.WARN]} to look at, {counts[Status.OK]} fine, "
            f"{counts[Status.SKIP]} skipped"
        )
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--offline", action="store_true", help="do not contact Discord (the Docker HEALTHCHECK)")
    parser.add_argument("--quiet", action="store_true", help="print only warnings and failures")


def cli(corpus: str | None, offline: bool, quiet: bool, stdout: TextIO | None = None) -> int:
    """`footnote doctor`: print the checks; 1 when one failed, else 0."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    checks = diagnose(corpus, offline)
    text = format_checks(checks, quiet=quiet)
    if text:
        print(text, file=stdout or sys.stdout)
    return exit_code(checks)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m doctor` (the same as `footnote doctor`)."""
    load_env()
    parser = argparse.ArgumentParser(prog="footnote doctor", description="Check Footnote's setup.")
    parser.add_argument("--corpus", help="corpus folder (default: CORPUS_DIR or the bundled seeds)")
    add_arguments(parser)
    args = parser.parse_args(argv)
    return cli(args.corpus, args.offline, args.quiet)


if __name__ == "__main__":
    sys.exit(main())
