"""The bot's token reset while `footnote run` runs (issue 14, point 9): one clear line, a failing exit, no
traceback. The real composition root against the twin (the harness of tests/test_shutdown.py)."""

from __future__ import annotations

import asyncio
import sys

import pytest

from .e2e.twin import CHANNEL_MESSAGES, DiscordTwin, make_user
from .test_shutdown import HARNESS, harness_env


@pytest.mark.asyncio
@pytest.mark.parametrize("first", ["gateway", "rest"])
async def test_a_token_reset_mid_run_ends_footnote_run_with_one_clear_line(engine, data_dir, tmp_path, first):
    """`gateway`: the reset as Discord does it (REST 401 and the gateway closed with 4004); `rest`: a REST
    request is answered 401 before the gateway says anything."""
    harness = tmp_path / "harness.py"
    harness.write_text(HARNESS, encoding="utf-8")
    async with DiscordTwin() as twin:
        env = harness_env(twin, data_dir, tmp_path / "footnote.sqlite3", answer_delay=0)
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(harness), cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        try:
            await twin.wait_until_ready(timeout=30)
            if first == "gateway":
                twin.reset_token()
            else:
                twin.fail(CHANNEL_MESSAGES, 401, method="POST")
                mention = f"{twin.mention(twin.bot_user)} code red"
                await twin.guild_message(twin.channel["id"], make_user("reader"), mention, mentions=[twin.bot_user])
            code = await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
            print((await process.stdout.read()).decode()[-5000:])
            raise
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        output = (await process.stdout.read()).decode("utf-8", "replace")
    assert code == 2, output
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if "token was reset or revoked" in line]
    assert len(lines) == 1 and lines[0].startswith("footnote: "), output
