"""A tiny SMTP server for tests (socketserver, one thread per connection): it records every message it accepts.

Recipients whose address starts with "refuse" get 550 (refused for good), "later" get 450 (try again later).
``delay`` seconds are waited before each reply to DATA's end, to widen race windows in concurrency tests.
"""
from __future__ import annotations

import socketserver
import threading
import time
from email import message_from_bytes, policy


class _Handler(socketserver.StreamRequestHandler):
    timeout = 10

    def reply(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())
        self.wfile.flush()

    def handle(self) -> None:
        server: SMTPTestServer = self.server.owner  # type: ignore[attr-defined]
        self.reply("220 test.smtp ready")
        sender, recipients = None, []
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            command = line[:4].upper()
            if command in ("EHLO", "HELO"):
                self.wfile.write(b"250-test.smtp\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
                self.wfile.flush()
            elif command == "MAIL":
                sender, recipients = line.split(":", 1)[1].strip().split(" ")[0].strip("<>"), []
                self.reply("250 ok")
            elif command == "RCPT":
                address = line.split(":", 1)[1].strip().split(" ")[0].strip("<>")
                if address.startswith("refuse"):
                    self.reply("550 no such user")
                elif address.startswith("later"):
                    self.reply("450 mailbox busy")
                else:
                    recipients.append(address)
                    self.reply("250 ok")
            elif command == "DATA":
                self.reply("354 go ahead")
                data = bytearray()
                while True:
                    chunk = self.rfile.readline()
                    if not chunk or chunk in (b".\r\n", b".\n"):
                        break
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                if server.delay:
                    time.sleep(server.delay)
                server.record(sender, recipients, bytes(data))
                self.reply("250 queued")
            elif command == "RSET":
                sender, recipients = None, []
                self.reply("250 ok")
            elif command == "NOOP":
                self.reply("250 ok")
            elif command == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class SMTPTestServer:
    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.messages: list[dict] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self  # type: ignore[attr-defined]
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def record(self, sender, recipients, data: bytes) -> None:
        email = message_from_bytes(data, policy=policy.default)
        with self._lock:
            self.messages.append({"from": sender, "to": list(recipients), "email": email,
                                  "subject": str(email["Subject"]), "body": email.get_content()})

    def start(self) -> SMTPTestServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def free_port() -> int:
    """A port on which nothing listens (bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
