"""End-to-end: lesson 6's client against servers nobody here wrote (Python `websockets`), against
hand-written bad servers, in --echo mode driven like a conformance suite, and its relay between
a Python client and server: every byte forwarded unchanged, both directions shown."""
import asyncio
import base64
import hashlib
import os
import re
import socket
import subprocess
import threading
import time
import unittest

import websockets

from harness import BIN, Lesson, arun, frame, raw, read_until

HERE = os.path.dirname(__file__)
CLIENT = os.path.join(BIN, "lesson6-client")


class Peer:
    """A Python script that prints `PORT n` first."""

    def __init__(self, script, *args):
        self.proc = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, script), *args],
                                     stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline().split()[1])
        self.url = f"ws://127.0.0.1:{self.port}/"

    def line(self):
        return self.proc.stdout.readline().strip()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait()


class Case(unittest.TestCase):
    """Failures show the end of a long output, not all of it."""

    def assertIn(self, needle, haystack, msg=None):
        if needle not in haystack:
            self.fail(msg or f"{needle!r} not in the output, which ends: …{haystack[-1500:]!r}")

    def assertNotIn(self, needle, haystack, msg=None):
        if needle in haystack:
            at = haystack.index(needle)
            self.fail(msg or f"{needle!r} in the output: …{haystack[max(0, at - 500):at + 500]!r}")


def client(*args, input=b"", timeout=60):
    p = subprocess.run([CLIENT, *args, "--color", "never"], input=input, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


class AgainstPythonWebsockets(Case):
    def test_piped_lines_commands_and_the_close(self):
        with Peer("peer_echo_server.py") as server:
            lines = "hello\n/ping are you there\n/binary 00 01 ff\n/frag 4 fragmented, κόσμε\n"
            code, out, err = client(server.url, input=lines.encode())
            self.assertEqual(code, 0, out[-2000:] + err)
            self.assertIn("✓ 4  Sec-WebSocket-Accept matches the key", out)
            self.assertIn('← text "hello"', out)
            self.assertRegex(out, r'← pong "are you there": round trip [0-9.]+ ms')
            self.assertIn("← binary 3 B: 00 01 ff", out)
            self.assertIn('← text "fragmented, κόσμε"', out)
            self.assertIn("the closing handshake is complete", out)

    def test_close_with_a_code_and_reason(self):
        # Anything sent after our close would cross it and be dropped (RFC 6455 §7.1.2): a close
        # ends the conversation.
        with Peer("peer_echo_server.py") as server:
            code, out, err = client(server.url, input=b"/close 4000 bye\n")
            self.assertEqual(code, 0, out[-2000:] + err)
            self.assertIn('→ close 4000 (private use (4000-4999)) "bye"', out)
            self.assertIn("← close 4000", out)

    def test_end_of_input_closes_with_1000(self):
        with Peer("peer_echo_server.py") as server:
            code, out, err = client(server.url, input=b"one\ntwo\n")
            self.assertEqual(code, 0, out + err)
            self.assertIn('← text "two"', out)
            self.assertIn("→ close 1000 (normal closure)", out)
            self.assertIn("← close 1000", out)

    def test_a_line_that_is_not_utf8_is_refused(self):
        with Peer("peer_echo_server.py") as server:
            code, out, _ = client(server.url, input=b"\xff\xfe\nafter\n")
            self.assertEqual(code, 0)
            self.assertIn("not sent: this line is not valid UTF-8", out)
            self.assertIn('← text "after"', out)

    def test_the_subprotocol_chosen_is_printed(self):
        with Peer("peer_echo_server.py", "superchat", "chat") as server:
            code, out, err = client(server.url, "--protocol", "chat", "--protocol", "superchat", input=b"")
            self.assertEqual(code, 0, out + err)
            self.assertRegex(out, r"subprotocol chosen: (chat|superchat)\n")
            self.assertIn("Sec-WebSocket-Protocol: chat, superchat", out)

    def test_echo_mode_as_a_conformance_suite_drives_it(self):
        # Text, binary, empty, 70 000 B, 16 MiB of each, fragments, a ping; the judge checks all.
        with Peer("echo_judge.py") as judge:
            code, out, err = client("--echo", judge.url, timeout=120)
            self.assertEqual(judge.line(), "RESULT ok")
            self.assertEqual(code, 0, out + err)

    def test_demo(self):
        code, out, err = client("--demo", "--seed", "1")
        self.assertEqual(code, 0, err)
        self.assertIn("each byte XOR key[i mod 4]", out)
        self.assertIn("✓ the closing handshake is complete", out)


class AgainstBadServers(Case):
    def refusal(self, mode, *args):
        with Peer("bad_server.py", mode) as server:
            return client(server.url, *args, input=b"hello\n", timeout=30)

    def test_each_wrong_answer_is_a_named_failure_and_a_non_zero_exit(self):
        for mode, named in (("status-200", "not_101"), ("no-upgrade", "no_upgrade_websocket"),
                            ("bad-accept", "bad_accept"), ("extension", "unrequested_extension"),
                            ("bad-deflate", "unrequested_extension"),
                            ("protocol", "unrequested_protocol")):
            with self.subTest(mode=mode):
                code, out, err = self.refusal(mode)
                self.assertEqual(code, 2, out + err)
                self.assertIn(named, err)
                self.assertIn("✗", out)
        code, out, err = self.refusal("status-200")
        self.assertIn("hello, world", out)  # the body of a refusal is shown
        # --no-deflate offers nothing: then even a well-formed permessage-deflate answer is unasked.
        with Peer("bad_server.py", "ok-deflate") as server:
            code, out, err = client(server.url, "--no-deflate", input=b"", timeout=30)
            self.assertEqual(code, 2, out + err)
            self.assertIn("the server chose permessage-deflate, which was not offered", err)

    def test_a_server_that_never_answers_times_out(self):
        started = time.monotonic()
        code, out, err = self.refusal("silent", "--connect-timeout", "1")
        self.assertEqual(code, 2)
        self.assertIn("no complete response head within 1 s", err)
        self.assertLess(time.monotonic() - started, 10)

    def test_masked_frames_and_bad_utf8_from_a_server_fail_the_connection(self):
        for mode, rule, code_sent in (("masked", "masked_server_frame", "1002"), ("bad-utf8", "text_not_utf8", "1007")):
            with self.subTest(mode=mode), Peer("bad_server.py", mode) as server:
                code, out, err = client(server.url, input=b"", timeout=30)
                self.assertEqual(code, 1, out + err)
                self.assertIn(rule, out)
                self.assertEqual(server.line(), f"CLOSE {code_sent}")

    def test_an_unreachable_server_is_one_clear_line(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        code, out, err = client(f"ws://127.0.0.1:{port}/")
        self.assertEqual(code, 1)
        self.assertIn("cannot connect", err)
        self.assertNotIn("terminate", err)

    def test_a_bad_url_is_one_clear_line(self):
        code, _, err = client("http://127.0.0.1:8080/")
        self.assertEqual(code, 1)
        self.assertIn("a WebSocket's starts with ws://", err)
        # Bytes that would change the request itself (a header smuggled in through the URL).
        for url in ("ws://127.0.0.1:8080/a b", "ws://127.0.0.1:8080/x\r\nX-Injected: 1", "ws://127.0.0.1\r\n:8080/"):
            with self.subTest(url=url):
                code, _, err = client(url)
                self.assertEqual(code, 1)
                self.assertIn("a space or a control character", err)
                self.assertNotIn("\r", err)


def accept_of(key):
    return base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()


class RecordingServer:
    """A raw upstream: answers the upgrade, records every byte after it, sends what it is told."""

    def __init__(self, send_after=b""):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        self.received = b""
        self.request = b""
        self.send_after = send_after
        self.done = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        conn, _ = self.listener.accept()
        data = read_until(conn, b"\r\n\r\n")
        self.request, _, rest = data.partition(b"\r\n\r\n")
        key = [l.split(b":", 1)[1].strip().decode() for l in self.request.split(b"\r\n") if l.lower().startswith(b"sec-websocket-key")][0]
        conn.sendall(f"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     f"Sec-WebSocket-Accept: {accept_of(key)}\r\n\r\n".encode() + self.send_after)
        self.received = rest
        self.ended = "timeout"  # how the relay's side ended: "eof", "reset" or "timeout"
        conn.settimeout(5)
        try:
            while chunk := conn.recv(65536):
                self.received += chunk
            self.ended = "eof"
        except ConnectionResetError:
            self.ended = "reset"
        except OSError:
            pass
        conn.close()
        self.done.set()


class Relay(Case):
    def start_relay(self, upstream_port, *args):
        self.relay = Lesson("lesson6-client", "relay", "--listen", "0", f"ws://127.0.0.1:{upstream_port}/", *args,
                            port_option=False)
        return self.relay.port

    def tearDown(self):
        if hasattr(self, "relay"):
            self.assertEqual(self.relay.stop(), 0)
            self.relay.__exit__()

    def test_every_byte_is_forwarded_unchanged_both_ways_and_violations_are_shown(self):
        # Down: a masked frame, which a client must refuse. Up: a valid frame, an unmasked one.
        down = bytes([0x81, 0x82, 1, 2, 3, 4, ord("h") ^ 1, ord("i") ^ 2])
        upstream = RecordingServer(send_after=down)
        port = self.start_relay(upstream.port, "-v")
        s = raw(port)
        key = base64.b64encode(os.urandom(16)).decode()
        s.sendall((f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nX-Kept: as it is\r\n\r\n").encode())
        reply = read_until(s, b"\r\n\r\n")
        head, _, rest = reply.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 101 "))
        while len(rest) < len(down):
            rest += s.recv(65536)
        self.assertEqual(rest, down)  # the masked frame reached the client unchanged
        up = frame(0x1, b"hello") + frame(0x1, b"unmasked", mask=False)
        s.sendall(up)
        time.sleep(0.3)
        s.close()
        upstream.done.wait(10)
        self.assertEqual(upstream.received, up)
        self.assertIn(b"Host: 127.0.0.1:%d\r\n" % upstream.port, upstream.request)
        self.assertIn(b"X-Kept: as it is", upstream.request)
        out = self.relay.wait_for_output(rb"client frame is not masked", 10)
        self.assertIn("server frame is masked", out)
        self.assertIn("#1 → text", out)

    def test_between_python_websockets_client_and_server_with_100_at_once(self):
        with Peer("peer_echo_server.py") as server:
            port = self.start_relay(server.port)

            async def one(i):
                async with websockets.connect(f"ws://127.0.0.1:{port}/", max_size=None) as ws:
                    for message in (f"hello {i}", os.urandom(100000), ["frag", f"ment {i}"]):
                        await ws.send(message)
                        echo = await ws.recv()
                        self.assertEqual(echo, "".join(message) if isinstance(message, list) else message)

            async def all_of_them():
                await asyncio.gather(*(one(i) for i in range(100)))
            arun(all_of_them(), 120)
            # Every echo came back, so every line is printed or queued to be: read until the
            # last connection's lines are there (the connections ran at once, in any order).
            out = ""
            for pattern in (rb"#100 ", rb"permessage-deflate was agreed", rb"text \(came compressed\) \"hello \d+\"\n"):
                if not re.search(pattern.decode(), out):
                    out += self.relay.wait_for_output(pattern, 20)
            while out.count("closed TCP") < 200:  # each side of each connection
                out += self.relay.wait_for_output(rb"closed TCP", 20)
            # Python's websockets offers permessage-deflate and its server accepts: the relay
            # passes that on unchanged and shows each compressed message inflated.
            self.assertIn("permessage-deflate was agreed", out)
            self.assertRegex(out, r"#\d+ → text \(came compressed\) \"hello \d+\"\n")
            self.assertRegex(out, r"#\d+ ← binary \(came compressed\) 100000 B: ")
            self.assertNotIn("broke a rule", out)
            # Each connection's story is printed in one piece, not interleaved with another's.
            for block in re.findall(r"── #\d+ from [^\n]*\n(?:[^\n]*\n){15}", out):
                self.assertEqual(len(re.findall(r"── #", block)), 1, block)

    def test_a_client_dropping_mid_frame_is_reported_and_the_server_side_closed(self):
        upstream = RecordingServer()
        port = self.start_relay(upstream.port)
        s = raw(port)
        key = base64.b64encode(os.urandom(16)).decode()
        s.sendall((f"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        read_until(s, b"\r\n\r\n")
        s.sendall(frame(0x2, b"x" * 1000)[:100])  # the header and a tenth of the payload
        time.sleep(0.2)
        s.close()
        self.relay.wait_for_output(rb"dropped the connection in the middle of a frame", 10)
        self.assertTrue(upstream.done.wait(10))
        self.assertIn(upstream.ended, ("eof", "reset"), "the relay did not close the server's side")


if __name__ == "__main__":
    unittest.main(verbosity=2)
