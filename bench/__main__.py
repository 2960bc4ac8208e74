"""`python -m bench`: the same as `footnote bench`; with `--measure NAME`, one measurement process (bench/ starts
these itself, one per system and size, so that each peak RSS is the process's own)."""

import sys

from bench import main

if __name__ == "__main__":  # spawned worker processes import this module too
    sys.exit(main())
