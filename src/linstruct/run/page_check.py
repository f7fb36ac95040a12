"""The built book as a reader without a network sees it: every page in headless Chromium.

:func:`check_pages` opens each HTML page of a build (``_build/html``) from ``file://`` in
headless Chromium whose network is cut off (every request goes to a proxy on a closed local
port and no host name resolves), drives it over the DevTools protocol and reports per page

- the requests that would have left the machine (anything but ``file:``, ``data:``,
  ``blob:``, ``about:`` and the loopback host),
- the local files it failed to load (a font or script the build did not copy),
- whether its maths is typeset: as many MathJax output elements (``mjx-container``) as the
  page has maths nodes, none of them a MathJax error, and no raw TeX delimiter
  (``\\(``, ``\\[``, ``$$``) left in its text outside code.

``python -m linstruct.run.page_check [_build/html]`` prints the report and exits 1 when a
page has a problem. Chromium: the Debian package ``chromium`` (``.ci/run`` installs it).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import urlopen

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
LOCAL_SCHEMES = ("file", "data", "blob", "about")
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
RAW_TEX = ("\\(", "\\[", "$$")
# Every request the browser sends goes to this closed local port, and no host name resolves.
OFFLINE_FLAGS = ("--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost")

# Runs in the page once it has loaded: waits for MathJax's first typesetting (when the page
# loads MathJax), then counts maths nodes and MathJax's output, and returns the text outside code.
INSPECT_PAGE = """(async () => {
  if (!document.body) { return null; }  // between a redirect page and its target
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const text = document.body.cloneNode(true);
  text.querySelectorAll("pre, code, script, style, mjx-container").forEach((e) => e.remove());
  return {
    maths: document.querySelectorAll(".math").length,
    typeset: document.querySelectorAll("mjx-container").length,
    errors: document.querySelectorAll("mjx-merror").length,
    text: text.textContent,
  };
})()"""


def find_chromium() -> str | None:
    """The path of a Chromium executable on PATH, or None."""
    return next(filter(None, map(shutil.which, CHROMIUM_NAMES)), None)


def is_local(url: str) -> bool:
    """Whether a request for ``url`` stays on this machine (file, data, blob, about, loopback)."""
    parts = urlsplit(url)
    return parts.scheme in LOCAL_SCHEMES or parts.hostname in LOOPBACK_HOSTS


def raw_tex(text: str, width: int = 30) -> list[str]:
    """Snippets of ``text`` around each raw TeX delimiter (``\\(``, ``\\[``, ``$$``)."""
    pattern = "|".join(re.escape(d) for d in RAW_TEX)
    return [" ".join(text[max(0, m.start() - width) : m.end() + width].split()) for m in re.finditer(pattern, text)]


@dataclass
class PageReport:
    """What one page did and showed."""

    page: str  # path relative to the build folder
    external_requests: list[str] = field(default_factory=list)
    failed_local: list[str] = field(default_factory=list)
    maths: int = 0  # maths nodes in the page (Sphinx's span.math and div.math)
    typeset: int = 0  # MathJax output elements (mjx-container)
    maths_errors: int = 0  # MathJax error elements (mjx-merror)
    raw_tex: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """Each thing a reader without a network would find wrong, in words (empty: none)."""
        found = [f"request left the machine: {url}" for url in self.external_requests]
        found += [f"local file failed to load: {url}" for url in self.failed_local]
        if self.typeset < self.maths:
            found.append(f"maths not typeset: {self.typeset} MathJax outputs for {self.maths} maths nodes")
        if self.maths_errors:
            found.append(f"{self.maths_errors} MathJax error(s)")
        found += [f"raw TeX in the text: {snippet!r}" for snippet in self.raw_tex]
        return found


class DevTools:
    """A minimal client of Chromium's DevTools protocol over one page's websocket."""

    def __init__(self, url: str, timeout: float):
        import websocket

        self.socket = websocket.create_connection(url, timeout=timeout, suppress_origin=True)
        self.ids = itertools.count(1)
        self.events: list[dict] = []

    def call(self, method: str, **params) -> dict:
        """Send ``method`` and return its result, keeping the events that arrive meanwhile."""
        number = next(self.ids)
        self.socket.send(json.dumps({"id": number, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == number:
                if "error" in message:
                    raise RuntimeError(f"DevTools {method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, event: str, timeout: float) -> None:
        """Read events until ``event`` arrives (TimeoutError after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == event for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {event} within {timeout:.0f} s")
            self.events.append(json.loads(self.socket.recv()))

    def drain(self, quiet: float = 0.5) -> None:
        """Read events until none arrives for ``quiet`` seconds."""
        import websocket

        self.socket.settimeout(quiet)
        try:
            while True:
                self.events.append(json.loads(self.socket.recv()))
        except websocket.WebSocketTimeoutException:
            pass

    def close(self) -> None:
        self.socket.close()


class OfflineChromium:
    """Headless Chromium with its network cut off (:data:`OFFLINE_FLAGS`), one page driven
    over DevTools; a context manager that stops the browser and removes its profile."""

    def __init__(self, executable: str | None = None, timeout: float = 60.0):
        self.executable = executable or find_chromium()
        if self.executable is None:
            raise FileNotFoundError(
                f"no Chromium on PATH (looked for {', '.join(CHROMIUM_NAMES)}); install the Debian package chromium"
            )
        self.timeout = timeout

    def __enter__(self) -> OfflineChromium:
        self.profile = tempfile.mkdtemp(prefix="linstruct-chromium-")
        command = [
            self.executable,
            "--headless=new",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--window-size=1280,2000",
            f"--user-data-dir={self.profile}",
            "--remote-debugging-port=0",
            *OFFLINE_FLAGS,
            *(["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
            "about:blank",
        ]
        self.log = Path(self.profile) / "chromium.log"
        with open(self.log, "w") as log:  # a file, not a pipe: a chatty browser never blocks on it
            self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
        try:
            self.page = DevTools(self._page_socket(self._browser_port()), self.timeout)
            self.page.call("Network.enable")
            self.page.call("Page.enable")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _browser_port(self) -> int:
        """The DevTools port Chromium prints on stderr at start-up."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            found = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", self.log.read_text(errors="replace"))
            if found:
                return int(found.group(1))
            time.sleep(0.1)
        tail = self.log.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"Chromium did not open its DevTools port (exit status {self.process.poll()}):\n{tail}")

    def _page_socket(self, port: int) -> str:
        """The websocket address of the browser's first page."""
        with urlopen(f"http://127.0.0.1:{port}/json/list", timeout=self.timeout) as answer:
            targets = json.load(answer)
        return next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")

    def inspect(self, path: Path, name: str | None = None) -> PageReport:
        """Load ``path`` from ``file://`` and report what it requested and shows."""
        page = self.page
        page.events.clear()
        page.socket.settimeout(self.timeout)
        page.call("Page.navigate", url=path.resolve().as_uri())
        values = None
        for _ in range(3):  # a page that navigates away while loading is inspected where it lands
            page.wait_for("Page.loadEventFired", self.timeout)
            page.events = [e for e in page.events if e.get("method") != "Page.loadEventFired"]
            try:
                shown = page.call("Runtime.evaluate", expression=INSPECT_PAGE, awaitPromise=True, returnByValue=True)
            except RuntimeError as err:
                if "navigated" in str(err) or "context was destroyed" in str(err):
                    continue
                raise
            if "exceptionDetails" in shown:
                raise RuntimeError(f"{path}: {shown['exceptionDetails']}")
            values = shown["result"].get("value")
            if values is not None:
                break
        if values is None:
            raise RuntimeError(f"{path}: no page body after {self.timeout:.0f} s")
        page.drain()
        requested = {
            e["params"]["requestId"]: e["params"]["request"]["url"]
            for e in page.events
            if e.get("method") == "Network.requestWillBeSent"
        }
        failed = [
            requested.get(e["params"]["requestId"], "?")
            for e in page.events
            if e.get("method") == "Network.loadingFailed"
        ]
        return PageReport(
            page=name or path.name,
            external_requests=sorted({url for url in requested.values() if not is_local(url)}),
            failed_local=sorted({url for url in failed if is_local(url)}),
            maths=values["maths"],
            typeset=values["typeset"],
            maths_errors=values["errors"],
            raw_tex=raw_tex(values["text"]),
        )

    def __exit__(self, *exc) -> None:
        if getattr(self, "page", None) is not None:
            self.page.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


REDIRECT = re.compile(r"<meta[^>]+http-equiv=[\"']?refresh", re.IGNORECASE)


def book_pages(html: Path) -> list[Path]:
    """The book's own HTML pages under ``html``: Sphinx's genindex and search pages, theme files
    and redirect pages (the root index.html; their target is a page of its own) left out."""
    skip = {"genindex.html", "search.html", "py-modindex.html"}
    return sorted(
        p
        for p in Path(html).rglob("*.html")
        if p.name not in skip
        and not any(part.startswith("_") for part in p.relative_to(html).parts)
        and not REDIRECT.search(p.read_text(encoding="utf8", errors="replace")[:4000])
    )


def check_pages(html: Path, pages: Iterable[Path] | None = None, executable: str | None = None) -> list[PageReport]:
    """A :class:`PageReport` for every page of the build in ``html`` (or for ``pages``)."""
    html = Path(html)
    with OfflineChromium(executable) as browser:
        return [browser.inspect(p, p.relative_to(html).as_posix()) for p in (pages or book_pages(html))]


def report_lines(reports: Iterable[PageReport]) -> Iterator[str]:
    for r in reports:
        problems = r.problems()
        yield f"{'FAIL' if problems else 'ok  '} {r.page}: {r.typeset}/{r.maths} maths typeset"
        yield from (f"     {p}" for p in problems)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m linstruct.run.page_check", description=__doc__.split("\n")[0])
    parser.add_argument("html", nargs="?", default="_build/html", help="the built book (default: _build/html)")
    args = parser.parse_args(argv)
    reports = check_pages(Path(args.html))
    print("\n".join(report_lines(reports)))
    return 1 if any(r.problems() for r in reports) else 0


if __name__ == "__main__":
    raise SystemExit(main())
