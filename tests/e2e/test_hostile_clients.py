"""End-to-end: thousands of hostile clients (garbage instead of HTTP, random and broken frames,
requests cut anywhere, resets; over TLS also bytes that are not TLS and cut ClientHellos) against
both epoll servers; afterwards a normal client must be
served at once and the server must stop cleanly. Under `make asan` this also runs the event
loop's code paths under the sanitizers."""
import asyncio
import os
import random
import socket
import ssl
import time
import unittest

import websockets

from harness import Lesson, arun, frame, handshake, raw

SECONDS = float(os.environ.get("WS_HOSTILE_SECONDS", "4"))


INSECURE = ssl.create_default_context()
INSECURE.check_hostname = False
INSECURE.verify_mode = ssl.CERT_NONE


def hostile_client(rng, port, path, tls=False):
    s = raw(port, timeout=2)
    try:
        if tls:
            roll = rng.random()
            if roll < 0.1:
                s.sendall(rng.randbytes(rng.randint(1, 3000)))  # not TLS at all
                return
            if roll < 0.2:
                hello = bytes.fromhex("16030100f4010000f00303") + rng.randbytes(240)
                s.sendall(hello[:rng.randint(1, len(hello))])  # a ClientHello cut anywhere
                return
            s = INSECURE.wrap_socket(s)
        roll = rng.random()
        if roll < 0.15:
            s.sendall(rng.randbytes(rng.randint(1, 3000)))  # not HTTP at all
        elif roll < 0.25:
            request = (f"GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()
            s.sendall(request[:rng.randint(0, len(request))])  # a request cut anywhere
        else:
            handshake(s, port, path)
            if roll < 0.45:
                s.sendall(rng.randbytes(rng.randint(1, 5000)))
            elif roll < 0.8:
                frames = b"".join(
                    frame(rng.choice([0, 1, 2, 8, 9, 10, 3, 11]), rng.randbytes(rng.randint(0, 300)),
                          fin=rng.random() < 0.7, mask=rng.random() < 0.95, rsv=rng.choice([0, 0, 0, 1]))
                    for _ in range(rng.randint(1, 20)))
                s.sendall(frames[:rng.randint(0, len(frames))])
            else:
                data = b"".join(frame(1, b'{"type":"LOGIN","name":"%d"}' % rng.randint(0, 50)) + frame(1, rng.randbytes(20))
                                for _ in range(5))
                for i in range(0, len(data), 7):
                    s.sendall(data[i:i + 7])
        if rng.random() < 0.5:
            s.settimeout(0.1)
            try:
                while s.recv(65536):
                    pass
            except OSError:
                pass
    except OSError:
        pass
    finally:
        if rng.random() < 0.5:  # hang up with a reset instead of a FIN
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()


class HostileClients(unittest.TestCase):
    def storm(self, name, args, path, greeting, tls=False):
        rng = random.Random(2026)
        with Lesson(name, *args, *(["--tls"] if tls else [])) as lesson:
            deadline = time.monotonic() + SECONDS
            count = 0
            while time.monotonic() < deadline:
                hostile_client(rng, lesson.port, path, tls)
                count += 1
            self.assertGreater(count, 100)

            async def normal_client():
                async with websockets.connect(f"{'wss' if tls else 'ws'}://127.0.0.1:{lesson.port}{path}", open_timeout=5,
                                              ssl=INSECURE if tls else None) as ws:
                    await ws.send(greeting)
                    return await asyncio.wait_for(ws.recv(), 5)
            return arun(normal_client()), lesson.stop()

    def test_echo_server_keeps_serving(self):
        reply, code = self.storm("lesson4-framing", ["serve"], "/", "still alive?")
        self.assertEqual(reply, "still alive?")
        self.assertEqual(code, 0)

    def test_chat_room_keeps_serving_and_forgets_the_hostile_ones(self):
        reply, code = self.storm("lesson5-chat", ["--ping-interval", "1"], "/ws", '{"type":"LOGIN","name":"after"}')
        self.assertEqual(reply, '{"type":"USERS","users":["after"]}')
        self.assertEqual(code, 0)

    def test_both_keep_serving_over_tls(self):
        reply, code = self.storm("lesson4-framing", ["serve"], "/", "still alive over TLS?", tls=True)
        self.assertEqual(reply, "still alive over TLS?")
        self.assertEqual(code, 0)
        reply, code = self.storm("lesson5-chat", ["--ping-interval", "1"], "/ws", '{"type":"LOGIN","name":"after"}',
                                 tls=True)
        self.assertEqual(reply, '{"type":"USERS","users":["after"]}')
        self.assertEqual(code, 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
