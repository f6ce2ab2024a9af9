"""End-to-end: lesson 4's echo server against Python `websockets` and hand-made hostile frames.
Every violation gets the right close code (RFC 6455 §7.4.1) and the server keeps serving others."""
import asyncio
import os
import signal
import socket
import unittest

import websockets
import websockets.exceptions

from harness import Lesson, arun, close_code_of, frame, handshake, raw, read_all, read_frame, run


class EchoServer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lesson = Lesson("lesson4-framing", "serve", "--max-message", str(16 * 1024 * 1024))
        cls.url = f"ws://127.0.0.1:{cls.lesson.port}/"

    @classmethod
    def tearDownClass(cls):
        code = cls.lesson.stop()
        cls.lesson.__exit__()
        assert code == 0, code

    def test_text_and_binary_round_trip_up_to_16_mib(self):
        async def talk():
            async with websockets.connect(self.url, max_size=None) as ws:
                for size in (0, 1, 125, 126, 65535, 65536, 1 << 20, 16 * 1024 * 1024 - 64):
                    text = ("κ" * (size // 2)) + ("a" * (size % 2))
                    await ws.send(text)
                    self.assertEqual(await ws.recv(), text, size)
                    data = os.urandom(size)
                    await ws.send(data)
                    self.assertEqual(await ws.recv(), data, size)
        arun(talk(), 120)

    def test_fragmented_messages_come_back_whole(self):
        async def talk():
            async with websockets.connect(self.url) as ws:
                await ws.send(["Hel", "lo, ", "wörld"])
                self.assertEqual(await ws.recv(), "Hello, wörld")
                await ws.send([b"\x00\x01", b"", b"\xff"])
                self.assertEqual(await ws.recv(), b"\x00\x01\xff")
        arun(talk())

    def test_ping_gets_pong_with_the_same_payload(self):
        s = raw(self.lesson.port)
        handshake(s, self.lesson.port)
        s.sendall(frame(0x9, b"are you there?"))
        self.assertEqual(read_frame(s), (True, 0xA, b"are you there?"))
        # An unsolicited pong is ignored; the next message still echoes.
        s.sendall(frame(0xA, b"unasked") + frame(0x1, b"after"))
        self.assertEqual(read_frame(s), (True, 0x1, b"after"))

    def test_control_frames_between_fragments(self):
        s = raw(self.lesson.port)
        handshake(s, self.lesson.port)
        s.sendall(frame(0x1, b"fra", fin=False) + frame(0x9, b"p") + frame(0x0, b"gment"))
        self.assertEqual(read_frame(s), (True, 0xA, b"p"))
        self.assertEqual(read_frame(s), (True, 0x1, b"fragment"))

    def test_clean_close_echoes_the_code(self):
        async def talk():
            ws = await websockets.connect(self.url)
            await ws.close(4000, "done here")
            return ws.close_code
        self.assertEqual(arun(talk()), 4000)
        s = raw(self.lesson.port)
        handshake(s, self.lesson.port)
        s.sendall(frame(0x8, b""))
        self.assertEqual(read_frame(s), (True, 0x8, b""))  # no code in, no code back
        self.assertEqual(read_all(s), b"")                 # and then the server closes TCP

    def test_ten_pings_get_ten_pongs(self):
        # Autobahn 2.10: pings are answered one by one, in order.
        s = raw(self.lesson.port)
        handshake(s, self.lesson.port)
        s.sendall(b"".join(frame(0x9, f"ping {i}".encode()) for i in range(10)))
        for i in range(10):
            self.assertEqual(read_frame(s), (True, 0xA, f"ping {i}".encode()))

    def test_nothing_is_answered_after_the_close(self):
        # RFC 6455 §5.5.1 / Autobahn 7.1.x: after a close frame, data and pings are not answered.
        s = raw(self.lesson.port)
        handshake(s, self.lesson.port)
        s.sendall(frame(0x1, b"before") + frame(0x8, (1000).to_bytes(2, "big")) + frame(0x1, b"after") +
                  frame(0x9, b"ping") + frame(0x8, (1000).to_bytes(2, "big")))
        self.assertEqual(read_frame(s), (True, 0x1, b"before"))
        self.assertEqual(read_frame(s), (True, 0x8, (1000).to_bytes(2, "big")))
        self.assertIsNone(read_frame(s))  # then the server hangs up

    def test_close_reason_of_123_bytes_is_fine_and_124_is_too_long(self):
        # A close payload is a control payload: 2 + 123 = 125 bytes at most (Autobahn 7.3.5, 7.3.6).
        s = raw(self.lesson.port)
        handshake(s, self.lesson.port)
        s.sendall(frame(0x8, (1000).to_bytes(2, "big") + b"r" * 123))
        self.assertEqual(close_code_of(s), 1000)
        self.violation(frame(0x8, (1000).to_bytes(2, "big") + b"r" * 124), 1002)

    def test_a_4_mib_message_in_64_byte_fragments(self):
        # Autobahn 9.3.1: many small fragments make one large message.
        s = raw(self.lesson.port)
        handshake(s, self.lesson.port)
        piece = b"abcdefgh" * 8
        count = 4 * 1024 * 1024 // len(piece)
        wire = bytearray(frame(0x1, piece, fin=False))
        for i in range(1, count):
            wire += frame(0x0, piece, fin=(i == count - 1))
        s.sendall(wire)
        fin, opcode, payload = read_frame(s)
        self.assertEqual((fin, opcode, len(payload)), (True, 0x1, count * len(piece)))
        self.assertEqual(payload[:64], piece)

    def test_frames_right_behind_the_request_are_handled(self):
        s = raw(self.lesson.port)
        from harness import upgrade_request, read_until
        s.sendall(upgrade_request(self.lesson.port) + frame(0x1, b"eager"))
        data = read_until(s, b"eager")
        self.assertTrue(data.startswith(b"HTTP/1.1 101"))
        self.assertTrue(data.endswith(b"\x81\x05eager"))

    def violation(self, wire, expected_code, one_byte_at_a_time=False):
        s = raw(self.lesson.port)
        handshake(s, self.lesson.port)
        if one_byte_at_a_time:
            for b in wire:
                s.sendall(bytes([b]))
        else:
            s.sendall(wire)
        self.assertEqual(close_code_of(s), expected_code)
        self.assertEqual(read_all(s), b"")
        # And everyone else is still served.
        async def talk():
            async with websockets.connect(self.url) as ws:
                await ws.send("still here?")
                return await ws.recv()
        self.assertEqual(arun(talk()), "still here?")

    # RFC 6455 §5.1: a server MUST close the connection upon an unmasked frame.
    def test_unmasked_frame_is_1002(self):
        self.violation(frame(0x1, b"Hello", mask=False), 1002)

    # §5.2: RSV bits without a negotiated extension.
    def test_rsv_bits_are_1002(self):
        for rsv in (1, 2, 4):
            with self.subTest(rsv=rsv):
                self.violation(frame(0x1, b"x", rsv=rsv), 1002)

    # §5.2: reserved opcodes.
    def test_reserved_opcodes_are_1002(self):
        for op in (3, 7, 0xB, 0xF):
            with self.subTest(op=op):
                self.violation(frame(op, b""), 1002)

    # §5.5: control frames are at most 125 bytes and never fragmented.
    def test_bad_control_frames_are_1002(self):
        self.violation(frame(0x9, b"x" * 126), 1002)
        self.violation(frame(0x9, b"x", fin=False), 1002)

    # §5.4: continuation rules.
    def test_continuation_rules_are_1002(self):
        self.violation(frame(0x0, b"orphan"), 1002)
        self.violation(frame(0x1, b"a", fin=False) + frame(0x1, b"b"), 1002)

    # §8.1: text must be UTF-8, checked as it streams.
    def test_invalid_utf8_is_1007(self):
        self.violation(frame(0x1, b"\xed\xa0\x80"), 1007)
        self.violation(frame(0x1, "κόσμε".encode(), fin=False) + frame(0x0, b"\xf4\x90\x80\x80"), 1007)
        self.violation(frame(0x1, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"), 1007, one_byte_at_a_time=True)

    # §5.5.1, §7.4: close payloads.
    def test_bad_close_frames(self):
        self.violation(frame(0x8, b"\x03"), 1002)
        self.violation(frame(0x8, (1005).to_bytes(2, "big")), 1002)
        self.violation(frame(0x8, (999).to_bytes(2, "big")), 1002)
        self.violation(frame(0x8, (1000).to_bytes(2, "big") + b"\xff"), 1007)

    # §5.2: the 64-bit length's top bit must be 0.
    def test_64_bit_length_with_top_bit_is_1002(self):
        wire = bytes([0x82, 0xFF]) + (1 << 63 | 5).to_bytes(8, "big") + b"\x00\x00\x00\x00" + b"hello"
        self.violation(wire, 1002)

    def test_many_clients_at_once(self):
        async def one(i):
            async with websockets.connect(self.url) as ws:
                for j in range(20):
                    await ws.send(f"client {i} message {j}")
                    self.assertEqual(await ws.recv(), f"client {i} message {j}")
        async def all_of_them():
            await asyncio.gather(*(one(i) for i in range(100)))
        arun(all_of_them(), 60)

    def test_a_silent_half_open_client_does_not_block_others(self):
        stuck = raw(self.lesson.port)
        stuck.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # and never the end of the request
        async def talk():
            async with websockets.connect(self.url) as ws:
                await ws.send("fine")
                return await ws.recv()
        self.assertEqual(arun(talk()), "fine")
        stuck.close()

    def test_serves_the_framing_page(self):
        s = raw(self.lesson.port)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        reply = read_all(s)
        self.assertTrue(reply.startswith(b"HTTP/1.1 200 OK\r\n"))
        self.assertIn(b"70 000 B", reply)


class Verbose(unittest.TestCase):
    def test_v_prints_each_frame_and_vv_draws_it(self):
        with Lesson("lesson4-framing", "serve", "-v") as lesson:
            s = raw(lesson.port)
            handshake(s, lesson.port)
            s.sendall(frame(0x1, b"Hello"))
            self.assertEqual(read_frame(s), (True, 0x1, b"Hello"))
            out = lesson.wait_for_output(rb"\xe2\x86\x92 text")  # the "→ text" line of the echo
            self.assertRegex(out, r"#1 connect 127\.0\.0\.1:\d+")
            self.assertIn("#1 handshake ok", out)
            self.assertRegex(out, r'#1 ← text +fin masked 5 B "Hello"')
            self.assertRegex(out, r'#1 → text +fin 5 B "Hello"')
            s.close()
            self.assertEqual(lesson.stop(), 0)
        with Lesson("lesson4-framing", "serve", "-vv") as lesson:
            s = raw(lesson.port)
            handshake(s, lesson.port)
            s.sendall(frame(0x2, b"\x00" * 300))
            self.assertEqual(read_frame(s)[2], b"\x00" * 300)
            out = lesson.wait_for_output(rb"more bytes not shown\n(.|\n)*more bytes not shown")
            self.assertIn("|1|0|0|0|0 0 1 0|1|1 1 1 1 1 1 0|", out)  # binary, masked, 16-bit length
            self.assertIn("ext. length: 01 2c = 300", out)
            self.assertIn("0000  82 fe 01 2c", out)
            s.close()
            self.assertEqual(lesson.stop(), 0)


class SizeLimit(unittest.TestCase):
    def test_a_message_over_the_limit_is_1009_and_at_the_limit_is_echoed(self):
        with Lesson("lesson4-framing", "serve", "--max-message", "1000") as lesson:
            s = raw(lesson.port)
            handshake(s, lesson.port)
            s.sendall(frame(0x2, b"a" * 1000))
            self.assertEqual(read_frame(s), (True, 0x2, b"a" * 1000))
            s.sendall(frame(0x2, b"a" * 600, fin=False) + frame(0x0, b"a" * 401))
            self.assertEqual(close_code_of(s), 1009)
            # A huge declared length is refused from the header alone, before any payload.
            s = raw(lesson.port)
            handshake(s, lesson.port)
            s.sendall(bytes([0x82, 0xFF]) + (1 << 40).to_bytes(8, "big") + b"\x01\x02\x03\x04")
            self.assertEqual(close_code_of(s), 1009)
            self.assertEqual(lesson.stop(), 0)


class OutOfFileDescriptors(unittest.TestCase):
    def test_the_server_survives_running_out_and_serves_again(self):
        with Lesson("lesson4-framing", "serve", max_files=32) as lesson:
            socks = [raw(lesson.port) for _ in range(60)]  # more than it can hold open
            for s in socks:
                s.close()
            async def talk():
                async with websockets.connect(f"ws://127.0.0.1:{lesson.port}/", open_timeout=10) as ws:
                    await ws.send("after the storm")
                    return await ws.recv()
            self.assertEqual(arun(talk()), "after the storm")
            self.assertEqual(lesson.stop(), 0)


class Shutdown(unittest.TestCase):
    def test_sigterm_closes_every_client_with_1001_and_exits_0(self):
        with Lesson("lesson4-framing", "serve") as lesson:
            socks = [raw(lesson.port) for _ in range(5)]
            for s in socks:
                handshake(s, lesson.port)
            lesson.proc.send_signal(signal.SIGTERM)
            for s in socks:
                self.assertEqual(close_code_of(s), 1001)
                s.sendall(frame(0x8, (1001).to_bytes(2, "big")))
            self.assertEqual(lesson.stop(), 0)


class OfflineTools(unittest.TestCase):
    def test_decode_explains_the_rfc_masked_hello(self):
        code, out, err = run("lesson4-framing", "decode", "81 85 37 fa 21 3d 7f 9f 4d 51 58", "--color", "never")
        self.assertEqual(code, 0, err)
        self.assertIn("|1|0|0|0|0 0 0 1|1|0 0 0 0 1 0 1|", out)
        self.assertIn("7f^37=48 'H'", out)
        self.assertIn('"Hello"', out)
        self.assertIn("deliver", out)

    def test_decode_says_what_a_receiver_must_do_with_a_bad_frame(self):
        code, out, _ = run("lesson4-framing", "decode", "0x89 0x7e 0x00 0x80", "--color", "never")
        self.assertEqual(code, 0)
        self.assertIn("control frame longer than 125 bytes", out)
        self.assertIn("1002", out)

    def test_encode_uses_each_length_form(self):
        for repeat, marker in (("125", "7-bit form"), ("126", "16-bit form"), ("65536", "64-bit form")):
            code, out, _ = run("lesson4-framing", "encode", "--text", "a", "--repeat", repeat, "--color", "never")
            self.assertEqual(code, 0)
            self.assertIn(marker, out)
        code, out, _ = run("lesson4-framing", "encode", "--text", "Hello", "--mask", "37fa213d", "--color", "never")
        self.assertIn("81 85 37 fa 21 3d 7f 9f 4d 51 58", out)

    def test_bad_hex_is_a_clear_error(self):
        code, out, err = run("lesson4-framing", "decode", "zz")
        self.assertEqual(code, 1)
        self.assertIn("error:", err)
        self.assertNotIn("terminate", err)

    def test_demo_matches_the_rfc(self):
        code, out, err = run("lesson4-framing", "--demo", "--color", "never")
        self.assertEqual(code, 0, err)
        self.assertIn("✓ all eight frames match RFC 6455 §5.7", out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
