"""The only place that relies on the layout of a skops file (verified on skops 0.10-0.16).

A ``.skops`` file is a zip archive: ``schema.json`` describes every object as a node with
``__module__`` and ``__class__`` (also functions and types), and ``.npy`` files hold arrays. When a
model travels with its own copy of our code under another top-level package name, the nodes that
name ``mlflow_steward`` must name the copy: :func:`rename_modules` rewrites them (and nothing else).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

SCHEMA_FILE = "schema.json"


def _walk(node: Any, rename: Callable[[str], str]) -> int:
    changed = 0
    if isinstance(node, dict):
        module = node.get("__module__")
        if isinstance(module, str):
            renamed = rename(module)
            if renamed != module:
                node["__module__"] = renamed
                changed += 1
        for value in node.values():
            changed += _walk(value, rename)
    elif isinstance(node, list):
        for value in node:
            changed += _walk(value, rename)
    return changed


def rename_modules(path: str | Path, rename: Callable[[str], str]) -> int:
    """Replace every ``__module__`` of the skops file at ``path`` by ``rename(module)``, in place;
    return how many nodes changed."""
    path = Path(path)
    with zipfile.ZipFile(path) as archive:
        members = [(info, archive.read(info.filename)) for info in archive.infolist()]
    schema_index = next(i for i, (info, _) in enumerate(members) if info.filename == SCHEMA_FILE)
    schema = json.loads(members[schema_index][1])
    changed = _walk(schema, rename)
    if not changed:
        return 0
    members[schema_index] = (members[schema_index][0], json.dumps(schema).encode())
    temporary = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for info, data in members:
            archive.writestr(info, data)
    temporary.replace(path)
    return changed
