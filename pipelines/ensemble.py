"""MLproject entry point ``ensemble``: one model from tuned runs, compared with its best member."""

import sys

from _forward import forward

forward("ensemble", sys.argv[1:])
