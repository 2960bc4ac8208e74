"""A conversation with the corpus: follow-up resolution over the stored turns of one scope, shared by the
Discord cogs and `footnote chat`. No discord import.

Memory is best effort: when the database cannot be read or written (SQLite on a read-only or full disk),
questions are still answered (as new questions) and the problem is logged once. A database that is unreachable
for now (PostgreSQL restarting, `StoreUnavailable`) is different: the question is refused with that temporary
error, so no answer is given whose turn and buttons would be lost, and the next question after the database is
back works as usual.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from index.engine import Answer, Engine
from index.errors import UserFacingError
from index.followup import Resolution, resolve
from store import Store, StoreError, StoreUnavailable, Turn

log = logging.getLogger(__name__)


def dm_scope(user_id: int) -> str:
    return f"dm:{user_id}"


def guild_scope(guild_id: int, channel_id: int, user_id: int) -> str:
    """One user's conversation in one channel (a thread is a channel of its own)."""
    return f"guild:{guild_id}:channel:{channel_id}:user:{user_id}"


@dataclass(frozen=True)
class Reply:
    question: str  # as the user asked it
    answer: Answer
    resolution: Resolution
    answer_id: int | None  # the stored answer behind the message's buttons; None when memory is unavailable
    turn_id: int | None

    @property
    def understood(self) -> str:
        return self.resolution.understood if self.resolution.rewritten else ""


class Conversation:
    def __init__(
        self,
        engine: Engine | Callable[[], Engine],
        store: Store,
        *,
        window_minutes: float = 30.0,
        clock: Callable[[], float] = time.time,
        run: Callable[..., Awaitable[Any]] = asyncio.to_thread,
    ) -> None:
        """`run(fn, *args)` runs engine calls off the event loop (the bot passes its engine thread)."""
        # A callable is asked for the engine at every question, so a corpus reload takes effect at once.
        self._engine = engine
        self._run = run
        self.store = store
        self.window = window_minutes * 60
        self.clock = clock
        self._memory_warned = False

    @property
    def engine(self) -> Engine:
        return self._engine() if callable(self._engine) else self._engine

    def _memory_failed(self, exc: Exception) -> None:
        if isinstance(exc, StoreUnavailable):
            raise exc
        if not self._memory_warned:
            self._memory_warned = True
            log.warning("conversation memory unavailable (%s): answering without it", exc)

    async def previous(self, scope: str, *, public_only: bool = False) -> Turn | None:
        try:
            return await self.store.last_turn(scope, self.clock() - self.window, public_only=public_only)
        except StoreError as exc:
            self._memory_failed(exc)
            return None

    async def ask(
        self,
        *,
        scope: str,
        user_id: int,
        guild_id: int | None,
        channel_id: int | None,
        question: str,
        k: int,
        private: bool = False,
    ) -> Reply:
        """Answer `question` in the light of the scope's previous turn, and remember the turn. A public
        question never follows up on a private one: its "Understood as" would show the private question."""
        engine = self.engine
        previous = await self.previous(scope, public_only=not private and guild_id is not None)
        resolution = resolve(
            question,
            previous.query if previous else None,
            engine.glossary,
            engine.analyzer,
            previous.context if previous else "",
        )
        offset = 0
        shown_before: tuple[int, ...] = ()
        if resolution.kind == "more":
            if previous is None:
                raise UserFacingError("There is no earlier question here to continue; ask a question first.")
            # "more" is the next page of the resolved question: the same query and context, past the results
            # already shown. (Excluding them instead would judge coverage on what is left, and answer "not in
            # the corpus" to a question that was answered.)
            shown_before = previous.shown
            offset = len(shown_before)
        answer = await self._run(engine.ask, resolution.query, k, offset, (), resolution.context)
        if resolution.kind == "more" and not answer.abstained and not answer.results:
            raise UserFacingError("There are no more excerpts for that question; ask another one.")
        shown = shown_before + tuple(r.passage.pid for r in answer.results)
        answer_id = turn_id = None
        try:
            answer_id = await self.store.save_answer(
                question=question,
                user_id=user_id,
                guild_id=guild_id,
                channel_id=channel_id,
                private=private,
                corpus_version=engine.version,
                abstained=answer.abstained,
                params={"query": resolution.query, "context": resolution.context, "offset": offset},
            )
            turn_id = await self.store.add_turn(
                scope=scope,
                user_id=user_id,
                guild_id=guild_id,
                question=question,
                query=resolution.query,
                kind=resolution.kind,
                shown=shown,
                abstained=answer.abstained,
                corpus_version=engine.version,
                answer_id=answer_id,
                now=self.clock(),
                channel_id=channel_id,
                private=private,
                context=resolution.context,
            )
        except StoreError as exc:
            self._memory_failed(exc)
        return Reply(question, answer, resolution, answer_id, turn_id)
