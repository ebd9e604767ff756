"""A minimal Chrome DevTools Protocol client for report layout tests (tests only).

Starts headless Chromium with a private profile on a loopback debugging port, opens a page,
sets the viewport width, evaluates a measuring script and takes a full-page PNG. Script runs
through the protocol (``Runtime.evaluate``), not inside the page, so the report keeps its CSP
(no script at all) while the test measures it. aiohttp (a core dependency) speaks the
websocket; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


class Browser:
    def __init__(self, profile: Path) -> None:
        assert CHROMIUM is not None
        self.proc = subprocess.Popen(
            [
                CHROMIUM,
                *("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars"),
                *("--disable-background-networking", "--disable-component-update", "--mute-audio"),
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.ws_url = ""
        assert self.proc.stderr is not None
        for line in self.proc.stderr:  # "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID"
            m = re.search(r"DevTools listening on (ws://\S+)", line)
            if m:
                self.ws_url = m.group(1)
                break
        if not self.ws_url:
            self.close()
            raise RuntimeError("chromium did not open a debugging port")
        self.port = int(re.search(r":(\d+)/", self.ws_url).group(1))  # type: ignore[union-attr]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=10)
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def measure(self, url: str, width: int, script: str, screenshot: Path | None = None) -> Any:
        """Open ``url`` at ``width`` CSS pixels, return ``script``'s JSON value; optionally save a
        full-page PNG."""
        return asyncio.run(self._measure(url, width, script, screenshot))

    async def _measure(self, url: str, width: int, script: str, screenshot: Path | None) -> Any:
        import aiohttp

        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{self.port}/json/list") as r:
                pages = [t for t in await r.json(content_type=None) if t.get("type") == "page"]
            async with http.ws_connect(pages[0]["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                n = 0

                async def send(method: str, **params: Any) -> dict[str, Any]:
                    nonlocal n
                    n += 1
                    await ws.send_str(json.dumps({"id": n, "method": method, "params": params}))
                    while True:
                        msg = json.loads((await ws.receive(timeout=120)).data)
                        if msg.get("id") == n:
                            if "error" in msg:
                                raise RuntimeError(f"{method}: {msg['error']}")
                            return msg.get("result", {})

                await send(
                    "Emulation.setDeviceMetricsOverride",
                    width=width,
                    height=900,
                    deviceScaleFactor=1,
                    mobile=False,
                )
                await send("Page.enable")
                await send("Page.navigate", url=url)
                for _ in range(600):
                    state = await send(
                        "Runtime.evaluate", expression="document.readyState", returnByValue=True
                    )
                    if state.get("result", {}).get("value") == "complete":
                        break
                    await asyncio.sleep(0.1)
                res = await send("Runtime.evaluate", expression=script, returnByValue=True)
                if "exceptionDetails" in res:
                    raise RuntimeError(f"measuring script failed: {res['exceptionDetails']}")
                value = res["result"].get("value")
                if screenshot is not None:
                    shot = await send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
                    screenshot.write_bytes(base64.b64decode(shot["data"]))
                return value
