"""End-to-end: lesson 10's chat room over several servers and a real Redis (Debian's
redis-server, started here on a free port), with Python `websockets` clients: one order for
everyone, names unique across servers, a server killed with SIGKILL, Redis restarted, and lesson
5's own tests run again against a lesson-10 server that shares its room with another."""
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import websockets

import test_lesson5_chat as five
from harness import Lesson, arun, run

NAME = "lesson10-scale-out"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Redis:
    """redis-server on a free port, saving nothing; restartable on the same port."""

    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="ws-test-redis-")
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", self.dir, "--logfile", os.path.join(self.dir, "log")])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(64).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def command(self, *args):
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(f"*{len(args)}\r\n".encode() + b"".join(f"${len(a)}\r\n{a}\r\n".encode() for a in args))
            return s.recv(65536)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"


async def recv_json(ws, timeout=10):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def login(port, name):
    ws = await websockets.connect(f"ws://127.0.0.1:{port}/ws", max_queue=None)
    await ws.send(json.dumps({"type": "LOGIN", "name": name}))
    users = await recv_json(ws)
    assert users["type"] == "USERS", users
    joined = await recv_json(ws)
    assert joined == {"type": "LOGIN", "message": f"{name} joined the chat", "name": name}, joined
    return ws, users["users"]


async def until(ws, predicate, timeout=15):
    """Reads messages until one satisfies `predicate`; returns it and what came before."""
    before = []
    deadline = time.monotonic() + timeout
    while True:
        m = await recv_json(ws, max(0.1, deadline - time.monotonic()))
        if predicate(m):
            return m, before
        before.append(m)


class Room(unittest.TestCase):
    def setUp(self):
        self.redis = Redis()
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            if s.proc.poll() is None:
                self.assertEqual(s.stop(), 0)
            s.__exit__()
        self.redis.close()

    def server(self, *args):
        s = Lesson(NAME, "--redis", self.redis.address, *args)
        self.servers.append(s)
        return s

    def test_three_servers_twenty_clients_one_order(self):
        servers = [self.server() for _ in range(3)]

        async def talk():
            clients = []
            for i in range(20):
                ws, _ = await login(servers[i % 3].port, f"c{i}")
                clients.append(ws)
            # Each client learns of those who came after it: 19 - i LOGINs.
            for i, ws in enumerate(clients):
                for j in range(i + 1, 20):
                    self.assertEqual((await recv_json(ws))["name"], f"c{j}")

            async def send_all(i, ws):
                for k in range(100):
                    await ws.send(json.dumps({"type": "CHAT", "message": f"{i}.{k}"}))

            async def receive_all(ws):
                return [(m["sender"], m["message"]) for m in [await recv_json(ws, 60) for _ in range(2000)]]

            receiving = [asyncio.ensure_future(receive_all(ws)) for ws in clients]
            await asyncio.gather(*(send_all(i, ws) for i, ws in enumerate(clients)))
            seen = await asyncio.gather(*receiving)
            expected = sorted((f"c{i}", f"{i}.{k}") for i in range(20) for k in range(100))
            for got in seen:
                self.assertEqual(sorted(got), expected)  # complete, no duplicates
                for i in range(20):  # each sender's own order kept
                    mine = [m for s, m in got if s == f"c{i}"]
                    self.assertEqual(mine, [f"{i}.{k}" for k in range(100)])
                self.assertEqual(got, seen[0])  # one order on every client of every server
            for ws in clients:
                await ws.close()
        arun(talk(), 180)

    def test_users_and_names_across_servers(self):
        a, b = self.server(), self.server()

        async def talk():
            alice, users = await login(a.port, "alice")
            self.assertEqual(users, ["alice"])
            bob, users = await login(b.port, "bob")
            self.assertEqual(users, ["alice", "bob"])
            self.assertEqual((await recv_json(alice))["name"], "bob")
            # The name is the room's: refused on the other server.
            ws = await websockets.connect(f"ws://127.0.0.1:{b.port}/ws")
            await ws.send(json.dumps({"type": "LOGIN", "name": "alice"}))
            reply = await recv_json(ws)
            self.assertEqual(reply["type"], "ERROR")
            self.assertIn("taken", reply["message"])
            # Two servers asked for one new name at the same moment: Redis settles it, once.
            for round_ in range(5):
                name = f"zed{round_}"
                one = await websockets.connect(f"ws://127.0.0.1:{a.port}/ws")
                two = await websockets.connect(f"ws://127.0.0.1:{b.port}/ws")
                await asyncio.gather(one.send(json.dumps({"type": "LOGIN", "name": name})),
                                     two.send(json.dumps({"type": "LOGIN", "name": name})))
                answers = [(await recv_json(one))["type"], (await recv_json(two))["type"]]
                self.assertEqual(sorted(answers), ["ERROR", "USERS"], name)
                await one.close()
                await two.close()
            # LOGOUT crosses servers too, and frees the name everywhere.
            await bob.send(json.dumps({"type": "LOGOUT"}))
            m, _ = await until(alice, lambda m: m["type"] == "LOGOUT" and m["name"] == "bob")
            again, users = await login(a.port, "bob")
            self.assertEqual(users[:1], ["alice"])
            self.assertIn("bob", users)
            for w in (alice, again, ws):
                await w.close()
        arun(talk(), 60)

    def test_chat_sent_right_behind_the_login_follows_it(self):
        a, b = self.server(), self.server()

        async def talk():
            bob, _ = await login(b.port, "bob")
            # One write: LOGIN and five CHATs, before any answer (the LOGIN is still on its way
            # through Redis when the CHATs arrive).
            eager = await websockets.connect(f"ws://127.0.0.1:{a.port}/ws")
            await asyncio.gather(*[eager.send(json.dumps(m)) for m in
                                   [{"type": "LOGIN", "name": "eager"}] +
                                   [{"type": "CHAT", "message": f"m{i}"} for i in range(5)]])
            seen = [await recv_json(bob) for _ in range(6)]
            self.assertEqual(seen[0]["type"], "LOGIN")
            self.assertEqual([(m["sender"], m["message"]) for m in seen[1:]], [("eager", f"m{i}") for i in range(5)])
            for w in (bob, eager):
                await w.close()
        arun(talk())

    def test_a_killed_server_is_announced_as_its_people_leaving(self):
        a, b = self.server(), self.server()

        async def talk():
            alice, _ = await login(a.port, "alice")
            bob, _ = await login(b.port, "bob")
            carol, _ = await login(b.port, "carol")
            await recv_json(alice)
            await recv_json(alice)
            started = time.monotonic()
            b.proc.kill()  # SIGKILL: no goodbye to anyone
            b.proc.wait()
            gone = set()
            while len(gone) < 2:
                m = await recv_json(alice, 15)
                self.assertEqual(m["type"], "LOGOUT", m)
                gone.add(m["name"])
            self.assertEqual(gone, {"bob", "carol"})
            self.assertLess(time.monotonic() - started, 10)
            # Their names are free again.
            bob2, users = await login(a.port, "bob")
            self.assertEqual(sorted(users), ["alice", "bob"])
            for w in (alice, bob2):
                await w.close()
        arun(talk(), 60)
        self.servers.remove(b)
        b.__exit__()

    def test_a_clean_stop_is_announced_at_once(self):
        a, b = self.server(), self.server()

        async def talk():
            alice, _ = await login(a.port, "alice")
            bob, _ = await login(b.port, "bob")
            await recv_json(alice)
            started = time.monotonic()
            # SIGTERM: bob gets 1001, and the room hears at once that he left.
            stopping = asyncio.get_running_loop().run_in_executor(None, b.stop)
            with self.assertRaises(websockets.exceptions.ConnectionClosed) as closed:
                await recv_json(bob)
            self.assertEqual(closed.exception.rcvd.code, 1001)
            m = await recv_json(alice, 5)
            self.assertEqual(m, {"type": "LOGOUT", "message": "bob left the chat", "name": "bob"})
            self.assertLess(time.monotonic() - started, 2)  # not the 3 s after which a dead server is noticed
            self.assertEqual(await stopping, 0)
            await alice.close()
        arun(talk(), 30)

    def test_redis_restarts_and_the_room_comes_back(self):
        a, b = self.server(), self.server()

        async def talk():
            alice, _ = await login(a.port, "alice")
            bob, _ = await login(b.port, "bob")
            await recv_json(alice)
            self.redis.stop()
            for ws in (alice, bob):
                m = await recv_json(ws)
                self.assertEqual(m["type"], "ERROR")
                self.assertIn("the room is split", m["message"])
            # While it is split, nothing is sent, and the sender is told so.
            await alice.send(json.dumps({"type": "CHAT", "message": "into the void"}))
            m = await recv_json(alice)
            self.assertEqual(m["type"], "ERROR")
            self.assertIn("not sent", m["message"])
            self.redis.start()  # empty: it saved nothing
            # Each page gets the list afresh, then the LOGINs of those re-registered after it:
            # either way each ends with both.
            for ws in (alice, bob):
                m, _ = await until(ws, lambda m: m["type"] == "USERS", 20)
                await self.wait_for_roster(ws, m, {"alice", "bob"})
            # Redis has the names again (re-registered), and chat crosses servers again.
            self.assertIn(b"alice", self.redis.command("HKEYS", "ws:chat:names"))
            await alice.send(json.dumps({"type": "CHAT", "message": "back"}))
            m, _ = await until(bob, lambda m: m["type"] == "CHAT")
            self.assertEqual((m["sender"], m["message"]), ("alice", "back"))
            for w in (alice, bob):
                await w.close()
        arun(talk(), 90)

    async def wait_for_roster(self, ws, first, wanted):
        """Keeps the page's list as lesson 5's page does (USERS, then LOGIN/LOGOUT) until it is `wanted`."""
        users = set(first["users"]) if first["type"] == "USERS" else set()
        deadline = time.monotonic() + 20
        while users != wanted:
            m = await recv_json(ws, max(0.1, deadline - time.monotonic()))
            if m["type"] == "USERS":
                users = set(m["users"])
            elif m["type"] == "LOGIN":
                users.add(m["name"])
            elif m["type"] == "LOGOUT":
                users.discard(m["name"])

    async def one_room_again(self, alice, bob, words):
        """After a split: both get the room again (USERS, then the list holds both), and bob's CHAT
        reaches alice across the servers. Then both leave."""
        for ws in (alice, bob):
            m, _ = await until(ws, lambda m: m["type"] == "USERS", 20)
            await self.wait_for_roster(ws, m, {"alice", "bob"})
        await bob.send(json.dumps({"type": "CHAT", "message": words}))
        m, _ = await until(alice, lambda m: m["type"] == "CHAT")
        self.assertEqual(m["message"], words)
        for ws in (alice, bob):
            await ws.close()

    def test_a_subscriber_cut_off_by_redis_joins_again(self):
        a, b = self.server(), self.server()

        async def talk():
            alice, _ = await login(a.port, "alice")
            bob, _ = await login(b.port, "bob")
            await recv_json(alice)
            # What Redis does to a subscriber that reads too slowly: it closes the connection.
            self.redis.command("CLIENT", "KILL", "TYPE", "pubsub")
            for ws in (alice, bob):
                await until(ws, lambda m: m["type"] == "ERROR" and "split" in m["message"])
            await self.one_room_again(alice, bob, "still one room")
        arun(talk(), 60)

    def test_a_hung_redis_is_noticed(self):
        a, b = self.server(), self.server()

        async def talk():
            alice, _ = await login(a.port, "alice")
            bob, _ = await login(b.port, "bob")
            await recv_json(alice)
            # SIGSTOP: Redis keeps its connections open and answers nothing.
            self.redis.proc.send_signal(signal.SIGSTOP)
            try:
                started = time.monotonic()
                for ws in (alice, bob):
                    await until(ws, lambda m: m["type"] == "ERROR" and "split" in m["message"], 15)
                self.assertLess(time.monotonic() - started, 10)  # the answer timeout (3 s), plus a tick
            finally:
                self.redis.proc.send_signal(signal.SIGCONT)
            await self.one_room_again(alice, bob, "awake")
        arun(talk(), 90)

    def test_a_server_taken_for_dead_joins_again_and_is_reaped_later(self):
        a, b = self.server(), self.server()

        async def talk():
            bob, _ = await login(b.port, "bob")
            # A stops (SIGSTOP) long enough for B to reap it, then goes on.
            a.proc.send_signal(signal.SIGSTOP)
            try:
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline and self.redis.command("SCARD", "ws:chat:servers") != b":1\r\n":
                    await asyncio.sleep(0.2)
                self.assertEqual(self.redis.command("SCARD", "ws:chat:servers"), b":1\r\n", "B did not reap A")
            finally:
                a.proc.send_signal(signal.SIGCONT)
            # A finds it was taken for dead and joins again: it is in the room's servers again...
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and self.redis.command("SCARD", "ws:chat:servers") != b":2\r\n":
                await asyncio.sleep(0.2)
            self.assertEqual(self.redis.command("SCARD", "ws:chat:servers"), b":2\r\n", "A did not join again")
            # ...so someone who logs in on A now is announced as gone when A really dies.
            carol, _ = await login(a.port, "carol")
            await until(bob, lambda m: m == {"type": "LOGIN", "message": "carol joined the chat", "name": "carol"})
            a.proc.kill()
            a.proc.wait()
            m, _ = await until(bob, lambda m: m["type"] == "LOGOUT", 15)
            self.assertEqual(m["name"], "carol")
            self.assertNotIn(b"carol", self.redis.command("HKEYS", "ws:chat:names"))
            await bob.close()
        arun(talk(), 90)
        self.servers.remove(a)
        a.__exit__()

    def test_a_name_given_back_at_once_is_no_ghost(self):
        a, b = self.server(), self.server()

        def login_and_close(name):
            # LOGIN and the close frame in one write: the name is claimed and given back in
            # one turn of the server, before Redis has answered the claim.
            with socket.create_connection(("127.0.0.1", a.port), timeout=5) as s:
                key = "dGhlIHNhbXBsZSBub25jZQ=="
                s.sendall(f"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
                head = b""
                while b"\r\n\r\n" not in head:
                    head += s.recv(4096)
                self.assertIn(b" 101 ", head)
                payload = json.dumps({"type": "LOGIN", "name": name}).encode()
                mask = b"\x01\x02\x03\x04"
                masked = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
                close = bytes([0x88, 0x82]) + mask + bytes(c ^ mask[i] for i, c in enumerate(b"\x03\xe8"))
                s.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + masked + close)
                while s.recv(4096):
                    pass

        async def talk():
            bob, _ = await login(b.port, "bob")
            for i in range(5):
                await asyncio.get_running_loop().run_in_executor(None, login_and_close, f"ghost{i}")
            # Each came and went: bob hears each LOGIN, then its LOGOUT.
            for i in range(5):
                m, _ = await until(bob, lambda m: m["type"] == "LOGOUT")
                self.assertEqual(m["name"], f"ghost{i}")
            # A re-registers its own people when it joins again: none of them.
            self.redis.command("CLIENT", "KILL", "TYPE", "pubsub")
            m, _ = await until(bob, lambda m: m["type"] == "USERS", 20)
            await asyncio.sleep(1.5)
            self.assertEqual(sorted(self.redis.command("HKEYS", "ws:chat:names").split(b"\r\n")[2::2]), [b"bob"])
            # The name is free for the next person, on either server.
            ghost, users = await login(a.port, "ghost0")
            self.assertEqual(sorted(users), ["bob", "ghost0"])
            for w in (bob, ghost):
                await w.close()
        arun(talk(), 60)

    def test_a_name_given_back_and_asked_for_again_at_once(self):
        a = self.server()

        async def talk():
            watcher, _ = await login(a.port, "watcher")
            for i in range(10):
                name = f"n{i}"
                first = await websockets.connect(f"ws://127.0.0.1:{a.port}/ws")
                second = await websockets.connect(f"ws://127.0.0.1:{a.port}/ws")
                # LOGIN and LOGOUT from one, LOGIN from the other, as close together as can be.
                await first.send(json.dumps({"type": "LOGIN", "name": name}))
                await first.send(json.dumps({"type": "LOGOUT"}))
                await second.send(json.dumps({"type": "LOGIN", "name": name}))
                m = await recv_json(second)
                if m["type"] == "ERROR":  # the name was not free yet: asked again, it is
                    self.assertIn("taken", m["message"])
                    await asyncio.sleep(0.3)
                    await second.send(json.dumps({"type": "LOGIN", "name": name}))
                    m = await recv_json(second)
                self.assertEqual(m["type"], "USERS", m)
                # In, and staying in: what second says reaches the room.
                await second.send(json.dumps({"type": "CHAT", "message": f"still {name}"}))
                m, _ = await until(second, lambda m: m["type"] in ("CHAT", "ERROR"))
                self.assertEqual(m, {"type": "CHAT", "message": f"still {name}", "sender": name})
                m, _ = await until(watcher, lambda m: m["type"] == "CHAT")
                self.assertEqual(m["sender"], name)
                await second.close()
                await first.close()
                await until(watcher, lambda m: m == {"type": "LOGOUT", "message": f"{name} left the chat", "name": name})
            await watcher.close()
        arun(talk(), 90)

    def test_verbose_shows_the_redis_side(self):
        a = self.server("-v")

        async def talk():
            alice, _ = await login(a.port, "alice")
            await alice.send(json.dumps({"type": "CHAT", "message": "traced"}))
            await recv_json(alice)
            await alice.close()
        arun(talk())
        out = a.wait_for_output(rb'\xe2\x86\x90 Redis: \{"type":"CHAT","name":"alice","message":"traced"')
        self.assertIn("PUBLISH ws:chat:events", out)
        self.assertIn("claim \"alice\"", out)
        # Anyone with Redis can publish on the channel: what is not a room event is ignored.
        self.redis.command("PUBLISH", "ws:chat:events", '{"type":"CHAT","name":"x"}')
        self.redis.command("PUBLISH", "ws:chat:events", "\xff not json")
        # Nor is what no client could have sent: a name past --max-name (bob's USERS shows it is not in).
        self.redis.command("PUBLISH", "ws:chat:events", json.dumps({"type": "LOGIN", "name": "x" * 40, "server": "Z"}))
        a.wait_for_output(rb"not a room event within the limits \(ignored\)")

        async def again():
            bob, users = await login(a.port, "bob")
            self.assertEqual(users, ["bob"])
            await bob.close()
        arun(again())

    def test_tls_on_each_server(self):
        a, b = self.server("--tls"), self.server("--tls")
        import ssl
        insecure = ssl.create_default_context()
        insecure.check_hostname = False
        insecure.verify_mode = ssl.CERT_NONE

        async def talk():
            alice = await websockets.connect(f"wss://127.0.0.1:{a.port}/ws", ssl=insecure)
            await alice.send(json.dumps({"type": "LOGIN", "name": "alice"}))
            bob = await websockets.connect(f"wss://127.0.0.1:{b.port}/ws", ssl=insecure)
            await bob.send(json.dumps({"type": "LOGIN", "name": "bob"}))
            # In the room once the LOGIN is back (before that, what others say is not for bob).
            await until(alice, lambda m: m["type"] == "LOGIN" and m["name"] == "bob")
            await until(bob, lambda m: m["type"] == "LOGIN" and m["name"] == "bob")
            await alice.send(json.dumps({"type": "CHAT", "message": "over TLS"}))
            m, _ = await until(bob, lambda m: m["type"] == "CHAT")
            self.assertEqual((m["sender"], m["message"]), ("alice", "over TLS"))
            for w in (alice, bob):
                await w.close()
        arun(talk())

    def test_two_servers_in_one_process(self):
        lesson = Lesson(NAME, "--redis", self.redis.address, "--servers", "2")
        self.servers.append(lesson)
        line = lesson.read_line().decode()
        self.assertRegex(line, r"^also listening on http://127\.0\.0\.1:\d+/ \(server B\)$")
        other = int(line.split(":")[2].split("/")[0])

        async def talk():
            alice, _ = await login(lesson.port, "alice")
            bob, users = await login(other, "bob")
            self.assertEqual(users, ["alice", "bob"])
            await bob.send(json.dumps({"type": "CHAT", "message": "from B"}))
            m, _ = await until(alice, lambda m: m["type"] == "CHAT")
            self.assertEqual(m["sender"], "bob")
            for w in (alice, bob):
                await w.close()
        arun(talk())


class Startup(unittest.TestCase):
    def test_redis_absent_is_one_clear_line(self):
        rc, out, err = run(NAME, "--redis", f"127.0.0.1:{free_port()}", "--port", "0", timeout=20)
        self.assertEqual(rc, 1, (out, err))
        self.assertEqual(out, "")
        lines = err.strip().splitlines()
        self.assertEqual(len(lines), 1, err)
        self.assertRegex(lines[0], r"^error: cannot reach Redis at 127\.0\.0\.1:\d+: .*leave out --redis")

    def test_a_bad_address_is_named(self):
        rc, _, err = run(NAME, "--redis", "nowhere", "--port", "0")
        self.assertEqual(rc, 1)
        self.assertIn("expected HOST:PORT", err)

    def test_without_redis_the_lesson_starts_and_stops_its_own(self):
        lesson = Lesson(NAME)
        line = lesson.read_line().decode()
        self.assertRegex(line, r"^Redis 127\.0\.0\.1:\d+ \(redis-server started by this lesson")
        redis_port = int(line.split(":")[1].split(" ")[0])

        async def talk():
            alice, _ = await login(lesson.port, "alice")
            await alice.send(json.dumps({"type": "CHAT", "message": "hi"}))
            self.assertEqual((await recv_json(alice))["message"], "hi")
            await alice.close()
        arun(talk())
        self.assertEqual(lesson.stop(), 0)
        lesson.__exit__()
        with self.assertRaises(OSError):  # its redis-server is gone with it
            socket.create_connection(("127.0.0.1", redis_port), timeout=2).close()


class Lesson5OnEachServer(five.ChatRoom):
    """Lesson 5's tests, on a lesson-10 server whose room it shares with a second server."""

    def setUp(self):
        self.redis = Redis()
        self.other = Lesson(NAME, "--redis", self.redis.address)
        self.lesson = Lesson(NAME, "--redis", self.redis.address, "--max-backlog", "65536")
        self.url = f"ws://127.0.0.1:{self.lesson.port}/ws"

    def tearDown(self):
        super().tearDown()
        self.assertEqual(self.other.stop(), 0)
        self.other.__exit__()
        self.redis.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
