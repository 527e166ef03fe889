"""MLproject entry point ``clean``: load, validate, split, cleaning report (``steward clean``)."""

import sys

from _forward import forward

forward("clean", sys.argv[1:])
