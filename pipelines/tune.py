"""MLproject entry point ``tune``: Optuna or grid search, one child run per trial (``steward tune``)."""

import sys

from _forward import forward

forward("tune", sys.argv[1:])
