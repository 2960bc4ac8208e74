"""The interpreter settings the bot's process runs with (lifecycle.tune_for_serving)."""

import gc
import sys

from lifecycle import SWITCH_INTERVAL_SECONDS, tune_for_serving


def test_tune_for_serving_shortens_the_switch_interval_and_freezes_what_is_alive():
    before = sys.getswitchinterval()
    gc.unfreeze()
    long_lived = [[] for _ in range(1000)]  # tracked by the collector, as an index's containers are
    assert any(o is long_lived[0] for o in gc.get_objects())
    try:
        tune_for_serving()
        assert sys.getswitchinterval() == SWITCH_INTERVAL_SECONDS < before
        assert gc.get_freeze_count() >= len(long_lived)
        assert not any(o is long_lived[0] for o in gc.get_objects()), "moved out of the collected generations"
    finally:
        gc.unfreeze()
        sys.setswitchinterval(before)


def test_after_a_reload_freezing_skips_the_full_collection(monkeypatch):
    from lifecycle import freeze_long_lived

    collections = []
    monkeypatch.setattr(gc, "collect", lambda *args: collections.append(args) or 0)
    try:
        freeze_long_lived(collect=False)
        assert collections == [] and gc.get_freeze_count() > 0
        freeze_long_lived()
        assert len(collections) == 1
    finally:
        gc.unfreeze()
