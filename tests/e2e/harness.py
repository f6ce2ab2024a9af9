"""Starts the real lesson binaries with --port 0 and talks to them as outsiders do.

Every wait has a deadline; nothing sleeps to hope a server is ready: the first line a server
prints is `listening on http://HOST:PORT/`, and that is what the tests wait for.
"""
import asyncio
import base64
import os
import re
import select
import signal
import socket
import subprocess
import time
import warnings

# The tests drop sockets on purpose (a client that vanishes); Python need not warn about it.
warnings.simplefilter("ignore", ResourceWarning)

BIN = os.environ.get("WS_BIN", os.path.join(os.path.dirname(__file__), "..", "..", "build", "bin"))


class Lesson:
    """A lesson binary running in the background."""

    def __init__(self, name, *args, timeout=10, max_files=None, port_option=True):
        def limit_files():
            if max_files:
                import resource
                resource.setrlimit(resource.RLIMIT_NOFILE, (max_files, max_files))
        port = ["--port", "0"] if port_option else []
        self.proc = subprocess.Popen([os.path.join(BIN, name), *args, *port, "--color", "never"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=limit_files)
        self.output = b""
        line = self.read_line(timeout)
        m = re.match(rb"listening on (https?)://([^ ]+):(\d+)/$", line)
        if not m:
            raise AssertionError(f"first line was {line!r}, not 'listening on http(s)://HOST:PORT/'")
        self.port = int(m.group(3))

    def read_line(self, timeout=10):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.output:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.proc.stdout], [], [], left)[0]:
                raise AssertionError(f"no line within {timeout}s; so far {self.output!r}")
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                raise AssertionError(f"the program exited; output {self.output!r}")
            self.output += chunk
        line, _, self.output = self.output.partition(b"\n")
        return line

    def wait_for_output(self, pattern, timeout=10):
        """Reads stdout until `pattern` (bytes regex) has appeared; returns all text read."""
        seen = b""
        deadline = time.monotonic() + timeout
        while True:
            seen += self.output
            self.output = b""
            if re.search(pattern, seen):
                return seen.decode("utf-8", "replace")
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.proc.stdout], [], [], left)[0]:
                raise AssertionError(f"{pattern!r} not seen within {timeout}s; the output ends …{seen[-2000:]!r}")
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                raise AssertionError(f"the program exited before {pattern!r}; the output ends …{seen[-2000:]!r}")
            seen += chunk

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Stops the server as Ctrl-C would; returns its exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("the server did not stop on SIGTERM")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        errors = self.proc.stderr.read().decode("utf-8", "replace")
        self.proc.stdout.close()
        self.proc.stderr.close()
        # Under `make asan` a sanitizer report is a failure even if every answer was right.
        if "Sanitizer" in errors or "runtime error" in errors:
            raise AssertionError(f"the server reported a sanitizer error:\n{errors}")


def run(name, *args, timeout=60, input=None):
    """Runs a lesson to completion; returns (exit code, stdout, stderr)."""
    p = subprocess.run([os.path.join(BIN, name), *args], capture_output=True, timeout=timeout, input=input)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def raw(port, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def upgrade_request(port, path="/", key=None, extra="", version="13"):
    key = key or base64.b64encode(os.urandom(16)).decode()
    return (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: {version}\r\n{extra}\r\n").encode()


def read_until(sock, marker, limit=1 << 20):
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
        if len(data) > limit:
            break
    return data


def read_all(sock):
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            return data
        data += chunk
    return data


def handshake(sock, port, path="/"):
    """Upgrades a raw socket; returns bytes that came after the 101 head."""
    sock.sendall(upgrade_request(port, path))
    data = read_until(sock, b"\r\n\r\n")
    head, _, rest = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101 "), head
    return rest


def frame(opcode, payload=b"", fin=True, mask=True, rsv=0, length_override=None):
    """Builds a frame by hand (this file does not trust the project's own encoder)."""
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload) if length_override is None else length_override
    out = bytes([first])
    m = 0x80 if mask else 0
    if n <= 125:
        out += bytes([m | n])
    elif n <= 0xFFFF:
        out += bytes([m | 126]) + n.to_bytes(2, "big")
    else:
        out += bytes([m | 127]) + n.to_bytes(8, "big")
    if mask:
        key = os.urandom(4)
        out += key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    else:
        out += payload
    return out


def read_frame(sock, masked=False):
    """Reads one frame: (fin, opcode, payload), or None at EOF. A server's frames are unmasked;
    with masked=True, a client's, which must be masked, unmasked here."""
    def exact(n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                return None
            data += chunk
        return data
    head = exact(2)
    if head is None:
        return None
    n = head[1] & 0x7F
    if n == 126:
        n = int.from_bytes(exact(2), "big")
    elif n == 127:
        n = int.from_bytes(exact(8), "big")
    assert bool(head[1] & 0x80) == masked, "a server frame must not be masked; a client's must be"
    key = exact(4) if masked else b"\0\0\0\0"
    payload = bytes(b ^ key[i % 4] for i, b in enumerate(exact(n)))
    return bool(head[0] & 0x80), head[0] & 0x0F, payload


def close_code_of(sock):
    """Reads frames until a close frame; returns its code (1005 if it has none), or None at EOF."""
    while True:
        f = read_frame(sock)
        if f is None:
            return None
        if f[1] == 0x8:
            return int.from_bytes(f[2][:2], "big") if len(f[2]) >= 2 else 1005


def arun(coro, timeout=60):
    return asyncio.run(asyncio.wait_for(coro, timeout))
