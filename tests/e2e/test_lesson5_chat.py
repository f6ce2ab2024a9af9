"""End-to-end: lesson 5's chat room with several Python `websockets` clients (design §5)."""
import asyncio
import json
import signal
import time
import unittest

import websockets
import websockets.exceptions

from harness import Lesson, arun, close_code_of, frame, handshake, raw, read_all, read_frame, run


async def recv_json(ws, timeout=5):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def login(url, name):
    ws = await websockets.connect(url)
    await ws.send(json.dumps({"type": "LOGIN", "name": name}))
    users = await recv_json(ws)
    assert users["type"] == "USERS", users
    joined = await recv_json(ws)
    assert joined == {"type": "LOGIN", "message": f"{name} joined the chat", "name": name}, joined
    return ws


class ChatRoom(unittest.TestCase):
    def setUp(self):
        self.lesson = Lesson("lesson5-chat", "--max-backlog", "65536")
        self.url = f"ws://127.0.0.1:{self.lesson.port}/ws"

    def tearDown(self):
        code = self.lesson.stop()
        self.lesson.__exit__()
        self.assertEqual(code, 0)

    def test_login_and_broadcast_to_everyone_in_order(self):
        async def talk():
            alice = await login(self.url, "alice")
            bob = await websockets.connect(self.url)
            await bob.send(json.dumps({"type": "LOGIN", "name": "bob"}))
            self.assertEqual(await recv_json(bob), {"type": "USERS", "users": ["alice", "bob"]})
            self.assertEqual((await recv_json(bob))["name"], "bob")
            self.assertEqual(await recv_json(alice), {"type": "LOGIN", "message": "bob joined the chat", "name": "bob"})
            # Both send at once: each sender's messages keep their order, and every client
            # sees one and the same order (the order the server received them in).
            for i in range(50):
                await (alice if i % 2 else bob).send(json.dumps({"type": "CHAT", "message": f"m{i}"}))
            seen = []
            for ws in (alice, bob):
                got = [await recv_json(ws) for _ in range(50)]
                self.assertEqual(sorted(g["message"] for g in got), sorted(f"m{i}" for i in range(50)))
                for sender, parity in (("alice", 1), ("bob", 0)):
                    mine = [int(g["message"][1:]) for g in got if g["sender"] == sender]
                    self.assertEqual(mine, [i for i in range(50) if i % 2 == parity])
                seen.append([g["message"] for g in got])
            self.assertEqual(seen[0], seen[1])
            # Text is carried as text: markup arrives exactly as sent.
            await alice.send(json.dumps({"type": "CHAT", "message": "<img src=x onerror=alert(1)>"}))
            self.assertEqual((await recv_json(bob))["message"], "<img src=x onerror=alert(1)>")
            await alice.close()
            await bob.close()
        arun(talk())

    def test_bad_input_gets_an_error_and_the_connection_stays_usable(self):
        async def talk():
            ws = await websockets.connect(self.url)
            bad = [
                json.dumps({"type": "CHAT", "message": "too early"}),
                "not json at all",
                json.dumps({"type": "DANCE"}),
                json.dumps({"type": "LOGIN", "name": ""}),
                json.dumps({"type": "LOGIN", "name": "x" * 33}),
                json.dumps([1, 2, 3]),
            ]
            for text in bad:
                await ws.send(text)
                reply = await recv_json(ws)
                self.assertEqual(reply["type"], "ERROR", text)
                self.assertTrue(reply["message"], text)
            await ws.send(b"binary")
            self.assertEqual((await recv_json(ws))["type"], "ERROR")
            other = await login(self.url, "taken")
            await ws.send(json.dumps({"type": "LOGIN", "name": "taken"}))
            self.assertIn("taken", (await recv_json(ws))["message"])
            await ws.send(json.dumps({"type": "LOGIN", "name": "n" * 32}))
            self.assertEqual((await recv_json(ws))["type"], "USERS")
            self.assertEqual((await recv_json(ws))["type"], "LOGIN")
            await ws.send(json.dumps({"type": "CHAT", "message": "m" * 4097}))
            self.assertEqual((await recv_json(ws))["type"], "ERROR")
            await ws.send(json.dumps({"type": "CHAT", "message": "m" * 4096}))
            self.assertEqual(len((await recv_json(ws))["message"]), 4096)
            await ws.close()
            await other.close()
        arun(talk())

    def test_abrupt_disconnect_is_announced_as_logout(self):
        async def talk():
            alice = await login(self.url, "alice")
            s = raw(self.lesson.port)
            handshake(s, self.lesson.port, "/ws")
            s.sendall(frame(0x1, json.dumps({"type": "LOGIN", "name": "mallory"}).encode()))
            self.assertEqual((await recv_json(alice))["name"], "mallory")
            s.close()  # no close frame: the TCP connection just ends
            self.assertEqual(await recv_json(alice), {"type": "LOGOUT", "message": "mallory left the chat", "name": "mallory"})
            await alice.close()
        arun(talk())

    def test_a_client_that_stops_reading_is_closed_and_others_keep_chatting(self):
        async def talk():
            alice = await login(self.url, "alice")
            s = raw(self.lesson.port)
            s.setsockopt(__import__("socket").SOL_SOCKET, __import__("socket").SO_RCVBUF, 4096)
            handshake(s, self.lesson.port, "/ws")
            s.sendall(frame(0x1, json.dumps({"type": "LOGIN", "name": "sleepy"}).encode()))
            self.assertEqual((await recv_json(alice))["name"], "sleepy")
            # sleepy never reads again; alice chats on and must get every message.
            message = "x" * 4000
            left = None
            for i in range(3000):
                if left:
                    break
                await alice.send(json.dumps({"type": "CHAT", "message": f"{i} {message}"}))
                got = await recv_json(alice)
                if got["type"] == "LOGOUT":
                    left = got
                    got = await recv_json(alice)
                self.assertEqual(got["message"], f"{i} {message}")
            self.assertIsNotNone(left, "the stuck client was never dropped")
            self.assertEqual(left["name"], "sleepy")
            await alice.close()
            s.close()
        arun(talk(), 120)

    def test_a_crowd_leaving_at_once(self):
        # 300 members vanish together: 300 LOGOUTs to up to 299 others each, all in a few loop
        # turns. The room must end up empty and keep serving.
        import socket as socketlib
        crowd = []
        for i in range(300):
            s = raw(self.lesson.port)
            handshake(s, self.lesson.port, "/ws")
            s.sendall(frame(0x1, json.dumps({"type": "LOGIN", "name": f"c{i}"}).encode()))
            crowd.append(s)
        async def count_members():
            ws = await websockets.connect(self.url)
            await ws.send(json.dumps({"type": "LOGIN", "name": "watcher"}))
            users = await recv_json(ws)
            await ws.close()
            return users["users"]
        deadline = time.monotonic() + 10
        while len(arun(count_members())) < 301:  # the logins are processed
            self.assertLess(time.monotonic(), deadline)
        for s in crowd:
            s.setsockopt(socketlib.SOL_SOCKET, socketlib.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()
        deadline = time.monotonic() + 10
        while (members := arun(count_members())) != ["watcher"]:
            self.assertLess(time.monotonic(), deadline, members[:5])

    def test_sigterm_gives_every_client_1001(self):
        async def talk():
            clients = [await login(self.url, f"u{i}") for i in range(5)]
            await asyncio.sleep(0.1)
            self.lesson.proc.send_signal(signal.SIGTERM)
            codes = []
            for ws in clients:
                try:
                    while True:
                        await asyncio.wait_for(ws.recv(), 5)
                except websockets.exceptions.ConnectionClosed as e:
                    codes.append(e.rcvd.code if e.rcvd else None)
            return codes
        self.assertEqual(arun(talk()), [1001] * 5)
        self.assertEqual(self.lesson.stop(), 0)

    def test_http_pages_missing_files_and_traversal(self):
        def get(path):
            s = raw(self.lesson.port)
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            return read_all(s)
        page = get("/")
        self.assertTrue(page.startswith(b"HTTP/1.1 200 OK\r\n"))
        self.assertIn(b'id="content"', page)
        self.assertIn(b"Content-Type: text/html", page)
        self.assertTrue(get("/framing.html").startswith(b"HTTP/1.1 200"))
        self.assertTrue(get("/favicon.ico").startswith(b"HTTP/1.1 204"))
        self.assertTrue(get("/missing.html").startswith(b"HTTP/1.1 404"))
        for evil in ("/../CMakeLists.txt", "/..%2fCMakeLists.txt", "/%2e%2e/%2e%2e/etc/passwd", "//etc/passwd",
                     "/..\\CMakeLists.txt"):
            self.assertTrue(get(evil).startswith(b"HTTP/1.1 404"), evil)
        # The WebSocket lives on /ws only.
        s = raw(self.lesson.port)
        from harness import upgrade_request
        s.sendall(upgrade_request(self.lesson.port, "/other"))
        self.assertTrue(read_all(s).startswith(b"HTTP/1.1 404"))
        # Pages are only read: a POST is 405 whatever its body (not 413 for a body it never takes).
        for body in (b"", b"x" * 10, b"x" * 100_000):
            s = raw(self.lesson.port)
            s.sendall(f"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
            self.assertTrue(read_all(s).startswith(b"HTTP/1.1 405"), len(body))


class Verbose(unittest.TestCase):
    def test_v_prints_one_line_per_connection_event(self):
        with Lesson("lesson5-chat", "-v") as lesson:
            async def talk():
                alice = await login(f"ws://127.0.0.1:{lesson.port}/ws", "alice")
                await alice.send(json.dumps({"type": "CHAT", "message": "hello"}))
                await recv_json(alice)
                await alice.close(1000)
            arun(talk())
            out = lesson.wait_for_output(rb"LOGOUT alice")
            for line in (r"#1 connect 127\.0\.0\.1:\d+", r"#1 handshake ok · GET /ws", r"#1 LOGIN alice · room: alice",
                         r'(?m)^#1 CHAT "hello" → 1 client$', r"#1 close 1000 \(normal closure\)", r"#1 LOGOUT alice · room: empty"):
                self.assertRegex(out, line)
            self.assertEqual(lesson.stop(), 0)


class Limits(unittest.TestCase):
    def test_handshake_timeout_and_header_limit_are_settings(self):
        with Lesson("lesson5-chat", "--handshake-timeout", "0.5", "--max-header-bytes", "200") as lesson:
            slow = raw(lesson.port)
            slow.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\n")  # and then nothing
            started = time.monotonic()
            reply = read_all(slow)
            self.assertTrue(reply.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), reply[:60])
            self.assertLess(time.monotonic() - started, 3)
            big = raw(lesson.port)
            big.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"a" * 300 + b"\r\n\r\n")
            self.assertTrue(read_all(big).startswith(b"HTTP/1.1 431 "))
            self.assertEqual(lesson.stop(), 0)


class KeepAlive(unittest.TestCase):
    def test_a_client_that_never_answers_pings_is_dropped_and_announced(self):
        with Lesson("lesson5-chat", "--ping-interval", "0.3") as lesson:
            url = f"ws://127.0.0.1:{lesson.port}/ws"
            async def talk():
                alice = await login(url, "alice")  # websockets answers pings by itself
                s = raw(lesson.port)
                handshake(s, lesson.port, "/ws")
                s.sendall(frame(0x1, json.dumps({"type": "LOGIN", "name": "ghost"}).encode()))
                self.assertEqual((await recv_json(alice))["name"], "ghost")
                self.assertEqual(await recv_json(alice, 10), {"type": "LOGOUT", "message": "ghost left the chat", "name": "ghost"})
                await alice.send(json.dumps({"type": "CHAT", "message": "still here"}))
                self.assertEqual((await recv_json(alice))["message"], "still here")
                await alice.close()
            arun(talk())
            self.assertEqual(lesson.stop(), 0)


class Demo(unittest.TestCase):
    def test_demo_tells_the_whole_story(self):
        code, out, err = run("lesson5-chat", "--demo", "-v", "--seed", "1", "--color", "never")
        self.assertEqual(code, 0, err)
        self.assertIn('error: the name "alice" is taken', out)
        self.assertIn("bob    sees  alice: hello, room!", out)
        self.assertIn("alice  sees  system: carol left the chat", out)
        self.assertIn("connection closed: 1001 (going away)", out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
