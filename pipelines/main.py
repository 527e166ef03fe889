"""MLproject entry point ``main``: the whole job (``steward run``)."""

import sys

from _forward import forward

forward("run", sys.argv[1:])
