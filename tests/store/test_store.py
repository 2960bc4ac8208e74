import sqlite3

import pytest

from store import MEMORY, Store, migrations


@pytest.mark.asyncio
async def test_migrates_an_empty_database_and_uses_wal(tmp_path):
    path = tmp_path / "db.sqlite3"
    store = await Store.open(path)
    try:
        assert await store.schema_version() == migrations()[-1][0]
        answer_id = await store.save_answer(
            question="q", user_id=1, guild_id=None, channel_id=None, private=False, corpus_version="v",
            abstained=False, kind="timeline", params={"topic": "Altman"},
        )  # fmt: skip
        record = await store.get_answer(answer_id)
        assert (record.kind, record.params) == ("timeline", {"topic": "Altman"})
    finally:
        await store.close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.asyncio
async def test_migrates_a_version_1_database_keeping_its_rows(tmp_path):
    path = tmp_path / "old.sqlite3"
    version, first = migrations()[0]
    with sqlite3.connect(path) as raw:
        raw.executescript(first)
        raw.execute(f"PRAGMA user_version = {version}")
        raw.execute(
            "INSERT INTO answers (question, user_id, private, corpus_version, abstained, created_at)"
            " VALUES ('old question', 5, 0, 'v0', 0, 0)"
        )
    store = await Store.open(path)
    try:
        record = await store.get_answer(1)
        assert record.question == "old question" and record.kind == "ask" and record.params == {}
        assert await store.schema_version() == migrations()[-1][0]
    finally:
        await store.close()


@pytest.mark.asyncio
async def test_unusable_database_falls_back_to_memory_and_says_so(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("")
    store = await Store.open(blocker / "db.sqlite3")
    try:
        assert store.path == MEMORY and not store.persistent
        assert "cannot be used" in caplog.text
        await store.set_meta("k", "v")
        assert await store.get_meta("k") == "v"
    finally:
        await store.close()


@pytest.mark.asyncio
async def test_feedback_replaces_a_users_earlier_vote(tmp_path):
    store = await Store.open(tmp_path / "db.sqlite3")
    try:
        answer_id = await store.save_answer(
            question="q", user_id=1, guild_id=1, channel_id=2, private=True, corpus_version="v", abstained=False
        )
        await store.record_feedback(answer_id, 9, 1)
        await store.record_feedback(answer_id, 9, -1)
        await store.record_feedback(answer_id, 10, 1)
        assert await store.feedback_for(answer_id) == {9: -1, 10: 1}
    finally:
        await store.close()


@pytest.mark.asyncio
async def test_migrating_turns_takes_privacy_from_their_answers_and_keeps_the_unknown_private(tmp_path):
    path = tmp_path / "v4.sqlite3"
    with sqlite3.connect(path) as raw:
        for version, sql in migrations():
            if version <= 4:
                raw.executescript(sql)
        raw.execute("PRAGMA user_version = 4")
        answer = "INSERT INTO answers (id, question, user_id, guild_id, channel_id, private, corpus_version, abstained,"
        raw.execute(answer + " created_at) VALUES (1, 'secret plan?', 1, 5, 9, 1, 'v', 1, 10)")
        raw.execute(answer + " created_at) VALUES (2, 'public gap?', 2, 5, 9, 0, 'v', 1, 10)")
        turn = "INSERT INTO turns (scope, user_id, guild_id, question, query, abstained, answer_id, corpus_version,"
        raw.execute(turn + " created_at) VALUES ('guild:5:channel:9:user:1', 1, 5, 'secret plan?', 'q', 1, 1, 'v', 10)")
        raw.execute(turn + " created_at) VALUES ('guild:5:channel:9:user:2', 2, 5, 'public gap?', 'q', 1, 2, 'v', 10)")
        raw.execute(turn + " created_at) VALUES ('guild:5:channel:9:user:3', 3, 5, 'unlinked?', 'q', 1, NULL, 'v', 10)")
    store = await Store.open(path)
    try:
        assert [g.question for g in await store.gaps(5, channels=[9])] == ["public gap?"]
        assert await store.gaps_elsewhere(5, channels=[]) == 1
        [public] = await store.history(2, guild_id=5)
        assert (public.channel_id, public.private) == (9, False)
    finally:
        await store.close()


@pytest.mark.asyncio
async def test_the_database_is_readable_by_its_owner_only(tmp_path):
    import os
    import stat

    path = tmp_path / "new.sqlite3"
    store = await Store.open(path)
    try:
        await store.set_meta("k", "v")  # the WAL and shared-memory files exist now
        for name in (path, f"{path}-wal", f"{path}-shm"):
            assert stat.S_IMODE(os.stat(name).st_mode) == 0o600, name
    finally:
        await store.close()
    # An existing database that others could read is tightened when opened.
    os.chmod(path, 0o644)
    store = await Store.open(path)
    await store.close()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


@pytest.mark.asyncio
async def test_a_database_deleted_under_a_running_process_is_noticed_and_nothing_is_lost(tmp_path, caplog):
    import os

    path = tmp_path / "footnote.sqlite3"
    store = await Store.open(path)
    try:
        before = [
            await store.save_answer(
                question=f"q{i}",
                user_id=1,
                guild_id=None,
                channel_id=None,
                private=False,
                corpus_version="v",
                abstained=False,
            )
            for i in range(5)
        ]
        for name in (path, f"{path}-wal", f"{path}-shm"):
            if os.path.exists(name):
                os.remove(name)
        after = await store.save_answer(
            question="after", user_id=1, guild_id=None, channel_id=None, private=False, corpus_version="v",
            abstained=False,
        )  # fmt: skip
        assert "was deleted while Footnote was running" in caplog.text
        assert (await store.get_answer(before[0])).question == "q0"
    finally:
        await store.close()
    with sqlite3.connect(path) as raw:  # what a restart would read
        questions = [row[0] for row in raw.execute("SELECT question FROM answers ORDER BY id")]
    assert questions == [f"q{i}" for i in range(5)] + ["after"] and after == before[-1] + 1
    assert oct(os.stat(path).st_mode & 0o777) == oct(0o600)


@pytest.mark.asyncio
async def test_a_deleted_database_is_noticed_without_a_write(tmp_path, caplog):
    import os

    path = tmp_path / "footnote.sqlite3"
    store = await Store.open(path)
    try:
        await store.set_meta("kept", "yes")
        os.remove(path)
        await store.check_file()
        assert "was deleted" in caplog.text and path.exists()
    finally:
        await store.close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT value FROM meta WHERE key = 'kept'").fetchone() == ("yes",)
