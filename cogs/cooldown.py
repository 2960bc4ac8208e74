"""One question budget per user, shared by every way of asking: the /ask, /timeline, /compare and /quote commands,
the buttons that run a query (◀ ▶ and Full passages), DMs and mentions. At most COOLDOWN_RATE questions in any
COOLDOWN_SECONDS (5 per 30 s by default); the refusal says when to try again, in seconds and as a Discord
timestamp (shown in the reader's own time zone).

The budget is kept on the bot (`FootnoteBot.question_cooldown`, made once from its settings); a host bot that
loads the cogs as a plugin gets one made from its `settings` (or the defaults) the first time a cog asks for it.

Why not discord.py's `Cooldown` (what `app_commands.checks.cooldown` and `commands.CooldownMapping` use): its
bucket is a fixed window that refills every token `per` seconds after the window's first use, so a user who asks
once and then `rate - 1` times just before the window ends may ask `rate` more just after it: twice the rate
within a second (tests/cogs/test_cooldown.py shows it). The README promises at most `rate` questions in any
`per` seconds, which a sliding window keeps: each question counts for exactly `per` seconds.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from index.errors import UserFacingError

DEFAULT_RATE = 5
DEFAULT_PER = 30.0
_FORGET_AFTER_USERS = 10_000  # above this many users tracked, those idle for a whole window are forgotten


class TooManyQuestions(UserFacingError):
    """A user asked beyond their budget. The message says when they may ask again."""

    def __init__(self, retry_after: float, at: float) -> None:
        self.retry_after = retry_after
        seconds = max(1, math.ceil(retry_after))
        super().__init__(f"You're asking quickly: try again in {seconds} s (at <t:{math.ceil(at)}:T>).")


class QuestionCooldown:
    """At most `rate` questions per `per` seconds for each user (a sliding window)."""

    def __init__(
        self,
        rate: int = DEFAULT_RATE,
        per: float = DEFAULT_PER,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.rate, self.per = rate, per
        self._clock, self._wall_clock = clock, wall_clock
        self._asked: dict[int, deque[float]] = {}

    @classmethod
    def from_settings(cls, settings: Any) -> QuestionCooldown:
        """From COOLDOWN_RATE / COOLDOWN_SECONDS (config.Settings), or the defaults without settings."""
        return cls(getattr(settings, "cooldown_rate", DEFAULT_RATE), getattr(settings, "cooldown_per", DEFAULT_PER))

    def retry_after(self, user_id: int) -> float:
        """0 when the user may ask now (and counts the question), else the seconds until they may."""
        now = self._clock()
        asked = self._asked.setdefault(user_id, deque())
        while asked and now - asked[0] >= self.per:
            asked.popleft()
        if len(asked) >= self.rate:
            return self.per - (now - asked[0])
        asked.append(now)
        if len(self._asked) > _FORGET_AFTER_USERS:
            for key in [k for k, v in self._asked.items() if not v or now - v[-1] >= self.per]:
                del self._asked[key]
        return 0.0

    def check(self, user_id: int) -> None:
        """Count a question of `user_id`; raise TooManyQuestions (a UserFacingError) when over the budget."""
        wait = self.retry_after(user_id)
        if wait > 0:
            raise TooManyQuestions(wait, self._wall_clock() + wait)


def question_cooldown(bot: Any) -> QuestionCooldown:
    """The bot's question budget; made from its settings (and kept on it) for a host bot that has none."""
    cooldown = getattr(bot, "question_cooldown", None)
    if not isinstance(cooldown, QuestionCooldown):
        cooldown = QuestionCooldown.from_settings(getattr(bot, "settings", None))
        bot.question_cooldown = cooldown
    return cooldown
