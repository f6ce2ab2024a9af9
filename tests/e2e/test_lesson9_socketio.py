"""End-to-end: lesson 9's socket.io server against Python's `socketio` client (python3-socketio,
a peer nobody here wrote) on each transport, lesson-5 WebSocket clients in the same room, the
heartbeat, and hostile input for both Engine.IO and Socket.IO."""
import asyncio
import json
import os
import re
import socket
import tempfile
import threading
import time
import unittest

import socketio
import websockets

from harness import Lesson, arun, frame, handshake, raw, read_frame, run


def http(port, method, target, body=b"", headers="", conn=None):
    """One HTTP/1.1 request; returns (status, headers text, body). Keeps `conn` open when given."""
    s = conn or raw(port)
    head = f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{headers}"
    if body or method == "POST":
        head += f"Content-Length: {len(body)}\r\n"
    s.sendall(head.encode() + b"\r\n" + body)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed; got {data!r}")
        data += chunk
    h, _, rest = data.partition(b"\r\n\r\n")
    m = re.search(rb"Content-Length: (\d+)", h, re.I)
    n = int(m.group(1)) if m else 0
    while len(rest) < n:
        chunk = s.recv(65536)
        if not chunk:
            break
        rest += chunk
    if conn is None:
        s.close()
    return int(h.split(b" ")[1]), h.decode(), rest[:n]


class Upgraded:
    """A raw upgraded socket; the bytes that came with the 101 are read first."""

    def __init__(self, port, path):
        self.sock = raw(port)
        self.rest = handshake(self.sock, port, path)

    def recv(self, n):
        if self.rest:
            out, self.rest = self.rest[:n], self.rest[n:]
            return out
        return self.sock.recv(n)

    def sendall(self, data):
        self.sock.sendall(data)

    def close(self):
        self.sock.close()


def open_session(port):
    status, _, body = http(port, "GET", "/socket.io/?EIO=4&transport=polling")
    assert status == 200 and body.startswith(b"0{"), body
    return json.loads(body[1:])["sid"]


class SioClient:
    """python-socketio's client, recording every "message" event."""

    def __init__(self, port, transports=None, name=None):
        self.sio = socketio.Client(reconnection=False)
        self.got = []
        self.cond = threading.Condition()
        self.sio.on("message", self._on_message)
        kw = {} if transports is None else {"transports": transports}
        self.sio.connect(f"http://127.0.0.1:{port}", wait_timeout=5, **kw)
        if name:
            self.sio.send({"type": "LOGIN", "name": name})
            assert self.next()["type"] == "USERS"
            assert self.next() == {"type": "LOGIN", "message": f"{name} joined the chat", "name": name}

    def _on_message(self, data):
        with self.cond:
            self.got.append(data)
            self.cond.notify_all()

    def next(self, timeout=20):
        with self.cond:
            if not self.cond.wait_for(lambda: self.got, timeout):
                raise AssertionError("no message in time")
            return self.got.pop(0)


async def ws_login(port, name):
    ws = await websockets.connect(f"ws://127.0.0.1:{port}/ws")
    await ws.send(json.dumps({"type": "LOGIN", "name": name}))
    assert json.loads(await ws.recv())["type"] == "USERS"
    assert json.loads(await ws.recv())["name"] == name
    return ws


class Transports(unittest.TestCase):
    def setUp(self):
        self.lesson = Lesson("lesson9-socketio", "--ping-interval", "0.5", "--ping-timeout", "10")

    def tearDown(self):
        self.assertEqual(self.lesson.stop(), 0)

    def chat_through(self, transports, expected_transport):
        port = self.lesson.port

        async def scenario():
            page = await ws_login(port, "page")
            alice = await asyncio.to_thread(SioClient, port, transports, "alice")
            self.assertEqual(alice.sio.transport(), expected_transport)
            self.assertEqual(json.loads(await page.recv())["name"], "alice")
            # Order: 30 messages from alice and 30 from the page, each seen in one order by both.
            for i in range(30):
                await asyncio.to_thread(alice.sio.send, {"type": "CHAT", "message": f"a{i}"})
                await page.send(json.dumps({"type": "CHAT", "message": f"p{i}"}))
            page_saw = [json.loads(await asyncio.wait_for(page.recv(), 5))["message"] for _ in range(60)]
            alice_saw = [(await asyncio.to_thread(alice.next))["message"] for _ in range(60)]
            self.assertEqual(page_saw, alice_saw)
            self.assertEqual([m for m in page_saw if m[0] == "a"], [f"a{i}" for i in range(30)])
            self.assertEqual([m for m in page_saw if m[0] == "p"], [f"p{i}" for i in range(30)])
            # A heartbeat or two pass (pingInterval 0.5 s): the session stays.
            await asyncio.sleep(1.5)
            await asyncio.to_thread(alice.sio.send, {"type": "CHAT", "message": "still here"})
            self.assertEqual(json.loads(await page.recv())["message"], "still here")
            self.assertEqual((await asyncio.to_thread(alice.next))["sender"], "alice")
            # Bad chat input: an ERROR, and the session stays usable.
            await asyncio.to_thread(alice.sio.send, {"type": "DANCE"})
            self.assertEqual((await asyncio.to_thread(alice.next))["type"], "ERROR")
            await asyncio.to_thread(alice.sio.disconnect)
            self.assertEqual(json.loads(await asyncio.wait_for(page.recv(), 5)),
                             {"type": "LOGOUT", "message": "alice left the chat", "name": "alice"})
            await page.close()

        arun(scenario())

    def test_polling_only(self):
        self.chat_through(["polling"], "polling")

    def test_websocket_only(self):
        self.chat_through(["websocket"], "websocket")

    def test_default_upgrade(self):
        self.chat_through(None, "websocket")
        out = self.lesson.wait_for_output(rb"upgrade 3/3", timeout=5)
        self.assertIn("upgrade 1/3", out)
        self.assertIn("in  2probe", out.replace("in 2probe", "in  2probe"))

    def test_the_terminal_decodes_every_packet(self):
        c = SioClient(self.lesson.port, ["polling"], "dora")
        c.sio.send({"type": "CHAT", "message": "decoded"})
        c.next()
        out = self.lesson.wait_for_output(rb'CHAT "decoded"')
        self.assertRegex(out, r'in  42\["message",\{"type":"CHAT","message":"decoded"\}\] = EVENT "message" on namespace /')
        self.assertRegex(out, r'HTTP POST \(\d+ bytes, 1 packet\) → 200 ok')
        self.assertRegex(out, r'out 0\{"maxPayload":1000000,"pingInterval":500')
        c.sio.disconnect()


class Heartbeat(unittest.TestCase):
    def test_a_client_that_stops_answering_is_dropped_and_announced(self):
        lesson = Lesson("lesson9-socketio", "--ping-interval", "0.3", "--ping-timeout", "0.5")
        port = lesson.port

        async def scenario():
            page = await ws_login(port, "page")
            sid = open_session(port)
            q = f"/socket.io/?EIO=4&transport=polling&sid={sid}"
            self.assertEqual(http(port, "POST", q, b"40")[0], 200)
            self.assertTrue(http(port, "GET", q)[2].startswith(b"40{"))
            login = b'42["message",{"type":"LOGIN","name":"ghost"}]'
            self.assertEqual(http(port, "POST", q, login)[0], 200)
            self.assertEqual(json.loads(await page.recv())["name"], "ghost")
            # ghost never polls again, so never sees the ping, never answers: dropped after
            # pingInterval + pingTimeout, and the room hears it.
            start = time.monotonic()
            gone = json.loads(await asyncio.wait_for(page.recv(), 5))
            self.assertEqual(gone, {"type": "LOGOUT", "message": "ghost left the chat", "name": "ghost"})
            self.assertGreater(time.monotonic() - start, 0.3)
            status, _, body = http(port, "GET", q)
            self.assertEqual(status, 400)
            self.assertEqual(json.loads(body)["code"], 1)  # Session ID unknown
            await page.close()

        arun(scenario())
        out = lesson.wait_for_output(rb"no pong within pingTimeout")
        if "LOGOUT ghost" not in out:
            out += lesson.wait_for_output(rb"LOGOUT ghost")
        self.assertEqual(lesson.stop(), 0)


class BadInput(unittest.TestCase):
    def setUp(self):
        # -q: the memory measured is the sessions', not a log nobody reads yet.
        self.lesson = Lesson("lesson9-socketio", "--max-payload", "1000", "--ping-interval", "0.5", "--ping-timeout", "1", "-q")
        self.port = self.lesson.port

    def tearDown(self):
        # Whatever came before, the server still serves a socket.io client.
        c = SioClient(self.port, ["websocket"], "survivor")
        c.sio.disconnect()
        self.assertEqual(self.lesson.stop(), 0)

    def test_http_refusals_have_engine_io_codes(self):
        p = self.port
        cases = [
            ("GET", "/socket.io/?EIO=3&transport=polling", b"", 400, 5),
            ("GET", "/socket.io/?transport=polling", b"", 400, 5),
            ("GET", "/socket.io/?EIO=4&transport=carrier-pigeon", b"", 400, 0),
            ("GET", "/socket.io/?EIO=4&transport=polling&sid=nope", b"", 400, 1),
            ("POST", "/socket.io/?EIO=4&transport=polling", b"40", 400, 2),  # a POST without sid
            ("POST", "/socket.io/?EIO=4&transport=polling&sid=nope", b"40", 400, 1),
        ]
        for method, target, body, status, code in cases:
            got, _, answer = http(p, method, target, body)
            self.assertEqual(got, status, target)
            self.assertEqual(json.loads(answer)["code"], code, target)

    def test_oversized_truncated_and_malformed_bodies(self):
        p = self.port
        sid = open_session(p)
        q = f"/socket.io/?EIO=4&transport=polling&sid={sid}"
        status, _, _ = http(p, "POST", q, b"4" * 1001)
        self.assertEqual(status, 413)
        # A truncated body: the Content-Length promises more than comes, then the client leaves.
        s = raw(p)
        s.sendall(f"POST {q} HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n42[".encode())
        s.close()
        # Nothing of it was taken (as a packet "42[" it would end the session): the session goes on.
        time.sleep(0.2)
        self.assertEqual(http(p, "POST", q, b"40")[0], 200)
        status, _, body = http(p, "GET", q)
        self.assertTrue(status == 200 and body.startswith(b"40{"), body)
        # Malformed bodies end the session with 400.
        for bad in (b"9nope", b"4ok\x1e\x1e4ok", b"b!!!!"):
            sid = open_session(p)
            q = f"/socket.io/?EIO=4&transport=polling&sid={sid}"
            self.assertEqual(http(p, "POST", q, bad)[0], 400, bad)
            self.assertEqual(http(p, "GET", q)[0], 400, bad)  # the session is gone

    def test_a_body_split_at_every_point_is_the_same_body(self):
        p = self.port
        body = b'40\x1e42["message",{"type":"LOGIN","name":"splitter"}]'
        for cut in range(1, 120, 7):
            sid = open_session(p)
            q = f"/socket.io/?EIO=4&transport=polling&sid={sid}"
            request = f"POST {q} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
            s = raw(p)
            s.sendall(request[:cut])
            time.sleep(0.01)
            s.sendall(request[cut:])
            data = s.recv(4096)
            self.assertTrue(data.startswith(b"HTTP/1.1 200"), (cut, data))
            s.close()
            status, _, answer = http(p, "GET", q)
            self.assertEqual(status, 200)
            self.assertIn(b'"USERS"', answer, cut)
            http(p, "POST", q, b"1")  # close it: the name is free again

    def test_malformed_packets_over_a_websocket(self):
        p = self.port
        for bad in [b"", b"x", b"4", b"49", b"42[", b'42{"a":1}', b"41{}", b'451-["a",{"_placeholder":true,"num":0}]',
                    b'44{"message":"x"}', "4" + "2" * 30]:
            s = Upgraded(p, "/socket.io/?EIO=4&transport=websocket")
            first = read_frame(s)
            self.assertTrue(first[2].startswith(b"0{"), (bad, first))
            data = bad if isinstance(bad, bytes) else bad.encode()
            s.sendall(frame(0x1, b"40"))
            self.assertTrue(read_frame(s)[2].startswith(b"40{"))
            s.sendall(frame(0x1, data))
            if data == b'451-["a",{"_placeholder":true,"num":0}]':
                s.sendall(frame(0x1, b'42["message",{}]'))  # the attachment never arrives
            # A bad packet of either layer ends the session: a close packet (1), then close 1000.
            ended = False
            for _ in range(5):
                f = read_frame(s)
                if f is None or f[1] == 0x8:
                    ended = f is not None
                    break
            self.assertTrue(ended, (data, f))
            s.close()

    @unittest.skipIf("asan" in os.environ.get("WS_BIN", ""), "AddressSanitizer keeps freed memory in quarantine")
    def test_thousands_of_abandoned_sessions_go_away(self):
        p = self.port
        pid = self.lesson.proc.pid

        def rss():
            with open(f"/proc/{pid}/status") as f:
                return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))

        for i in range(200):  # warm up the allocator
            open_session(p)
        time.sleep(2.5)
        baseline = rss()
        for i in range(3000):
            open_session(p)
        grown = rss()
        time.sleep(2.5)  # pingInterval 0.5 + pingTimeout 1: all dropped
        after = rss()
        self.assertLess(after - baseline, max((grown - baseline) / 2, 2048), (baseline, grown, after))

    def test_cross_origin_pages_are_refused_unless_allowed(self):
        p = self.port
        status, _, body = http(p, "GET", "/socket.io/?EIO=4&transport=polling", headers="Origin: http://evil.example\r\n")
        self.assertEqual(status, 403)
        self.assertEqual(json.loads(body)["code"], 4)
        status, _, _ = http(p, "GET", "/socket.io/?EIO=4&transport=polling", headers=f"Origin: http://127.0.0.1:{p}\r\n")
        self.assertEqual(status, 200)
        s = raw(p)
        s.sendall((f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:{p}\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                   "Origin: http://evil.example\r\n\r\n").encode())
        self.assertTrue(s.recv(4096).startswith(b"HTTP/1.1 403"))
        s.close()

    def test_cors_option_allows_one_origin(self):
        lesson = Lesson("lesson9-socketio", "--cors", "http://other.example")
        status, head, _ = http(lesson.port, "GET", "/socket.io/?EIO=4&transport=polling",
                               headers="Origin: http://other.example\r\n")
        self.assertEqual(status, 200)
        self.assertIn("Access-Control-Allow-Origin: http://other.example", head)
        status, _, _ = http(lesson.port, "OPTIONS", "/socket.io/?EIO=4&transport=polling",
                            headers="Origin: http://other.example\r\nAccess-Control-Request-Method: POST\r\n")
        self.assertEqual(status, 204)
        self.assertEqual(http(lesson.port, "GET", "/socket.io/?EIO=4&transport=polling",
                              headers="Origin: http://evil.example\r\n")[0], 403)
        self.assertEqual(lesson.stop(), 0)


class Hostile(unittest.TestCase):
    """Sessions that try the server's limits, each on a server of its own (default limits)."""

    def survives(self, lesson):
        c = SioClient(lesson.port, ["websocket"], "survivor")
        c.sio.disconnect()
        self.assertEqual(lesson.stop(), 0)

    def connected_session(self, port):
        sid = open_session(port)
        q = f"/socket.io/?EIO=4&transport=polling&sid={sid}"
        self.assertEqual(http(port, "POST", q, b"40")[0], 200)
        status, _, body = http(port, "GET", q)
        self.assertTrue(status == 200 and body.startswith(b"40{"), body)
        return q

    def test_deeply_nested_json_is_refused_and_ends_the_session(self):
        lesson = Lesson("lesson9-socketio", "-q")
        p = lesson.port
        q = self.connected_session(p)
        # Ten levels: JSON a chat message cannot be; the room says so and the session goes on.
        self.assertEqual(http(p, "POST", q, b'42["message",{"a":' + b"[" * 10 + b"]" * 10 + b"}]")[0], 200)
        status, _, body = http(p, "GET", q)
        self.assertEqual(status, 200)
        self.assertIn(b'"ERROR"', body)
        # 450 000 levels fit in maxPayload (1 MB); walking them would overflow the stack.
        d = 450_000
        self.assertEqual(http(p, "POST", q, b'42["message",{"a":' + b"[" * d + b"]" * d + b"}]")[0], 200)
        self.assertEqual(http(p, "GET", q)[0], 400)  # the session ended
        self.survives(lesson)

    def test_a_session_overflowing_while_it_logs_in_leaves_the_room_cleanly(self):
        # The server keeps at most 1 MiB for a session that does not poll (lesson 9's backlog).
        # Fill it to a few bytes short with pings that ask for big pongs, then log in with an
        # ack requested: the ack overflows it in the middle of the room's LOGIN.
        lesson = Lesson("lesson9-socketio", "-q")
        p = lesson.port
        q = self.connected_session(p)
        self.assertEqual(http(p, "POST", q, b"2" + b"x" * 999_999)[0], 200)
        self.assertEqual(http(p, "POST", q, b"2" + b"x" * 48_570)[0], 200)
        self.assertEqual(http(p, "POST", q, b'421["message",{"type":"LOGIN","name":"flood"}]')[0], 200)
        time.sleep(0.3)
        self.assertEqual(http(p, "GET", q)[0], 400)  # the session was ended
        bob = Upgraded(p, "/ws")
        bob.sendall(frame(0x1, b'{"type":"LOGIN","name":"bob"}', mask=True))
        self.assertEqual(json.loads(read_frame(bob)[2]), {"type": "USERS", "users": ["bob"]})
        self.assertEqual(json.loads(read_frame(bob)[2])["type"], "LOGIN")
        bob.close()
        self.survives(lesson)

    def test_cors_answers_carry_the_origin_on_every_poll_and_post(self):
        lesson = Lesson("lesson9-socketio", "--cors", "http://other.example", "-q")
        p = lesson.port
        origin = "Origin: http://other.example\r\n"
        status, head, body = http(p, "GET", "/socket.io/?EIO=4&transport=polling", headers=origin)
        q = f"/socket.io/?EIO=4&transport=polling&sid={json.loads(body[1:])['sid']}"
        status, head, _ = http(p, "POST", q, b"40", headers=origin)
        self.assertEqual(status, 200)
        self.assertIn("Access-Control-Allow-Origin: http://other.example", head)
        status, head, body = http(p, "GET", q, headers=origin)
        self.assertTrue(body.startswith(b"40{"), body)
        self.assertIn("Access-Control-Allow-Origin: http://other.example", head)
        # A poll held until something comes is answered with the header too.
        held = {}
        t = threading.Thread(target=lambda: held.setdefault("r", http(p, "GET", q, headers=origin)))
        t.start()
        time.sleep(0.3)
        http(p, "POST", q, b'42["message",{"type":"LOGIN","name":"far"}]', headers=origin)
        t.join(5)
        status, head, body = held["r"]
        self.assertIn(b'"USERS"', body)
        self.assertIn("Access-Control-Allow-Origin: http://other.example", head)
        self.survives(lesson)

    def test_a_session_that_never_connects_is_ended(self):
        lesson = Lesson("lesson9-socketio", "--connect-timeout", "0.5")
        p = lesson.port
        idle = open_session(p)
        q = self.connected_session(p)
        time.sleep(1.5)
        self.assertEqual(http(p, "GET", f"/socket.io/?EIO=4&transport=polling&sid={idle}")[0], 400)
        out = lesson.wait_for_output(rb"no Socket.IO CONNECT within connectTimeout \(0.5 s\)")
        self.assertIn("connectTimeout", out)
        # The one that CONNECTed in time is still there: its poll is held, then answered.
        http(p, "POST", q, b'42["message",{"type":"LOGIN","name":"intime"}]')
        status, _, body = http(p, "GET", q)
        self.assertEqual(status, 200)
        self.assertIn(b'"USERS"', body)
        self.survives(lesson)

    def test_the_pages_are_not_websocket_endpoints(self):
        lesson = Lesson("lesson9-socketio", "-q")
        from harness import upgrade_request
        for path in ("/", "/index.html", "/socket.io.js"):
            s = raw(lesson.port)
            s.sendall(upgrade_request(lesson.port, path))
            self.assertTrue(s.recv(4096).startswith(b"HTTP/1.1 404"), path)
            s.close()
        self.survives(lesson)


class Pages(unittest.TestCase):
    def test_the_blog_page_fixed_and_as_published(self):
        with tempfile.NamedTemporaryFile("w", suffix=".js", delete=False) as js:
            js.write("// socket.io stand-in\n")
        try:
            fixed = Lesson("lesson9-socketio", "--socket-io-js", js.name)
            status, _, page = http(fixed.port, "GET", "/")
            self.assertEqual(status, 200)
            self.assertIn(b"getElementById('content')", page)
            self.assertIn(b"textContent", page)
            self.assertNotIn(b"innerHTML", page.split(b"-->", 1)[1])
            self.assertEqual(http(fixed.port, "GET", "/socket.io.js")[2], b"// socket.io stand-in\n")
            self.assertEqual(http(fixed.port, "GET", "/socket.io/socket.io.js")[0], 200)
            self.assertEqual(fixed.stop(), 0)
            published = Lesson("lesson9-socketio", "--as-published", "--socket-io-js", js.name)
            status, _, page = http(published.port, "GET", "/")
            self.assertIn(b"document.getElementByI('content')", page)
            self.assertIn(f"io('ws://127.0.0.1:{published.port}')".encode(), page)
            self.assertIn("网络聊天室".encode(), page)
            self.assertEqual(published.stop(), 0)
        finally:
            os.unlink(js.name)

    def test_an_unreadable_socket_io_js_is_an_error(self):
        code, _, err = run("lesson9-socketio", "--socket-io-js", "/nonexistent/socket.io.js", "--port", "0")
        self.assertNotEqual(code, 0)
        self.assertIn("cannot read --socket-io-js", err)


class KnockingOnLesson5(unittest.TestCase):
    def test_a_socketio_client_at_lesson_5_is_named(self):
        lesson = Lesson("lesson5-chat", "-v")
        status, _, body = http(lesson.port, "GET", "/socket.io/?EIO=4&transport=polling")
        self.assertEqual(status, 404)
        self.assertIn(b"lesson9-socketio", body)
        out = lesson.wait_for_output(rb"a socket.io client")
        self.assertIn("Lesson 9", out)
        with self.assertRaises(Exception):
            socketio.Client(reconnection=False).connect(f"http://127.0.0.1:{lesson.port}", transports=["websocket"],
                                                        wait_timeout=3)
        self.assertEqual(lesson.stop(), 0)


if __name__ == "__main__":
    unittest.main()
