"""The interpreter settings the bot's process runs with (lifecycle.tune_for_serving)."""

import gc
import sys

from lifecycle import SWITCH_INTERVAL_SECONDS, tune_for_serving


def test_tune_for_serving_shortens_the_switch_interval_and_freezes_what_is_alive():
    before = sys.getswitchinterval()
    long_lived = [object() for _ in range(1000)]
    try:
        tune_for_serving()
        assert sys.getswitchinterval() == SWITCH_INTERVAL_SECONDS < before
        assert gc.get_freeze_count() >= len(long_lived)
    finally:
        gc.unfreeze()
        sys.setswitchinterval(before)
