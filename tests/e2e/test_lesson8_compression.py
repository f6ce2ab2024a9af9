"""Lesson 8: permessage-deflate (RFC 7692) against peers nobody here wrote. Python's
`websockets` client against the echo server (the server's default, no context takeover, and
--deflate-takeover, and the client's own parameters honoured), our client against a Python
`websockets` server (with and without context takeover), hostile compressed frames with their
close codes, and the lesson's own decode and serve."""
import asyncio
import base64
import os
import random
import subprocess
import unittest
import zlib

import websockets
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory, PerMessageDeflate

from harness import BIN, Lesson, arun, close_code_of, frame, raw, read_until, upgrade_request

HERE = os.path.dirname(__file__)


def deflated(data, wbits=15):
    """RFC 7692 §7.2.1 by Python's zlib: raw DEFLATE, sync flush, the 00 00 ff ff tail removed."""
    c = zlib.compressobj(wbits=-wbits)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


def inflated(data, wbits=15):
    return zlib.decompressobj(wbits=-wbits).decompress(data + b"\x00\x00\xff\xff")


def sentences(rng, n):
    words = "the room is quiet tonight and every message repeats a little of the last one".split()
    return " ".join(rng.choice(words) for _ in range(n))


class AgainstOurServer(unittest.TestCase):
    def serve(self, *args):
        self.lesson = Lesson("lesson4-framing", "serve", "-vv", *args)
        self.url = f"ws://127.0.0.1:{self.lesson.port}/"

    def tearDown(self):
        self.assertEqual(self.lesson.stop(), 0)

    def talk(self, extensions=None, messages=200):
        """A long session of text and binary echoes, each checked; returns the agreed extension."""
        async def run():
            options = {} if extensions is None else {"extensions": extensions}
            async with websockets.connect(self.url, max_size=None, **options) as ws:
                rng = random.Random(8)
                for i in range(messages):
                    text = sentences(rng, rng.randrange(0, 400))
                    await ws.send(text)
                    self.assertEqual(await ws.recv(), text, i)
                    data = text.encode() + os.urandom(rng.randrange(0, 64))
                    await ws.send(data)
                    self.assertEqual(await ws.recv(), data, i)
                return [e for e in ws.extensions if isinstance(e, PerMessageDeflate)]
        return arun(run(), 120)

    def test_the_default_resets_both_sides(self):
        self.serve()
        agreed = self.talk()
        self.assertEqual(len(agreed), 1)
        self.assertTrue(agreed[0].remote_no_context_takeover)  # the server resets
        self.assertTrue(agreed[0].local_no_context_takeover)   # and asked the client to
        out = self.lesson.wait_for_output(rb"permessage-deflate: permessage-deflate; server_no_context_takeover; "
                                          rb"client_no_context_takeover")
        out += self.lesson.wait_for_output(rb"#1 \xe2\x86\x90 inflated: \d+ B on the wire for \d+ B")
        self.assertIn("no zlib memory of its own (both sides reset: shared streams)", out)

    def test_takeover_keeps_both_windows_in_step(self):
        self.serve("--deflate-takeover", "-v")
        agreed = self.talk()
        self.lesson.wait_for_output(rb"permessage-deflate: permessage-deflate \xc2\xb7 zlib memory for this connection: "
                                    rb"at most 3\d\d\.\d KiB")
        self.assertFalse(agreed[0].remote_no_context_takeover)
        self.assertFalse(agreed[0].local_no_context_takeover)

    def test_the_clients_window_and_takeover_requests_are_honoured(self):
        self.serve("--deflate-takeover")
        factory = ClientPerMessageDeflateFactory(server_max_window_bits=10, client_max_window_bits=9,
                                                 server_no_context_takeover=False, client_no_context_takeover=True)
        agreed = self.talk([factory])
        self.assertEqual(agreed[0].remote_max_window_bits, 10)
        self.assertTrue(agreed[0].local_no_context_takeover)
        self.lesson.wait_for_output(rb"permessage-deflate: permessage-deflate; client_no_context_takeover; "
                                    rb"server_max_window_bits=10; client_max_window_bits=9")

    def test_no_deflate_declines(self):
        self.serve("--no-deflate")
        self.assertEqual(self.talk(messages=3), [])
        self.lesson.wait_for_output(rb"permessage-deflate: not agreed \(compression is off \(--no-deflate\)\)")

    def hostile(self, frames, expected_code, *args):
        self.serve("--max-message", "1048576", *args)
        s = raw(self.lesson.port)
        s.sendall(upgrade_request(self.lesson.port, extra="Sec-WebSocket-Extensions: permessage-deflate\r\n"))
        head = read_until(s, b"\r\n\r\n")
        self.assertIn(b"\r\nSec-WebSocket-Extensions: permessage-deflate", head)
        s.sendall(frames)
        self.assertEqual(close_code_of(s), expected_code)
        s.close()
        # The server goes on serving everyone else.
        self.assertEqual(len(self.talk(messages=2)), 1)

    def test_a_bomb_is_1009_while_inflating(self):
        self.hostile(frame(0x2, deflated(bytes(64 << 20)), rsv=4), 1009)

    def test_rsv1_on_a_continuation_or_a_ping_is_1002(self):
        hello = deflated(b"Hello")
        self.hostile(frame(0x1, hello[:3], fin=False, rsv=4) + frame(0x0, hello[3:], rsv=4), 1002)
        self.lesson.stop()
        self.hostile(frame(0x9, b"x", rsv=4), 1002)

    def test_garbage_and_bad_utf8_once_inflated_are_1007(self):
        self.hostile(frame(0x1, b"\xff\xff\xff\xff\x13", rsv=4), 1007)
        self.lesson.stop()
        self.hostile(frame(0x1, deflated(b"caf\xc3("), rsv=4), 1007)

    def test_rsv1_without_the_extension_is_1002(self):
        self.serve()
        s = raw(self.lesson.port)
        s.sendall(upgrade_request(self.lesson.port))
        read_until(s, b"\r\n\r\n")
        s.sendall(frame(0x1, deflated(b"Hello"), rsv=4))
        self.assertEqual(close_code_of(s), 1002)


class OurClientAgainstPython(unittest.TestCase):
    def judged(self, mode, *args):
        judge = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "echo_judge.py"), mode],
                                 stdout=subprocess.PIPE, text=True)
        try:
            port = int(judge.stdout.readline().split()[1])
            p = subprocess.run([os.path.join(BIN, "lesson6-client"), "--echo", f"ws://127.0.0.1:{port}/", *args],
                               capture_output=True, timeout=120)
            self.assertEqual(judge.stdout.readline().strip(), "RESULT ok")
            self.assertEqual(p.returncode, 0, p.stderr)
            return judge.stdout.readline().strip()
        finally:
            judge.kill()
            judge.wait()

    def test_with_context_takeover(self):
        self.assertEqual(self.judged("takeover"),
                         "EXTENSIONS permessage-deflate client_no_context_takeover=False server_no_context_takeover=False")

    def test_without_context_takeover(self):
        self.assertEqual(self.judged("reset"),
                         "EXTENSIONS permessage-deflate client_no_context_takeover=True server_no_context_takeover=True")

    def test_the_client_asks_for_no_takeover(self):
        self.assertEqual(self.judged("takeover", "--deflate-no-takeover", "--deflate-window", "9"),
                         "EXTENSIONS permessage-deflate client_no_context_takeover=True server_no_context_takeover=True")

    def test_no_deflate(self):
        self.assertEqual(self.judged("takeover", "--no-deflate"), "EXTENSIONS none")


class TheLesson(unittest.TestCase):
    def run_lesson(self, *args):
        p = subprocess.run([os.path.join(BIN, "lesson8-compression"), *args, "--color", "never"],
                           capture_output=True, timeout=60)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def test_decode_inflates_the_rfc_frames(self):
        code, out, err = self.run_lesson("decode", "--deflate", "c1 07 f2 48 cd c9 c9 07 00 c1 05 f2 00 11 00 00")
        self.assertEqual(code, 0, err)
        self.assertEqual(out.count('message: text "Hello"  (it came compressed)'), 2, out)
        # Without context takeover the second frame refers to a window that was reset: corrupt.
        code, out, _ = self.run_lesson("decode", "--deflate", "--no-context-takeover",
                                       "c1 07 f2 48 cd c9 c9 07 00 c1 05 f2 00 11 00 00")
        self.assertEqual(code, 1)
        self.assertIn("not_deflate", out)
        self.assertIn("close 1007", out)

    def test_decode_without_deflate_refuses_rsv1(self):
        code, out, _ = self.run_lesson("decode", "c1 07 f2 48 cd c9 c9 07 00")
        self.assertEqual(code, 1)
        self.assertIn("reserved_bits", out)
        code, out, err = self.run_lesson("decode", "--deflate", "zz")
        self.assertNotEqual(code, 0)
        self.assertIn("hex", err)

    def test_serve_vv_shows_both_forms_with_the_ratio(self):
        lesson = Lesson("lesson8-compression", "serve", "-vv")
        try:
            async def chat():
                async with websockets.connect(f"ws://127.0.0.1:{lesson.port}/ws") as ws:
                    await ws.send('{"type":"LOGIN","name":"alice"}')
                    await ws.recv()
                    await ws.send('{"type":"CHAT","message":"' + "compress me " * 20 + '"}')
                    while '"CHAT"' not in await ws.recv():
                        pass
            arun(chat())
            out = lesson.wait_for_output(rb"compressed \d+ B \xe2\x86\x92 \d+ B")
            self.assertRegex(out, r"← inflated: \d+ B on the wire for \d+ B \(\d+%\)")
            self.assertRegex(out, r"on the wire  [0-9a-f ]+…  \(\d+ B, RSV1 set\)")
            self.assertRegex(out, r"message      7b 22 74 79 70 65")
        finally:
            self.assertEqual(lesson.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
