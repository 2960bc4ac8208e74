"""The one question budget (cogs/cooldown.py): a sliding window per user, and the message that says when to ask
again. The end-to-end tests that every way of asking shares it are in tests/e2e/test_cooldown_bot.py."""

import re
from types import SimpleNamespace

import pytest
from discord.app_commands import Cooldown

from cogs.cooldown import QuestionCooldown, TooManyQuestions, question_cooldown
from index.errors import UserFacingError


def test_the_window_slides():
    now = [0.0]
    cooldown = QuestionCooldown(2, 10.0, clock=lambda: now[0])
    assert cooldown.retry_after(1) == 0 and cooldown.retry_after(1) == 0
    assert cooldown.retry_after(1) == pytest.approx(10.0)
    now[0] = 9.0
    assert cooldown.retry_after(1) == pytest.approx(1.0)
    now[0] = 10.0
    assert cooldown.retry_after(1) == 0
    assert cooldown.retry_after(2) == 0, "each user has a budget of their own"


def test_never_more_than_rate_questions_in_any_window_unlike_discord_py_cooldown():
    # One question at t=1000, four just before the window ends, five just after it: discord.py's Cooldown (a fixed
    # window that refills at once) lets 9 through within one second; the sliding window lets 1 of the last 5.
    times = [1000.0] + [1029.5] * 4 + [1030.5] * 5
    discords = Cooldown(5, 30.0)
    allowed_by_discord = [t for t in times if not discords.update_rate_limit(t)]
    now = [0.0]
    ours = QuestionCooldown(5, 30.0, clock=lambda: now[0])
    allowed_by_ours = []
    for t in times:
        now[0] = t
        if ours.retry_after(1) == 0:
            allowed_by_ours.append(t)
    assert len([t for t in allowed_by_discord if t >= 1029.5]) == 9
    assert allowed_by_ours == [1000.0, 1029.5, 1029.5, 1029.5, 1029.5, 1030.5]
    for start in allowed_by_ours:
        assert sum(start <= t < start + 30 for t in allowed_by_ours) <= 5


def test_the_refusal_says_when_to_ask_again_in_seconds_and_as_a_discord_timestamp():
    now = [50.0]
    cooldown = QuestionCooldown(1, 30.0, clock=lambda: now[0], wall_clock=lambda: 1_700_000_000.0 + now[0])
    cooldown.check(7)
    now[0] = 62.4
    with pytest.raises(TooManyQuestions) as refused:
        cooldown.check(7)
    assert isinstance(refused.value, UserFacingError)
    assert refused.value.retry_after == pytest.approx(17.6)
    assert re.fullmatch(r"You're asking quickly: try again in 18 s \(at <t:1700000080:T>\)\.", str(refused.value))


def test_the_bots_budget_is_made_once_from_its_settings():
    bot = SimpleNamespace(settings=SimpleNamespace(cooldown_rate=3, cooldown_per=12.0))
    cooldown = question_cooldown(bot)
    assert (cooldown.rate, cooldown.per) == (3, 12.0)
    assert question_cooldown(bot) is cooldown
    host = SimpleNamespace()  # a host bot without Footnote's settings: the defaults of README.md
    assert (question_cooldown(host).rate, question_cooldown(host).per) == (5, 30.0)
