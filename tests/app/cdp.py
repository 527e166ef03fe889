"""Headless Chromium driven over the DevTools protocol: open pages, read the DOM, take screenshots,
and collect everything the browser logged as an error (console errors, uncaught exceptions, failed
loads) per page. One browser per test module; stopped by its pid.

``--dump-dom`` cannot tell whether a page logged errors, and ``--enable-logging`` output varies
between Chromium builds, so the protocol's ``Runtime``/``Log`` events are the robust source.
The Chromium binary and base flags are the ones ``tests/registry/test_ui_browser.py`` uses.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import sys
import json
import os
import signal
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_UI_TEST = Path(__file__).resolve().parents[1] / "registry" / "test_ui_browser.py"


def _registry_browser_helpers() -> Any:
    """``tests/registry/test_ui_browser.py`` (its ``_chromium()`` and ``CHROMIUM_FLAGS``)."""
    spec = importlib.util.spec_from_file_location("_steward_ui_browser_helpers", _UI_TEST)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[spec.name] = module  # type: ignore[union-attr]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@dataclass
class PageResult:
    url: str
    errors: list[str] = field(default_factory=list)


class Browser:
    """``Browser(profile_dir)`` starts Chromium; ``open(url)`` loads a page and returns its errors."""

    def __init__(self, profile: Path, *, width: int = 1300, height: int = 1000, timeout: float = 60.0):
        import websocket  # websocket-client

        helpers = _registry_browser_helpers()
        flags = [f for f in helpers.CHROMIUM_FLAGS if not f.startswith(("--virtual-time-budget", "--window-size"))]
        profile.mkdir(parents=True, exist_ok=True)
        self.timeout = timeout
        self.process = subprocess.Popen(
            [helpers._chromium(), *flags, "--remote-debugging-port=0", "--remote-allow-origins=*",
             f"--user-data-dir={profile}", f"--window-size={width},{height}", "--hide-scrollbars", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while not port_file.exists() or not port_file.read_text().strip():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError("chromium did not open its DevTools port")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10).read())
        page = next(t for t in targets if t.get("type") == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=timeout)
        self._id = 0
        self._events: list[dict] = []
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")

    def call(self, method: str, **params: Any) -> dict:
        self._id += 1
        ident = self._id
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            message = json.loads(self.ws.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self._events.append(message)
        raise TimeoutError(method)

    def _wait_event(self, name: str) -> None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if any(e["method"] == name for e in self._events):
                return
            message = json.loads(self.ws.recv())
            if "method" in message:
                self._events.append(message)
        raise TimeoutError(name)

    def set_headers(self, headers: dict[str, str]) -> None:
        self.call("Network.setExtraHTTPHeaders", headers=headers)

    def basic_auth(self, user: str, password: str) -> None:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.set_headers({"Authorization": f"Basic {token}"})

    def open(self, url: str) -> PageResult:
        """Navigate, wait for the load event, return the errors logged meanwhile."""
        self._events = []
        self.call("Page.navigate", url=url)
        self._wait_event("Page.loadEventFired")
        time.sleep(0.3)  # late console messages
        with contextlib.suppress(Exception):
            self.call("Runtime.evaluate", expression="1")  # drain pending events
        return PageResult(url, self._errors())

    def _errors(self) -> list[str]:
        out = []
        for event in self._events:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.exceptionThrown":
                out.append(json.dumps(params.get("exceptionDetails", {}))[:500])
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                out.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                entry = params["entry"]
                out.append(f"{entry.get('source')}: {entry.get('text')} {entry.get('url', '')}")
            elif method == "Network.loadingFailed" and not params.get("canceled"):
                out.append(f"loading failed: {params.get('errorText')}")
        return out

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def dom(self) -> str:
        return self.evaluate("document.documentElement.outerHTML")

    def screenshot(self, path: Path, *, full_page: bool = True, height: float | None = None) -> Path:
        """The whole page (``full_page``), its top ``height`` pixels, or the viewport."""
        params: dict[str, Any] = {"format": "png"}
        if full_page or height:
            metrics = self.call("Page.getLayoutMetrics")
            size = metrics.get("cssContentSize") or metrics["contentSize"]
            tall = size["height"] if full_page else min(height, size["height"])
            params.update(captureBeyondViewport=True,
                          clip={"x": 0, "y": 0, "width": size["width"], "height": tall, "scale": 1})
        data = self.call("Page.captureScreenshot", **params)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ws.close()
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
