"""End-to-end: lessons 1-3 as a student runs them, and a Python `websockets` client (a peer
nobody here wrote) completing the handshake with lesson 2."""
import base64
import hashlib
import os
import signal
import time
import unittest

import websockets
import websockets.exceptions

from harness import Lesson, arun, raw, read_all, read_until, run, upgrade_request


class Lesson1(unittest.TestCase):
    def test_prints_every_byte_received_and_hangs_up_without_answering(self):
        with Lesson("lesson1-raw-tcp", "--hang-up-after", "1") as lesson:
            s = raw(lesson.port)
            request = upgrade_request(lesson.port)
            s.sendall(request)
            out = lesson.wait_for_output(rb"hanging up")
            # The hex dump shows the request's first bytes, and CR LF made visible.
            self.assertIn("47 45 54 20 2f 20 48 54 54 50 2f 31 2e 31 0d 0a", out)
            self.assertIn("GET / HTTP/1.1␍␊", out)
            self.assertIn(f"{len(request)} bytes", out)
            self.assertIn("What you are looking at", out)
            # Nothing comes back: the connection just ends.
            self.assertEqual(read_all(s), b"")
            self.assertEqual(lesson.stop(), 0)

    def test_demo_shows_two_reads_and_the_explanation(self):
        code, out, err = run("lesson1-raw-tcp", "--demo", "--seed", "1", "--color", "never")
        self.assertEqual(code, 0, err)
        self.assertIn("read 1:", out)
        self.assertIn("read 2:", out)
        self.assertIn("What you are looking at", out)
        self.assertIn("not one byte came back", out)


class Lesson2(unittest.TestCase):
    def test_python_websockets_client_completes_the_handshake(self):
        with Lesson("lesson2-handshake") as lesson:
            async def talk():
                async with websockets.connect(f"ws://127.0.0.1:{lesson.port}/", open_timeout=5) as ws:
                    return ws.open
            self.assertTrue(arun(talk()))
            out = lesson.wait_for_output(rb"the client closed with 1000")
            for n in range(1, 7):
                self.assertRegex(out, rf"✓ {n} ")
            self.assertIn("HTTP/1.1 101 Switching Protocols␍␊", out)

    def test_request_in_one_byte_writes_still_works(self):
        with Lesson("lesson2-handshake") as lesson:
            s = raw(lesson.port)
            key = base64.b64encode(os.urandom(16)).decode()
            for b in upgrade_request(lesson.port, key=key):
                s.sendall(bytes([b]))
            head = read_until(s, b"\r\n\r\n").decode()
            expected = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
            self.assertTrue(head.startswith("HTTP/1.1 101 Switching Protocols\r\n"), head)
            self.assertIn(f"\r\nSec-WebSocket-Accept: {expected}\r\n", head)

    def test_bad_requests_get_the_right_status_and_name_the_check(self):
        cases = [
            (lambda p: upgrade_request(p, version="8"), "426 Upgrade Required", "bad_sec_version"),
            (lambda p: upgrade_request(p, key="c2hvcnQ="), "400 Bad Request", "bad_sec_key"),
            (lambda p: upgrade_request(p).replace(b"Connection: Upgrade", b"Connection: close"), "400 Bad Request",
             "no_connection_upgrade"),
            (lambda p: upgrade_request(p).replace(b"Upgrade: websocket\r\n", b"Upgrade: h2c\r\n"), "400 Bad Request",
             "no_upgrade_websocket"),
            (lambda p: upgrade_request(p).replace(b"Host: ", b"X-Host: "), "400 Bad Request", "no_host"),
            (lambda p: upgrade_request(p).replace(b"GET ", b"POST "), "400 Bad Request", "bad_method_or_version"),
            (lambda p: b"GET / HTTP/1.1\nHost: x\n\n", "400 Bad Request", "LF alone"),
            (lambda p: b"GET / HTTP/1.1\r\nX: " + b"a" * 9000 + b"\r\n\r\n", "400 Bad Request", "larger than the limit"),
        ]
        with Lesson("lesson2-handshake") as lesson:
            for make, status, words in cases:
                with self.subTest(words=words):
                    s = raw(lesson.port)
                    s.sendall(make(lesson.port))
                    reply = read_all(s).decode("utf-8", "replace")
                    self.assertTrue(reply.startswith(f"HTTP/1.1 {status}\r\n"), reply[:200])
                    self.assertIn(words, reply)
                    if status.startswith("426"):
                        self.assertIn("\r\nSec-WebSocket-Version: 13\r\n", reply)

    def test_plain_get_serves_the_handshake_page(self):
        with Lesson("lesson2-handshake") as lesson:
            s = raw(lesson.port)
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            reply = read_all(s).decode()
            self.assertTrue(reply.startswith("HTTP/1.1 200 OK\r\n"))
            self.assertIn("new WebSocket(", reply)
            s = raw(lesson.port)
            s.sendall(b"GET /../CMakeLists.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertTrue(read_all(s).startswith(b"HTTP/1.1 404"))

    def test_mistakes_are_refused_by_a_real_client(self):
        for mistake in ("lf-only", "bad-accept", "no-blank-line"):
            with self.subTest(mistake=mistake), Lesson("lesson2-handshake", "--mistake", mistake) as lesson:
                async def talk():
                    async with websockets.connect(f"ws://127.0.0.1:{lesson.port}/", open_timeout=2):
                        pass
                with self.assertRaises((websockets.exceptions.InvalidHandshake, websockets.exceptions.InvalidMessage,
                                        TimeoutError, OSError)):
                    arun(talk())
        with Lesson("lesson2-handshake", "--mistake", "lf-only") as lesson:
            s = raw(lesson.port)
            s.sendall(upgrade_request(lesson.port))
            reply = read_until(s, b"\n\n")
            self.assertTrue(reply.startswith(b"HTTP/1.1 101 Switching Protocols\n"))
            self.assertNotIn(b"\r", reply)

    def test_sigterm_sends_1001_to_open_websockets_and_exits_0(self):
        with Lesson("lesson2-handshake") as lesson:
            async def talk():
                async with websockets.connect(f"ws://127.0.0.1:{lesson.port}/") as ws:
                    lesson.wait_for_output(rb"onopen")
                    lesson.proc.send_signal(signal.SIGTERM)
                    try:
                        await asyncio_wait(ws.recv())
                    except websockets.exceptions.ConnectionClosed as e:
                        return e.rcvd.code if e.rcvd else None
            self.assertEqual(arun(talk()), 1001)
            self.assertEqual(lesson.stop(), 0)

    def test_too_many_clients_at_once_get_503_and_the_server_lives_on(self):
        with Lesson("lesson2-handshake", "--request-timeout", "30") as lesson:
            silent = [raw(lesson.port) for _ in range(64)]  # one thread each, all waiting
            extra = raw(lesson.port)
            self.assertTrue(read_all(extra).startswith(b"HTTP/1.1 503 Service Unavailable\r\n"))
            for s in silent:
                s.close()
            async def talk():
                async with websockets.connect(f"ws://127.0.0.1:{lesson.port}/", open_timeout=5) as ws:
                    return ws.open
            deadline = time.monotonic() + 10
            while True:  # the silent clients' threads end as their sockets close
                try:
                    self.assertTrue(arun(talk()))
                    break
                except websockets.exceptions.InvalidStatusCode:
                    self.assertLess(time.monotonic(), deadline)
                    time.sleep(0.1)
            self.assertEqual(lesson.stop(), 0)

    def test_stops_even_while_a_client_keeps_sending(self):
        import threading
        from harness import frame, handshake
        with Lesson("lesson2-handshake") as lesson:
            s = raw(lesson.port)
            handshake(s, lesson.port)
            stop_sending = threading.Event()
            def flood():
                try:
                    while not stop_sending.is_set():
                        s.sendall(frame(0x2, b"x" * 1000))
                except OSError:
                    pass
            sender = threading.Thread(target=flood)
            sender.start()
            # The lesson prints a line per message: keep reading its output, as a terminal would.
            def drain_output():
                try:
                    while os.read(lesson.proc.stdout.fileno(), 65536):
                        pass
                except OSError:
                    pass
            reader = threading.Thread(target=drain_output, daemon=True)
            reader.start()
            time.sleep(0.3)
            started = time.monotonic()
            try:
                self.assertEqual(lesson.stop(timeout=5), 0)
            finally:
                stop_sending.set()
                sender.join()
            self.assertLess(time.monotonic() - started, 5)

    def test_demo(self):
        code, out, err = run("lesson2-handshake", "--demo", "--seed", "7", "--color", "never")
        self.assertEqual(code, 0, err)
        self.assertIn("HTTP/1.1 101 Switching Protocols", out)
        self.assertIn("HTTP/1.1 426 Upgrade Required", out)
        self.assertIn("HTTP/1.1 400 Bad Request", out)
        self.assertIn("✗ 6  Sec-WebSocket-Version is 13", out)
        self.assertIn("✗ 5  Sec-WebSocket-Key is 16 bytes in base64", out)


async def asyncio_wait(coro):
    import asyncio
    return await asyncio.wait_for(coro, 10)


class Lesson3(unittest.TestCase):
    def test_the_rfc_example_byte_for_byte(self):
        code, out, _ = run("lesson3-accept-key", "--color", "never")
        self.assertEqual(code, 0)
        self.assertIn("74 68 65 20 73 61 6d 70 6c 65 20 6e 6f 6e 63 65", out)
        self.assertIn("dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11", out)
        self.assertIn("b3 7a 4f 2c c0 62 4f 16 90 f6 46 06 cf 38 59 45 b2 be c4 ea", out)
        self.assertIn("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", out)
        self.assertIn("✓ the value RFC 6455 §1.3 gives", out)

    def test_any_key_and_verify(self):
        key = base64.b64encode(os.urandom(16)).decode()
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        code, out, _ = run("lesson3-accept-key", "--key", key, "--color", "never")
        self.assertEqual(code, 0)
        self.assertIn(accept, out)
        self.assertEqual(run("lesson3-accept-key", "--verify", key, accept)[0], 0)
        self.assertNotEqual(run("lesson3-accept-key", "--verify", key, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=")[0], 0)

    def test_seed_makes_the_same_random_key(self):
        a = run("lesson3-accept-key", "--random", "--seed", "5", "--color", "never")[1]
        b = run("lesson3-accept-key", "--random", "--seed", "5", "--color", "never")[1]
        c = run("lesson3-accept-key", "--random", "--color", "never")[1]
        self.assertEqual(a, b)
        self.assertNotEqual(a, c)

    def test_bad_options_are_one_clear_line(self):
        code, out, err = run("lesson3-accept-key", "--no-such-flag")
        self.assertNotEqual(code, 0)
        self.assertIn("--no-such-flag", err + out)
        self.assertNotIn("terminate called", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
