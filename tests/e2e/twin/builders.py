"""Fake Discord objects as plain payload dicts, shaped as Discord sends them: users, roles, channels, members,
guilds (`make_*`)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .protocol import DISCORD_EPOCH_MS, EVERYONE_PERMISSIONS, JSON, _id_of, _now_iso, new_snowflake

# --------------------------------------------------------------------------------------------------------------------
# Builders for fake Discord objects (plain payload dicts, as Discord sends them)


def make_user(
    username: str,
    *,
    user_id: str | int | None = None,
    bot: bool = False,
    global_name: str | None = None,
) -> JSON:
    """A user payload with a fresh snowflake (or ``user_id``)."""
    return {
        "id": str(user_id) if user_id is not None else new_snowflake(),
        "username": username,
        "discriminator": "0",
        "global_name": None if bot else (global_name or username.title()),
        "avatar": None,
        "bot": bot,
        "system": False,
        "public_flags": 0,
        "flags": 0,
        "banner": None,
        "accent_color": None,
        "avatar_decoration_data": None,
    }


def make_role(
    name: str,
    *,
    guild_id: str,
    role_id: str | None = None,
    permissions: int = EVERYONE_PERMISSIONS,
    position: int = 0,
    managed: bool = False,
) -> JSON:
    """A role payload.  The @everyone role has ``role_id == guild_id``."""
    return {
        "id": role_id or new_snowflake(),
        "name": name,
        "color": 0,
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": position,
        "permissions": str(permissions),
        "managed": managed,
        "mentionable": False,
        "flags": 0,
    }


def make_text_channel(
    name: str,
    *,
    guild_id: str,
    channel_id: str | None = None,
    position: int = 0,
    topic: str | None = None,
    nsfw: bool = False,
) -> JSON:
    """A guild text channel (type 0) payload."""
    return {
        "id": channel_id or new_snowflake(),
        "type": 0,
        "guild_id": guild_id,
        "name": name,
        "position": position,
        "permission_overwrites": [],
        "topic": topic,
        "nsfw": nsfw,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "parent_id": None,
        "flags": 0,
    }


def make_dm_channel(user: Mapping[str, Any], *, channel_id: str | None = None) -> JSON:
    """A DM channel (type 1) payload between the bot and ``user``."""
    return {
        "id": channel_id or new_snowflake(),
        "type": 1,
        "recipients": [dict(user)],
        "last_message_id": None,
        "flags": 0,
    }


def make_member(user: Mapping[str, Any], *, roles: Iterable[str] = (), nick: str | None = None) -> JSON:
    """A guild member payload (with its ``user``)."""
    return {
        "user": dict(user),
        "roles": [str(r) for r in roles],
        "nick": nick,
        "avatar": None,
        "banner": None,
        "joined_at": _now_iso(),
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "communication_disabled_until": None,
    }


def make_guild(
    name: str,
    *,
    owner: Mapping[str, Any],
    guild_id: str | None = None,
    channel_names: Sequence[str] = ("general",),
    members: Iterable[Mapping[str, Any]] = (),
) -> JSON:
    """A guild payload in GUILD_CREATE shape: ``channels``, ``roles`` (with @everyone) and ``members`` inline.

    ``members`` are user payloads; the owner is always a member.  The twin adds the bot (with a managed role) when
    the guild is given to :class:`DiscordTwin`.
    """
    gid = guild_id or new_snowflake()
    everyone = make_role("@everyone", guild_id=gid, role_id=gid)
    channels = [make_text_channel(n, guild_id=gid, position=i) for i, n in enumerate(channel_names)]
    users = [dict(owner)] + [dict(u) for u in members if _id_of(u) != _id_of(owner)]
    return {
        "id": gid,
        "name": name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "owner_id": _id_of(owner),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": [everyone],
        "emojis": [],
        "stickers": [],
        "features": [],
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": channels[0]["id"] if channels else None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "safety_alerts_channel_id": None,
        "max_members": 500_000,
        "vanity_url_code": None,
        "description": None,
        "banner": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "premium_progress_bar_enabled": False,
        "preferred_locale": "en-US",
        "nsfw_level": 0,
        "channels": channels,
        "members": [make_member(u) for u in users],
    }


_spread = itertools.count()


def guild_ids_across_shards(count: int, shard_count: int) -> list[str]:
    """`count` guild snowflakes spread round-robin over the shards: the i-th lands on shard i % shard_count
    (Discord's rule: ``(guild_id >> 22) % shard_count``), whatever millisecond they are made in."""
    millis = int(time.time() * 1000) - DISCORD_EPOCH_MS
    millis -= millis % shard_count  # a multiple of shard_count: millis + i is on shard i % shard_count
    ids = []
    for i in range(count):
        ids.append(str(((millis + i) << 22) | (1 << 17) | (next(_spread) & 0xFFF)))
    return ids
