"""Forward an MLproject step to the ``steward`` CLI (the one argument parser), dropping empty options.

MLproject parameters cannot be absent, so optional ones default to ``""``; an option given as
``--name ""`` is treated as not given.
"""

from __future__ import annotations


def drop_empty_options(argv: list[str]) -> list[str]:
    """``["--a", "", "--b", "1"]`` -> ``["--b", "1"]``."""
    args: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i].startswith("--") and i + 1 < len(argv) and argv[i + 1] == "":
            i += 2
            continue
        args.append(argv[i])
        i += 1
    return args


def forward(command: str, argv: list[str]) -> None:
    """Run ``steward <command> <argv without empty options>``."""
    from mlflow_steward.cli import main

    main([command, *drop_empty_options(argv)], prog_name="steward")
