"""A WebSocket client that can stop reading: a plain socket with small buffers, the handshake
and the frames done by hand. ``websockets`` keeps reading into memory whatever the kernel
holds; a phone in a lift does not."""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
from dataclasses import dataclass, field


@dataclass
class Received:
    messages: list[dict] = field(default_factory=list)
    close_code: int | None = None


class StalledSocket:
    def __init__(self, host: str, port: int, path: str) -> None:
        self.sock = socket.socket()
        # Small buffers and segments: the server's side fills after a few kilobytes.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 100)
        self.sock.settimeout(10)
        self.sock.connect((host, port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(1)
        if not head.startswith(b"HTTP/1.1 101"):
            raise ConnectionError(head.decode(errors="replace"))
        self.buffer = b""

    def send(self, message: dict) -> None:
        payload = json.dumps(message).encode()
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        if len(payload) < 126:
            header = struct.pack("!BB", 0x81, 0x80 | len(payload))
        else:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, len(payload))
        self.sock.sendall(header + mask + masked)

    def read_all(self, quiet_s: float = 5.0) -> Received:
        """Read until the server closes or says nothing for ``quiet_s``, answering nothing:
        the messages and the close code."""
        out = Received()
        self.sock.settimeout(quiet_s)
        while True:
            try:
                frame = self._frame()
            except TimeoutError:
                return out
            if frame is None:
                return out
            opcode, data = frame
            if opcode == 0x1:
                out.messages.append(json.loads(data))
            elif opcode == 0x8:
                out.close_code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None
                return out

    def _frame(self) -> tuple[int, bytes] | None:
        if not self._fill(2):
            return None
        opcode, length = self.buffer[0] & 0x0F, self.buffer[1] & 0x7F
        start = 2
        if length == 126:
            if not self._fill(4):
                return None
            length, start = struct.unpack("!H", self.buffer[2:4])[0], 4
        elif length == 127:
            if not self._fill(10):
                return None
            length, start = struct.unpack("!Q", self.buffer[2:10])[0], 10
        if not self._fill(start + length):
            return None
        data = self.buffer[start : start + length]
        self.buffer = self.buffer[start + length :]
        return opcode, data

    def _fill(self, n: int) -> bool:
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                return False
            self.buffer += chunk
        return True

    def close(self) -> None:
        self.sock.close()
