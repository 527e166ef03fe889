"""MLproject entry point ``retrain``: ``steward retrain`` on a named dataset (cron-safe)."""

import sys

from _forward import forward

forward("retrain", sys.argv[1:])
