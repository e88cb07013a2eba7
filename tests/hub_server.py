"""A local stand-in for the Hugging Face hub (and a plain file host), for download and upload tests.

It speaks the part of the hub's HTTP protocol that ``huggingface_hub`` uses to download and upload
model files, on 127.0.0.1:

- ``HEAD|GET /{repo}/resolve/{revision}/{path}``: ``X-Repo-Commit`` (the commit the revision points
  at), ``ETag`` (the file's sha256, quoted), ``Content-Length``, ``Accept-Ranges``; ``Range:
  bytes=N-`` answers 206 with the rest; a missing file or repo answers 404 with ``X-Error-Code:
  EntryNotFound`` / ``RepoNotFound``, which huggingface_hub turns into its own exceptions.
- ``POST /api/repos/create``, ``POST /api/models/{repo}/preupload/{rev}`` (every file "regular", so
  content travels inline) and ``POST /api/models/{repo}/commit/{rev}`` (ndjson, base64 files).
- ``GET /files/{name}``: a plain URL host, for the torch-hub download path.

Every request is recorded in ``server.requests`` as ``(method, path, range header)`` so a test can
count them; ``server.cut(path, times)`` makes the next ``times`` GETs of a path send half the body
and drop the connection (a network failure mid-download).
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class HubState:
    """Repos (id -> files and commit), plain files, recorded requests and planned failures."""

    def __init__(self) -> None:
        self.repos: dict[str, dict[str, Any]] = {}
        self.plain: dict[str, bytes] = {}
        self.requests: list[tuple[str, str, str | None]] = []
        self.cuts: dict[str, int] = {}
        self.lock = threading.Lock()
        self.url = ""

    def add_file(self, repo: str, path: str, data: bytes) -> None:
        """Put ``data`` at ``path`` in ``repo`` (a new commit)."""
        with self.lock:
            entry = self.repos.setdefault(repo, {"files": {}, "commits": 0})
            entry["files"][path] = data
            self._new_commit(repo, entry)

    def _new_commit(self, repo: str, entry: dict[str, Any]) -> str:
        entry["commits"] += 1
        entry["commit"] = hashlib.sha1(f"{repo}:{entry['commits']}".encode()).hexdigest()
        return entry["commit"]

    def cut(self, path: str, times: int = 1) -> None:
        """The next ``times`` GETs whose path ends with ``path`` send half the bytes and hang up."""
        self.cuts[path] = times

    def count(self, method: str | None = None) -> int:
        """Requests seen (of one method)."""
        return sum(1 for m, _, _ in self.requests if method is None or m == method)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: HubState

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        return

    # -- helpers ----------------------------------------------------------------------------------

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
              head: bool = False) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _json(self, status: int, data: Any) -> None:
        self._send(status, json.dumps(data).encode(), {"Content-Type": "application/json"})

    def _record(self) -> None:
        with self.state.lock:
            self.state.requests.append((self.command, self.path, self.headers.get("Range")))

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    # -- downloads --------------------------------------------------------------------------------

    def _serve_bytes(self, data: bytes, extra: dict[str, str], head: bool) -> None:
        headers = {"Accept-Ranges": "bytes", "Content-Type": "application/octet-stream", **extra}
        start = 0
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes=") and not head:
            start = int(rng[6:].split("-", 1)[0] or 0)
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        body = data[start:]
        key = next((k for k in self.state.cuts if self.path.endswith(k)), None)
        if key is not None and not head and self.state.cuts[key] > 0:
            self.state.cuts[key] -= 1
            self.send_response(206 if start else 200)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self._send(206 if start else 200, body, headers, head=head)

    def _resolve(self, head: bool) -> None:
        parts = self.path.split("?", 1)[0].strip("/").split("/")
        if len(parts) < 5 or parts[2] != "resolve":
            self._send(404, b"not found", {"X-Error-Code": "RepoNotFound"}, head=head)
            return
        repo, revision, path = "/".join(parts[:2]), parts[3], "/".join(parts[4:])
        entry = self.state.repos.get(repo)
        if entry is None or revision not in ("main", entry["commit"]):
            self._send(404, b"repo not found", {"X-Error-Code": "RepoNotFound",
                                                "X-Error-Message": "Repository not found"}, head=head)
            return
        data = entry["files"].get(path)
        if data is None:
            self._send(404, b"entry not found", {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": entry["commit"],
                                                 "X-Error-Message": "Entry not found"}, head=head)
            return
        etag = '"' + hashlib.sha256(data).hexdigest() + '"'
        self._serve_bytes(data, {"X-Repo-Commit": entry["commit"], "ETag": etag}, head)

    def do_HEAD(self) -> None:  # noqa: N802 (http.server naming)
        self._record()
        self._resolve(head=True)

    def do_GET(self) -> None:  # noqa: N802
        self._record()
        if self.path.startswith("/files/"):
            data = self.state.plain.get(self.path[len("/files/"):])
            if data is None:
                self._send(404, b"no such file")
            else:
                self._serve_bytes(data, {}, head=False)
            return
        self._resolve(head=False)

    # -- uploads ----------------------------------------------------------------------------------

    def do_POST(self) -> None:  # noqa: N802
        self._record()
        body = self._body()
        path = self.path.split("?", 1)[0]
        if path == "/api/repos/create":
            data = json.loads(body or b"{}")
            repo = f"{data['organization']}/{data['name']}" if data.get("organization") else data["name"]
            with self.state.lock:
                exists = repo in self.state.repos
                if not exists:
                    self.state.repos[repo] = {"files": {}, "commits": 0}
                    self.state._new_commit(repo, self.state.repos[repo])
            if exists:
                self._json(409, {"error": "You already created this model repo", "url": f"{self.state.url}/{repo}"})
            else:
                self._json(200, {"url": f"{self.state.url}/{repo}", "name": repo, "id": repo})
            return
        parts = path.strip("/").split("/")
        if len(parts) == 6 and parts[:2] == ["api", "models"] and parts[4] in ("preupload", "commit"):
            repo = "/".join(parts[2:4])
            if repo not in self.state.repos:
                self._send(404, b"repo not found", {"X-Error-Code": "RepoNotFound"})
                return
            if parts[4] == "preupload":
                files = json.loads(body)["files"]
                self._json(200, {"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False}
                                           for f in files]})
                return
            entry = self.state.repos[repo]
            with self.state.lock:
                for line in body.splitlines():
                    item = json.loads(line)
                    if item["key"] == "file":
                        value = item["value"]
                        entry["files"][value["path"]] = base64.b64decode(value["content"])
                commit = self.state._new_commit(repo, entry)
            self._json(200, {"commitUrl": f"{self.state.url}/{repo}/commit/{commit}", "commitOid": commit,
                             "pullRequestUrl": None})
            return
        self._send(404, b"unknown endpoint")


class LocalHub:
    """A running local hub; ``url`` is its endpoint (set ``HF_ENDPOINT`` to it)."""

    def __init__(self) -> None:
        self.state = HubState()
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.state.url = self.url
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()
