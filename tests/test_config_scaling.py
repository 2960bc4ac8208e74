"""The settings that take Footnote past one process: DATABASE_URL, SHARD_COUNT and SHARD_IDS."""

from __future__ import annotations

import pytest

from config import ConfigError, Settings, parse_shard_ids


@pytest.fixture
def environment(monkeypatch):
    for name in ("DATABASE_URL", "DATABASE_PATH", "SHARD_COUNT", "SHARD_IDS", "DATABASE_POOL_SIZE", "DATA_DIR"):
        monkeypatch.delenv(name, raising=False)

    def set_env(**values: str) -> Settings:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        return Settings.from_env()

    return set_env


def test_without_them_one_unsharded_process_on_sqlite(environment):
    settings = environment()
    assert settings.shard_count is None and settings.shard_ids is None
    assert settings.database == settings.database_path and str(settings.database).endswith("footnote.sqlite3")


def test_database_url_selects_postgres_and_never_shows_its_password(environment):
    settings = environment(DATABASE_URL="postgresql://footnote:s3cret@db:5432/footnote", DATABASE_POOL_SIZE="8")
    assert settings.database == "postgresql://footnote:s3cret@db:5432/footnote" and settings.database_pool_size == 8
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize("url", ["mysql://x@y/z", "sqlite:///data.db", "footnote.sqlite3"])
def test_a_database_url_that_is_not_postgres_says_so(environment, url):
    with pytest.raises(ConfigError, match="must be a PostgreSQL URL"):
        environment(DATABASE_URL=url)


@pytest.mark.parametrize(
    ("value", "count", "expected"),
    [("0-3", 8, (0, 1, 2, 3)), ("4,5,6,7", 8, (4, 5, 6, 7)), ("0-1, 6", 8, (0, 1, 6)), ("2", 4, (2,))],
)
def test_shard_ids_as_ranges_and_lists(value, count, expected):
    assert parse_shard_ids(value, count) == expected


@pytest.mark.parametrize(
    ("value", "count", "says"),
    [
        ("0-4", 4, "numbered 0 to 3"),
        ("3-1", 4, "runs backwards"),
        ("0,0", 4, "twice"),
        ("a-b", 4, "like 0-3"),
        ("", 4, "like 0-3"),
        ("1,,2", 4, "like 0-3"),
    ],
)
def test_bad_shard_ids_say_what_is_wrong(value, count, says):
    with pytest.raises(ConfigError, match=says):
        parse_shard_ids(value, count)


def test_shard_settings_together(environment):
    settings = environment(SHARD_COUNT="4", SHARD_IDS="2-3")
    assert (settings.shard_count, settings.shard_ids) == (4, (2, 3))
    assert environment(SHARD_IDS="").shard_ids is None  # all four shards in this process


def test_shard_ids_without_a_count_or_a_zero_count_are_refused(monkeypatch, environment):
    with pytest.raises(ConfigError, match="SHARD_IDS needs SHARD_COUNT"):
        environment(SHARD_IDS="0")
    monkeypatch.delenv("SHARD_IDS")
    with pytest.raises(ConfigError, match="at least 1"):
        environment(SHARD_COUNT="0")
