"""Lesson 6's client in --echo mode against a hand-made server, case by case, the way an RFC 6455
conformance suite drives a client (its sections 1-7 and 9: framing, pings, reserved bits,
opcodes, fragments, UTF-8, the close, large messages). No suite is installable here (neither
Debian nor npm packages one), so these are our own cases for the same rules, each with the
answer the RFC requires: the echoes, the pongs, and the close code the client sends; then the
same cases again over wss:// (EchoClientConformanceOverTls).

Every byte the server sends is chosen here by hand; the client's frames are unmasked here too."""
import base64
import hashlib
import os
import socket
import ssl
import subprocess
import tempfile
import threading
import unittest

from harness import BIN, frame

CLIENT = os.path.join(BIN, "lesson6-client")
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, BINARY, CLOSE, PING, PONG, CONT = 0x1, 0x2, 0x8, 0x9, 0xA, 0x0


def f(opcode, payload=b"", fin=True, rsv=0):
    """A server's frame: never masked."""
    return frame(opcode, payload, fin=fin, mask=False, rsv=rsv)


def close(code=None, reason=b""):
    return f(CLOSE, b"" if code is None else code.to_bytes(2, "big") + reason)


def unmask(data, key):
    n = len(data)
    if n == 0:
        return b""
    keys = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(keys, "big")).to_bytes(n, "big")


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.buffer = b""

    def exact(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise EOFError
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def head(self):
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise EOFError
            self.buffer += chunk
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        return head.decode("latin-1")

    def frame(self):
        """A client's frame, which must be masked: (fin, opcode, payload)."""
        b0, b1 = self.exact(2)
        n = b1 & 0x7F
        if n == 126:
            n = int.from_bytes(self.exact(2), "big")
        elif n == 127:
            n = int.from_bytes(self.exact(8), "big")
        if not b1 & 0x80:
            raise AssertionError("the client sent an unmasked frame")
        key = self.exact(4)
        return bool(b0 & 0x80), b0 & 0x0F, unmask(self.exact(n), key)

    def message(self):
        """The next message or control frame, fragments joined: (opcode, payload)."""
        fin, opcode, payload = self.frame()
        while not fin and opcode < 0x8:
            fin, more_op, more = self.frame()
            if more_op >= 0x8:
                raise AssertionError("a control frame inside the client's own fragments: not expected here")
            payload += more
        return opcode, payload


# Set by the TLS run of the same cases: the server side's ssl context.
TLS_SERVER = None


def run_case(frames, server_closes):
    """Serves one connection to `lesson6-client --echo`: sends `frames`, then collects what the
    client sends until its close frame; answers that close and ends TCP. Returns
    (messages before the close, the close payload, the client's exit code, frames after its close)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(20)
    port = listener.getsockname()[1]
    url = f"wss://127.0.0.1:{port}/" if TLS_SERVER else f"ws://127.0.0.1:{port}/"
    proc = subprocess.Popen([CLIENT, "--echo", "--color", "never", *(["--insecure"] if TLS_SERVER else []), url],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    got, close_payload = [], None
    try:
        sock, _ = listener.accept()
        sock.settimeout(20)
        if TLS_SERVER:
            sock = TLS_SERVER.wrap_socket(sock, server_side=True)
        conn = Conn(sock)
        head = conn.head()
        key = next(line.split(":", 1)[1].strip() for line in head.split("\r\n")
                   if line.lower().startswith("sec-websocket-key:"))
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        sock.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Accept: {accept}\r\n\r\n").encode())
        # Send while reading: a large case must not wait on a full socket buffer both ways.
        # (An SSL socket is not for two threads: over TLS the cases are small enough to send first.)
        send = lambda: sock.sendall(b"".join(frames) + (close(1000) if server_closes else b""))  # noqa: E731
        sender = threading.Thread(target=send if not TLS_SERVER else lambda: None)
        if TLS_SERVER:
            send()
        sender.start()
        try:
            while True:
                opcode, payload = conn.message()
                if opcode == CLOSE:
                    close_payload = payload
                    break
                got.append((opcode, payload))
        except EOFError:
            pass
        sender.join()
        after = []  # anything the client sent after its close frame (nothing may come)
        if close_payload is not None and not server_closes:
            sock.sendall(close(1000))
            # The server ends TCP first (RFC 6455 §7.1.1); over TLS too, without unwrapping, so
            # what the client still sends is decrypted (SSLSocket.shutdown would drop TLS).
            socket.socket.shutdown(sock, socket.SHUT_WR)
            try:
                while True:
                    after.append(conn.frame())
            except (EOFError, ConnectionResetError, ssl.SSLError):
                pass
        sock.close()
        return got, close_payload, proc.wait(20), after
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        listener.close()


def code_of(payload):
    return None if payload is None else 1005 if len(payload) < 2 else int.from_bytes(payload[:2], "big")


class EchoClientConformance(unittest.TestCase):
    def echoes(self, frames, expected, close_code=1000):
        """The client echoes `expected` (opcode, payload) in order, then answers our close 1000."""
        got, close_payload, rc, after = run_case(frames, server_closes=True)
        self.assertEqual([(op, len(p)) for op, p in got], [(op, len(p)) for op, p in expected])
        self.assertEqual(got, expected)
        self.assertEqual(code_of(close_payload), close_code)
        self.assertEqual(rc, 0)

    def fails(self, frames, code, echoed=()):
        """The client fails the connection with `code`, after echoing `echoed`."""
        got, close_payload, rc, after = run_case(frames, server_closes=False)
        self.assertEqual(got, list(echoed))
        self.assertEqual(code_of(close_payload), code, "the client must fail the connection with this code")
        self.assertNotEqual(rc, 0, "a failed connection is a non-zero exit")

    # Section 1: text and binary messages of the lengths at each length form's edges.
    def test_1_text_and_binary_at_every_length_form(self):
        for opcode in (TEXT, BINARY):
            with self.subTest(opcode=opcode):
                payloads = [b"*" * n for n in (0, 125, 126, 127, 128, 65535, 65536)]
                self.echoes([f(opcode, p) for p in payloads], [(opcode, p) for p in payloads])

    # Section 2: pings and pongs.
    def test_2_pings_are_answered_with_the_same_payload(self):
        payloads = [b"", b"Hello, world!", bytes(range(256))[:125], "κόσμε".encode()]
        self.echoes([f(PING, p) for p in payloads], [(PONG, p) for p in payloads])

    def test_2_ten_pings_in_a_row_get_ten_pongs(self):
        self.echoes([f(PING, b"ping %d" % i) for i in range(10)], [(PONG, b"ping %d" % i) for i in range(10)])

    def test_2_an_unsolicited_pong_is_ignored(self):
        self.echoes([f(PONG, b"unsolicited"), f(TEXT, b"after it")], [(TEXT, b"after it")])

    def test_2_a_ping_over_125_bytes_is_a_protocol_error(self):
        self.fails([f(PING, b"x" * 126)], 1002)

    # Section 3: reserved bits, with no extension agreed.
    def test_3_reserved_bits_are_a_protocol_error(self):
        for rsv, opcode in ((4, TEXT), (2, BINARY), (1, PING), (7, TEXT), (4, CLOSE)):
            with self.subTest(rsv=rsv, opcode=opcode):
                self.fails([f(opcode, b"", rsv=rsv)], 1002)

    def test_3_a_message_before_the_bad_frame_is_still_echoed(self):
        self.fails([f(TEXT, b"first"), f(TEXT, b"bad", rsv=4)], 1002, echoed=[(TEXT, b"first")])

    # Section 4: reserved opcodes.
    def test_4_reserved_opcodes_are_a_protocol_error(self):
        for opcode in (3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF):
            with self.subTest(opcode=opcode):
                self.fails([f(opcode, b"reserved")], 1002)

    # Section 5: fragments.
    def test_5_fragments_are_joined_and_a_ping_between_them_is_answered_first(self):
        self.echoes([f(TEXT, b"frag", fin=False), f(PING, b"between"), f(CONT, b"ment", fin=False),
                     f(CONT, b"ed")], [(PONG, b"between"), (TEXT, b"fragmented")])

    def test_5_one_byte_fragments_and_empty_ones(self):
        text = b"fragments"
        frames = [f(BINARY if i == 0 else CONT, text[i:i + 1], fin=False) for i in range(len(text))]
        frames += [f(CONT, b"", fin=False), f(CONT, b"")]
        self.echoes(frames, [(BINARY, text)])

    def test_5_fragmentation_errors_are_protocol_errors(self):
        for name, frames in (("a fragmented ping", [f(PING, b"a", fin=False), f(CONT, b"b")]),
                             ("a continuation with nothing to continue", [f(CONT, b"orphan")]),
                             ("a new message before the last one ended", [f(TEXT, b"a", fin=False), f(TEXT, b"b")]),
                             ("a fragmented close", [f(CLOSE, b"\x03\xe8", fin=False)])):
            with self.subTest(case=name):
                self.fails(frames, 1002)

    # Section 6: UTF-8 in text messages, whole and across fragments.
    def test_6_valid_utf8_split_at_every_byte(self):
        text = "κόσμε 𝄞 \U0010ffff".encode()
        frames, expected = [], []
        for cut in range(len(text) + 1):
            frames += [f(TEXT, text[:cut], fin=False), f(CONT, text[cut:])]
            expected.append((TEXT, text))
        self.echoes(frames, expected)

    def test_6_invalid_utf8_is_1007(self):
        for name, frames in (
                ("a surrogate (U+D800)", [f(TEXT, b"\xed\xa0\x80")]),
                ("an overlong '/'", [f(TEXT, b"\xc0\xaf")]),
                ("above U+10FFFF", [f(TEXT, b"\xf4\x90\x80\x80")]),
                ("a lone continuation byte", [f(TEXT, b"a\x80b")]),
                ("cut short at the end of the message", [f(TEXT, b"\xce")]),
                ("bad in the first fragment", [f(TEXT, b"\xce\xba\xff", fin=False), f(CONT, b"ok")]),
                ("bad only when the fragments meet", [f(TEXT, b"\xce", fin=False), f(CONT, b"\x41")])):
            with self.subTest(case=name):
                self.fails(frames, 1007)

    def test_6_binary_is_not_checked_as_utf8(self):
        self.echoes([f(BINARY, b"\xed\xa0\x80\xff")], [(BINARY, b"\xed\xa0\x80\xff")])

    # Section 7: the close.
    def test_7_a_close_is_answered_with_its_code(self):
        for code in (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999):
            with self.subTest(code=code):
                got, close_payload, rc, after = run_case([close(code, b"bye")], server_closes=False)
                self.assertEqual(got, [])
                self.assertEqual(code_of(close_payload), code)
                self.assertEqual(rc, 0)

    def test_7_an_empty_close_and_a_full_reason(self):
        for payload in (b"", (1000).to_bytes(2, "big") + b"r" * 123):
            with self.subTest(size=len(payload)):
                got, close_payload, rc, after = run_case([f(CLOSE, payload)], server_closes=False)
                self.assertIn(code_of(close_payload), (1000, 1005))
                self.assertEqual(rc, 0)

    def test_7_frames_after_the_close_are_ignored(self):
        got, close_payload, rc, after = run_case([close(1000), f(TEXT, b"too late"), f(PING, b"too late")],
                                                 server_closes=False)
        self.assertEqual(got, [])
        self.assertEqual(code_of(close_payload), 1000)
        self.assertEqual(after, [], "nothing may follow the client's close frame")
        self.assertEqual(rc, 0)

    def test_7_bad_close_frames_are_protocol_errors(self):
        for name, payload in [("1 byte", b"\x03")] + [
                (f"code {code}", code.to_bytes(2, "big")) for code in (0, 999, 1004, 1005, 1006, 1015, 1016, 1100,
                                                                       2000, 2999, 5000, 65535)] + [
                ("126 bytes: too big for a control frame", (1000).to_bytes(2, "big") + b"r" * 124)]:
            with self.subTest(case=name):
                self.fails([f(CLOSE, payload)], 1002)

    def test_7_a_close_reason_that_is_not_utf8_is_1007(self):
        self.fails([close(1000, b"\xce\xba\xff")], 1007)

    # Section 9: large messages, whole and in many frames, and many small ones at once.
    def test_9_large_messages(self):
        big = os.urandom(4 << 20)
        chunks = [big[i:i + 65536] for i in range(0, len(big), 65536)]
        frames = [f(TEXT, b"t" * (1 << 20))]
        frames += [f(BINARY if i == 0 else CONT, c, fin=i == len(chunks) - 1) for i, c in enumerate(chunks)]
        self.echoes(frames, [(TEXT, b"t" * (1 << 20)), (BINARY, big)])

    def test_9_a_thousand_small_messages_in_one_write(self):
        payloads = [b"message %d" % i for i in range(1000)]
        self.echoes([f(TEXT, p) for p in payloads], [(TEXT, p) for p in payloads])


class EchoClientConformanceOverTls(EchoClientConformance):
    """The same cases over wss:// (the client's TLS transport under every rule); section 9's
    large messages are left to the plain run."""

    @classmethod
    def setUpClass(cls):
        global TLS_SERVER
        cls.dir = tempfile.TemporaryDirectory()
        cert, key = os.path.join(cls.dir.name, "c.pem"), os.path.join(cls.dir.name, "k.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost"], check=True,
                       capture_output=True)
        TLS_SERVER = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        TLS_SERVER.load_cert_chain(cert, key)

    @classmethod
    def tearDownClass(cls):
        global TLS_SERVER
        TLS_SERVER = None
        cls.dir.cleanup()

    def test_9_large_messages(self):
        self.skipTest("large messages over TLS: tests/e2e/test_tls.py (up to 16 MiB)")


if __name__ == "__main__":
    unittest.main()
