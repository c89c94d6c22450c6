"""Headless Chromium driven over the DevTools protocol: open a page, wait for text, screenshot.

Waiting is event-driven: a MutationObserver in the page resolves once the text appears, so no
test sleeps or polls on a clock.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count
from pathlib import Path
from typing import Any

import aiohttp

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
]
_LISTENING = re.compile(r"DevTools listening on (ws://\S+)")

WAIT_FOR_TEXT = """
new Promise((resolve) => {
  const wanted = %s;
  const check = () => {
    const text = document.body ? document.body.innerText : "";
    const lower = text.toLowerCase();
    if (wanted.every((w) => lower.includes(w.toLowerCase()))) { resolve(text); return true; }
    return false;
  };
  if (!check()) {
    new MutationObserver(check).observe(document, {subtree: true, childList: true, characterData: true});
  }
})
"""


def chromium_path() -> str | None:
    return shutil.which("chromium")


@contextmanager
def devtools_browser(chromium: str) -> Iterator[str]:
    """Start Chromium with remote debugging on a free port; yields its browser websocket URL."""
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        process = subprocess.Popen(
            [chromium, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stderr is not None
            for line in process.stderr:  # its readiness line
                found = _LISTENING.search(line)
                if found:
                    yield found.group(1)
                    break
            else:
                raise RuntimeError(f"chromium exited ({process.wait()}) before listening")
        finally:
            process.kill()
            process.wait()


class Page:
    def __init__(self, socket: aiohttp.ClientWebSocketResponse, session: str) -> None:
        self.socket = socket
        self.session = session
        self._ids = count(1000)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        return await _call(self.socket, self._ids, method, params, self.session)

    async def wait_for_text(self, *wanted: str) -> str:
        """The page's text once every string in `wanted` shows in it (ignoring case: CSS may
        upper-case what is shown)."""
        result = await self.call(
            "Runtime.evaluate",
            expression=WAIT_FOR_TEXT % json.dumps(list(wanted)),
            awaitPromise=True,
            returnByValue=True,
        )
        return str(result["result"]["value"])

    async def screenshot(self, path: Path) -> None:
        shot = await self.call("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(shot["data"]))


async def _call(
    socket: aiohttp.ClientWebSocketResponse,
    ids: Iterator[int],
    method: str,
    params: dict[str, Any],
    session: str | None = None,
) -> dict[str, Any]:
    message_id = next(ids)
    message: dict[str, Any] = {"id": message_id, "method": method, "params": params}
    if session is not None:
        message["sessionId"] = session
    await socket.send_json(message)
    async for frame in socket:
        reply = json.loads(frame.data)
        if reply.get("id") == message_id:
            if "error" in reply:
                raise RuntimeError(f"{method}: {reply['error']}")
            return dict(reply["result"])
    raise RuntimeError(f"{method}: the browser closed the connection")


async def open_page(browser_url: str, url: str, client: aiohttp.ClientSession) -> Page:
    socket = await client.ws_connect(browser_url, max_msg_size=0)
    ids = count(1)
    target = await _call(socket, ids, "Target.createTarget", {"url": "about:blank"})
    attached = await _call(
        socket, ids, "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
    )
    page = Page(socket, attached["sessionId"])
    await page.call("Page.enable")
    await page.call("Page.navigate", url=url)
    return page
