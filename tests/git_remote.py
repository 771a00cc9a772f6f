"""A real git repository in a temporary folder, served as a remote (file URL, or smart HTTP on loopback)."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class Remote:
    """A site repository (work tree) and the bare repository it pushes to."""

    def __init__(self, root: Path, subdir: str = "content/weekly_newsletter") -> None:
        self.work = root / "site"
        self.bare = root / "site.git"
        self.subdir = subdir
        root.mkdir(parents=True, exist_ok=True)
        self._git("init", "--quiet", "-b", "main", str(self.work), cwd=root)
        (self.work / subdir).mkdir(parents=True)
        (self.work / subdir / "_index.md").write_text("---\ntitle: Weekly newsletter\n---\nThe section page.\n")
        (self.work / "README.md").write_text("# The site\n")
        (self.work / "content" / "about.md").write_text("---\ntitle: About\n---\n## About\nNot an issue.\n")
        self.commit("site skeleton")
        self._git("clone", "--quiet", "--bare", str(self.work), str(self.bare), cwd=root)
        self._git("remote", "add", "origin", str(self.bare))

    def _git(self, *args: str, cwd: Path | None = None) -> str:
        env = {**os.environ, "GIT_AUTHOR_NAME": "Author", "GIT_AUTHOR_EMAIL": "a@example.org",
               "GIT_COMMITTER_NAME": "Author", "GIT_COMMITTER_EMAIL": "a@example.org"}
        return subprocess.run(["git", *args], cwd=cwd or self.work, env=env, check=True, capture_output=True,
                              text=True).stdout

    @property
    def url(self) -> str:
        return f"file://{self.bare}"

    def write(self, name: str, text: str) -> None:
        (self.work / self.subdir / name).write_text(text)

    def commit(self, message: str) -> None:
        self._git("add", "-A")
        self._git("commit", "--quiet", "--allow-empty", "-m", message)

    def push(self, *, force: bool = False) -> None:
        self._git("push", "--quiet", *(["--force"] if force else []), "origin", "main")

    def publish(self, name: str, text: str, message: str = "new issue") -> None:
        self.write(name, text)
        self.commit(message)
        self.push()

    def head(self) -> str:
        return self._git("rev-parse", "HEAD").strip()


def issue(n: int, *, date: str = "2024-01-01", extra: str = "") -> str:
    return (f"---\ntitle: \"Issue {n}\"\ndate: {date}\n{extra}---\n\n## Story {n}\n"
            f"Issue {n} tells the story of topic{n} in a few words.\n")


class PrivateHTTP:
    """git's smart HTTP protocol (git http-backend) on loopback, behind a token."""

    def __init__(self, root: Path, token: str) -> None:
        expected = "Basic " + base64.b64encode(f"x-access-token:{token}".encode()).decode()
        project_root = str(root)
        seen: list[str] = []
        self.authorizations = seen

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _cgi(self) -> None:
                auth = self.headers.get("Authorization", "")
                seen.append(auth)
                if auth != expected:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="git"')
                    self.end_headers()
                    return
                path, _, query = self.path.partition("?")
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                env = {"PATH": os.environ["PATH"], "GIT_PROJECT_ROOT": project_root, "GIT_HTTP_EXPORT_ALL": "1",
                       "PATH_INFO": path, "QUERY_STRING": query, "REQUEST_METHOD": self.command,
                       "CONTENT_TYPE": self.headers.get("Content-Type", ""), "CONTENT_LENGTH": str(len(body)),
                       "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
                       "REMOTE_USER": "reader", "REMOTE_ADDR": "127.0.0.1", "GIT_PROTOCOL":
                       self.headers.get("Git-Protocol", "")}
                out = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True).stdout
                head, _, payload = out.partition(b"\r\n\r\n")
                status = 200
                headers = []
                for line in head.decode().split("\r\n"):
                    key, _, value = line.partition(":")
                    if key.lower() == "status":
                        status = int(value.strip().split()[0])
                    elif key:
                        headers.append((key, value.strip()))
                self.send_response(status)
                for key, value in headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = _cgi
            do_POST = _cgi

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, repo: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{repo}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def move_away(path: Path) -> Path:
    gone = path.with_name(path.name + ".gone")
    shutil.move(str(path), str(gone))
    return gone
