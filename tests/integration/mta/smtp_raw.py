"""A raw SMTP client for hostile input: exact bytes out, replies parsed by code."""
import re
import socket
import time


class RawSmtp:
    def __init__(self, host, port, timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def reply(self, timeout=10.0):
        """Reads one (possibly multi-line) reply; returns (code, text) or (None, '') on EOF."""
        deadline = time.monotonic() + timeout
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                self.sock.settimeout(max(0.01, deadline - time.monotonic()))
                try:
                    chunk = self.sock.recv(65536)
                except socket.timeout:
                    raise TimeoutError(f"no reply; got {self.buf!r}")
                if not chunk:
                    return (None, b"".join(lines).decode(errors="replace"))
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line + b"\n")
            if len(line) < 4 or line[3:4] != b"-":
                m = re.match(rb"(\d{3})", line)
                return (int(m.group(1)) if m else None, b"".join(lines).decode(errors="replace"))

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def closed(self, timeout=5.0):
        """True once the server has closed the connection (EOF)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (socket.timeout, ConnectionResetError):
            return False

    def close(self):
        self.sock.close()
