"""End-to-end: output never blocks a server (design §4). With -vv and a stdout that nobody
reads, the servers keep serving everyone, drop log lines instead, and say how many."""
import asyncio
import json
import re
import threading
import time
import unittest

import websockets

from harness import BIN, Lesson, arun

# A sanitizer build runs several times slower; the point is "does not hang", not a speed.
PATIENCE = 3.0 if "asan" in BIN else 1.0


async def flood(url, clients=10, messages=300):
    """Traffic enough to fill the pipe and the log's queue many times over."""
    async def one():
        async with websockets.connect(url, max_size=None) as ws:
            for i in range(messages):
                await ws.send("x" * 100)
                await ws.recv()
    await asyncio.gather(*(one() for _ in range(clients)))


class BlockedStdout(unittest.TestCase):
    def drain_and_stop(self, lesson):
        """Starts reading stdout at last (the server may now write), then stops the server."""
        chunks = []
        reader = threading.Thread(target=lambda: chunks.append(lesson.proc.stdout.read()))
        reader.start()
        time.sleep(0.5)  # the writer gets its turn to say what it dropped
        code = lesson.stop()
        reader.join(10)
        lesson.__exit__()
        self.assertEqual(code, 0)
        return b"".join(chunks).decode("utf-8", "replace")

    def test_echo_serves_100_clients_while_stdout_is_full(self):
        lesson = Lesson("lesson4-framing", "serve", "-vv")
        url = f"ws://127.0.0.1:{lesson.port}/"
        # From here on nobody reads the lesson's stdout.
        arun(flood(url), 120)

        async def hundred():
            conns = [await websockets.connect(url) for _ in range(100)]
            start = time.monotonic()
            for i in range(10):
                await asyncio.gather(*(ws.send(f"{n}:{i}") for n, ws in enumerate(conns)))
                got = await asyncio.gather(*(asyncio.wait_for(ws.recv(), 5) for ws in conns))
                self.assertEqual(got, [f"{n}:{i}" for n in range(100)])
            elapsed = time.monotonic() - start
            for ws in conns:
                await ws.close()
            return elapsed
        elapsed = arun(hundred(), 60)
        self.assertLess(elapsed, PATIENCE, "the server was slowed down by its own output")
        rest = self.drain_and_stop(lesson)
        self.assertTrue(re.search(r"… \d+ lines dropped: nobody was reading the output", rest),
                        "the server did not say it dropped lines")

    def test_chat_delivers_every_message_while_stdout_is_full(self):
        lesson = Lesson("lesson5-chat", "-vv")
        url = f"ws://127.0.0.1:{lesson.port}/ws"

        async def room():
            conns = []
            for n in range(100):
                ws = await websockets.connect(url)
                await ws.send(json.dumps({"type": "LOGIN", "name": f"u{n}"}))
                conns.append(ws)
            # Everyone's USERS and LOGINs: read until each has seen the last login.
            async def settle(ws):
                while True:
                    m = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if m.get("type") == "LOGIN" and m["name"] == "u99":
                        return
            await asyncio.gather(*(settle(ws) for ws in conns))
            # Fill the log: chatter, each line broadcast to 100.
            for i in range(100):
                await conns[0].send(json.dumps({"type": "CHAT", "message": "noise " * 20}))
            async def skip_noise(ws):
                for _ in range(100):
                    await asyncio.wait_for(ws.recv(), 10)
            await asyncio.gather(*(skip_noise(ws) for ws in conns))

            start = time.monotonic()
            for i in range(10):
                await conns[i].send(json.dumps({"type": "CHAT", "message": f"m{i}"}))
            async def collect(ws):
                return [json.loads(await asyncio.wait_for(ws.recv(), 5))["message"] for _ in range(10)]
            got = await asyncio.gather(*(collect(ws) for ws in conns))
            elapsed = time.monotonic() - start
            for seen in got:
                self.assertEqual(sorted(seen), sorted(f"m{i}" for i in range(10)))
                self.assertEqual(seen, got[0], "every client sees one order")
            # Leave without a closing handshake: these clients stopped reading their LOGOUTs, and
            # a websockets client with a full queue cannot finish one.
            for ws in conns:
                ws.transport.abort()
            return elapsed
        elapsed = arun(room(), 120)
        self.assertLess(elapsed, PATIENCE, "the server was slowed down by its own output")
        self.drain_and_stop(lesson)


if __name__ == "__main__":
    unittest.main(verbosity=2)
