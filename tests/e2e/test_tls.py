"""End-to-end over TLS (lesson 7's transport): lessons 4 and 5 with --tls against Python
`websockets` over wss (trusting the certificate the lesson saved), lesson 6's client against a
Python wss server (certificate made here with the openssl command), verification failures
named, hostile bytes on the TLS port, `openssl s_client`, SSLKEYLOGFILE, and the relay with TLS
on both sides."""
import asyncio
import os
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

import websockets

from harness import BIN, Lesson, arun

CLIENT = os.path.join(BIN, "lesson6-client")


def trusting(cert_file):
    ctx = ssl.create_default_context(cafile=cert_file)
    return ctx


class TlsLesson:
    """A server lesson with --tls and --save-cert into a temporary folder."""

    def __init__(self, name, *args, env=None):
        self.dir = tempfile.TemporaryDirectory()
        self.cert = os.path.join(self.dir.name, "cert.pem")
        old = dict(os.environ)
        if env:
            os.environ.update(env)
        try:
            self.lesson = Lesson(name, *args, "--tls", "--save-cert", self.cert)
        finally:
            os.environ.clear()
            os.environ.update(old)
        self.port = self.lesson.port
        self.url = f"wss://127.0.0.1:{self.port}/"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.lesson.__exit__()
        self.dir.cleanup()


class ServersOverTls(unittest.TestCase):
    def test_lesson4_echo_over_wss_up_to_16_mib_with_fragments_and_pings(self):
        with TlsLesson("lesson4-framing", "serve", "--max-message", str(17 << 20)) as server:
            async def run():
                async with websockets.connect(server.url, ssl=trusting(server.cert), max_size=None) as ws:
                    for message in ("Hello", "κόσμε", b"\x00\xff" * 40000, os.urandom(16 << 20), "t" * (16 << 20)):
                        await ws.send(message)
                        self.assertEqual(await asyncio.wait_for(ws.recv(), 60), message)
                    await ws.send(["frag", "ment", "ed"])
                    self.assertEqual(await ws.recv(), "fragmented")
                    await asyncio.wait_for(await ws.ping(b"over tls"), 10)
                    # Many small messages at once: TLS records carry several frames each.
                    for i in range(500):
                        await ws.send(f"m{i}")
                    for i in range(500):
                        self.assertEqual(await ws.recv(), f"m{i}")
            arun(run(), 180)
            self.assertEqual(server.lesson.stop(), 0)

    def test_lesson5_chat_over_wss_and_sigterm_is_1001(self):
        with TlsLesson("lesson5-chat") as server:
            url = server.url + "ws"

            async def run():
                ctx = trusting(server.cert)
                async with websockets.connect(url, ssl=ctx) as alice, websockets.connect(url, ssl=ctx) as bob:
                    await alice.send('{"type":"LOGIN","name":"alice"}')
                    await alice.recv()  # USERS
                    await alice.recv()  # her LOGIN
                    await bob.send('{"type":"LOGIN","name":"bob"}')
                    while "bob joined" not in await alice.recv():
                        pass
                    await alice.send('{"type":"CHAT","message":"over TLS"}')
                    while True:
                        m = await bob.recv()
                        if "over TLS" in m:
                            break
                    server.lesson.proc.send_signal(signal.SIGTERM)
                    with self.assertRaises(websockets.ConnectionClosed) as closed:
                        while True:
                            await asyncio.wait_for(bob.recv(), 10)
                    self.assertEqual(closed.exception.rcvd.code, 1001)
            arun(run(), 60)
            self.assertEqual(server.lesson.proc.wait(10), 0)

    def test_the_page_is_served_over_https_and_opens_wss(self):
        with TlsLesson("lesson5-chat") as server:
            ctx = trusting(server.cert)
            with socket.create_connection(("127.0.0.1", server.port)) as raw, \
                    ctx.wrap_socket(raw, server_hostname="localhost") as s:
                self.assertEqual(s.selected_alpn_protocol(), None)  # Python offered none
                s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
                page = b""
                while chunk := s.recv(65536):
                    page += chunk
            self.assertTrue(page.startswith(b"HTTP/1.1 200 OK"))
            self.assertIn(b"location.protocol === 'https:' ? 'wss' : 'ws'", page)

    def test_openssl_s_client_sees_tls13_and_alpn(self):
        with TlsLesson("lesson4-framing", "serve") as server:
            p = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{server.port}", "-alpn", "http/1.1",
                                "-CAfile", server.cert, "-verify_return_error", "-servername", "localhost"],
                               input=b"", capture_output=True, timeout=20)
            out = p.stdout.decode()
            self.assertIn("TLSv1.3", out)
            self.assertIn("ALPN protocol: http/1.1", out)
            self.assertIn("Verify return code: 0 (ok)", out)
            p = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{server.port}", "-tls1_2"],
                               input=b"", capture_output=True, timeout=20)
            self.assertIn("TLSv1.2", p.stdout.decode())

    def test_sslkeylogfile_gets_the_tls13_secrets(self):
        with tempfile.TemporaryDirectory() as d:
            log = os.path.join(d, "keys.log")
            with TlsLesson("lesson4-framing", "serve", env={"SSLKEYLOGFILE": log}) as server:
                async def run():
                    async with websockets.connect(server.url, ssl=trusting(server.cert)) as ws:
                        await ws.send("hi")
                        await ws.recv()
                arun(run(), 30)
                self.assertEqual(server.lesson.stop(), 0)
            labels = {line.split()[0] for line in open(log) if line.strip()}
            for label in ("CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
                          "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"):
                self.assertIn(label, labels)


class ThreadPerClientLessonsOverTls(unittest.TestCase):
    def test_lesson1_prints_the_decrypted_request(self):
        with TlsLesson("lesson1-raw-tcp", "--hang-up-after", "1") as server:
            ctx = trusting(server.cert)
            with socket.create_connection(("127.0.0.1", server.port)) as raw, \
                    ctx.wrap_socket(raw, server_hostname="localhost") as s:
                s.sendall(b"GET /chat HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\r\n")
                out = server.lesson.wait_for_output(rb"Upgrade: websocket", 10)
            self.assertIn("GET /chat HTTP/1", out)  # the decrypted bytes, as lesson 1 shows any
            self.assertIn("#1 read 1: 59 bytes", out)
            self.assertEqual(server.lesson.stop(), 0)

    def test_lesson2_upgrades_over_wss(self):
        with TlsLesson("lesson2-handshake") as server:
            async def run():
                async with websockets.connect(server.url, ssl=trusting(server.cert)):
                    pass
            arun(run(), 30)
            out = server.lesson.wait_for_output(rb"101 Switching Protocols", 10)
            self.assertIn("Sec-WebSocket-Accept", out)
            self.assertEqual(server.lesson.stop(), 0)


class HostileOnTheTlsPort(unittest.TestCase):
    def test_bad_bytes_and_stalls_are_dropped_and_everyone_else_is_served(self):
        with TlsLesson("lesson4-framing", "serve", "-v", "--handshake-timeout", "1") as server:
            port = server.port
            # Plain HTTP on the TLS port: a plain-text 400 that says why.
            with socket.create_connection(("127.0.0.1", port)) as s:
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                answer = s.recv(4096)
            self.assertTrue(answer.startswith(b"HTTP/1.1 400"), answer)
            self.assertIn(b"this port speaks TLS", answer)
            # Garbage, a ClientHello cut in half, and 50 clients that stall mid-handshake.
            with socket.create_connection(("127.0.0.1", port)) as s:
                s.sendall(b"\x00\x01 not tls at all \r\n\r\n" * 4)
                s.settimeout(5)
                try:
                    self.assertEqual(s.recv(100), b"")
                except ConnectionResetError:
                    pass
            with socket.create_connection(("127.0.0.1", port)) as s:
                s.sendall(bytes.fromhex("16030100f4010000f00303") + os.urandom(40))
            stalled = [socket.create_connection(("127.0.0.1", port)) for _ in range(50)]
            for s in stalled:
                s.sendall(bytes.fromhex("1603010200"))

            async def served():
                async with websockets.connect(server.url, ssl=trusting(server.cert)) as ws:
                    await ws.send("still served")
                    self.assertEqual(await ws.recv(), "still served")
            arun(served(), 20)
            # The stalled ones are cut off at the handshake deadline, which covers TLS.
            for s in stalled:
                s.settimeout(10)
                try:
                    self.assertEqual(s.recv(10), b"")
                except ConnectionResetError:
                    pass
                s.close()
            out = server.lesson.wait_for_output(rb"no TLS handshake in time", 10)
            self.assertIn("plain HTTP sent to the TLS port", out)
            self.assertIn("the bytes are not TLS", out)
            self.assertEqual(server.lesson.stop(), 0)


def make_certificate(folder):
    cert, key = os.path.join(folder, "py.pem"), os.path.join(folder, "py.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


class PythonWssServer:
    """A Python `websockets` echo server over TLS, in a thread."""

    def __init__(self, cert, key):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        async def echo(ws, path=None):
            async for message in ws:
                await ws.send(message)

        async def main():
            self.server = await websockets.serve(echo, "127.0.0.1", 0, ssl=self.ctx, max_size=None)
            self.port = self.server.sockets[0].getsockname()[1]
            ready.set()
            await self.server.wait_closed()

        self.thread = threading.Thread(target=lambda: self.loop.run_until_complete(main()), daemon=True)
        self.thread.start()
        ready.wait(10)

    def close(self):
        self.loop.call_soon_threadsafe(self.server.close)
        self.thread.join(10)


class ClientOverTls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        cls.cert, cls.key = make_certificate(cls.dir.name)
        cls.peer = PythonWssServer(cls.cert, cls.key)

    @classmethod
    def tearDownClass(cls):
        cls.peer.close()
        cls.dir.cleanup()

    def client(self, url, *args, input=b""):
        p = subprocess.run([CLIENT, url, *args, "--color", "never"], input=input, capture_output=True, timeout=60)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def test_the_client_talks_wss_to_python_websockets(self):
        code, out, err = self.client(f"wss://127.0.0.1:{self.peer.port}/", "--ca", self.cert,
                                     input=b"over tls\n/binary 00 ff\n/frag 3 in pieces\n/ping\n")
        self.assertEqual(code, 0, out + err)
        self.assertIn("TLS TLSv1.3", out)
        self.assertIn("✓ the certificate verified for this host", out)
        self.assertIn('← text "over tls"', out)
        self.assertIn("← binary 2 B: 00 ff", out)
        self.assertIn('← text "in pieces"', out)
        self.assertIn("the closing handshake is complete", out)

    def test_the_name_is_checked_too(self):
        code, out, err = self.client(f"wss://localhost:{self.peer.port}/", "--ca", self.cert, input=b"hi\n")
        self.assertEqual(code, 0, out + err)

    def test_an_untrusted_certificate_is_a_named_refusal(self):
        code, out, err = self.client(f"wss://127.0.0.1:{self.peer.port}/", input=b"hi\n")
        self.assertNotEqual(code, 0)
        self.assertIn("certificate did not verify: self-signed certificate", err)
        self.assertNotIn("← text", out)

    def test_insecure_connects_and_says_it_did_not_verify(self):
        code, out, err = self.client(f"wss://127.0.0.1:{self.peer.port}/", "--insecure", input=b"hi\n")
        self.assertEqual(code, 0, out + err)
        self.assertIn("✗ the certificate did not verify: self-signed certificate (--insecure", out)

    def test_wss_to_a_plain_server_and_ws_to_a_tls_one_are_clear(self):
        with Lesson("lesson4-framing", "serve") as plain:
            code, _, err = self.client(f"wss://127.0.0.1:{plain.port}/", input=b"")
            self.assertNotEqual(code, 0)
            self.assertIn("the bytes are not TLS", err)
        code, out, err = self.client(f"ws://127.0.0.1:{self.peer.port}/", "--connect-timeout", "3", input=b"")
        self.assertNotEqual(code, 0, out)

    def test_lesson7_inspects_a_python_wss_server(self):
        lesson7 = os.path.join(BIN, "lesson7-wss")
        p = subprocess.run([lesson7, f"wss://localhost:{self.peer.port}/", "--ca", self.cert, "--color", "never"],
                           capture_output=True, timeout=60)
        out = p.stdout.decode()
        self.assertEqual(p.returncode, 0, out + p.stderr.decode())
        self.assertIn("handshake, in the clear: ClientHello", out)
        self.assertIn("handshake, in the clear: ServerHello", out)
        self.assertIn("✓ the certificate verified", out)
        self.assertIn('✓ no "GET" or "Upgrade" in these bytes', out)
        self.assertIn('← pong "lesson 7"', out)
        p = subprocess.run([lesson7, f"wss://127.0.0.1:{self.peer.port}/", "--color", "never"],
                           capture_output=True, timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("self-signed certificate", p.stderr.decode())
        self.assertIn("ClientHello", p.stdout.decode())  # what was sent before the refusal is shown

    def test_lesson7_against_a_plain_server_shows_its_bytes_and_says_why(self):
        # The server's first 5 bytes ("HTTP/") are no TLS record header: lesson 7 must not read
        # 0x5454 = 21588 bytes of "record" past the end of what came.
        with Lesson("lesson4-framing", "serve") as plain:
            p = subprocess.run([os.path.join(BIN, "lesson7-wss"), f"wss://127.0.0.1:{plain.port}/", "--color", "never"],
                               capture_output=True, timeout=60)
        out, err = p.stdout.decode(), p.stderr.decode()
        self.assertEqual(p.returncode, 1, out + err)
        self.assertIn('48 54 54 50 2f  not a TLS record: "HTTP/', out)
        self.assertIn("the bytes are not TLS", err)
        self.assertNotIn("substr", err)

    def test_the_relay_speaks_tls_on_both_sides(self):
        with tempfile.TemporaryDirectory() as d:
            saved = os.path.join(d, "relay.pem")
            relay = Lesson("lesson6-client", "relay", "--listen", "0", "--tls", "--save-cert", saved, "--ca", self.cert,
                           f"wss://127.0.0.1:{self.peer.port}/", "-v", port_option=False)
            with relay:
                async def run():
                    async with websockets.connect(f"wss://127.0.0.1:{relay.port}/", ssl=trusting(saved),
                                                  max_size=None, compression=None) as ws:
                        for message in ("through two TLS hops", os.urandom(300000)):
                            await ws.send(message)
                            self.assertEqual(await ws.recv(), message)
                arun(run(), 60)
                out = relay.wait_for_output(rb"#1 \xe2\x86\x90 binary", 10)
                self.assertIn("#1 → text         fin masked 20 B \"through two TLS hops\"", out)
                self.assertEqual(relay.stop(), 0)


if __name__ == "__main__":
    unittest.main()
