"""Every page of an MLflow search (``search_runs``, ``search_experiments``, ``search_registered_models``):
the one paging loop, so no caller silently stops at the first 1,000 results."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PAGE_SIZE = 1000


def every_page(search: Callable[..., Any], *args: Any, max_results: int = PAGE_SIZE, **kwargs: Any) -> list[Any]:
    """All results of ``search(*args, **kwargs)``, following ``page_token`` to the last page, in order."""
    found: list[Any] = []
    token = None
    while True:
        page = search(*args, max_results=max_results, page_token=token, **kwargs)
        found.extend(page)
        token = page.token
        if not token:
            return found
