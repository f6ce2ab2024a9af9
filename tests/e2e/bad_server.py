"""A WebSocket server that answers wrongly on purpose, one way per run, to test that the
project's client notices. Prints `PORT n`; after the upgrade it prints what the client sent back
(`CLOSE code`, or `EOF`). Standard library only (and the tests' harness): every byte here is
chosen by hand.

    bad_server.py MODE     MODE: ok | status-200 | no-upgrade | bad-accept | extension |
                                 bad-deflate | ok-deflate | protocol | masked | bad-utf8 |
                                 silent | not-http
"""
import base64
import hashlib
import socket
import sys

from harness import read_frame

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def accept_of(key):
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def read_head(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
    return data.decode("latin-1")


def header(head, name):
    for line in head.split("\r\n")[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == name.lower():
            return v.strip()
    return ""


def main():
    mode = sys.argv[1]
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    print(f"PORT {listener.getsockname()[1]}", flush=True)
    conn, _ = listener.accept()
    head = read_head(conn)
    if head is None:
        return
    accept = accept_of(header(head, "Sec-WebSocket-Key"))
    lines = ["HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Accept: {accept}"]
    if mode == "silent":
        conn.recv(1)  # wait until the client gives up
        return
    if mode == "not-http":
        conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")
        conn.recv(1)
        return
    if mode == "status-200":
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nhello, world")
        conn.recv(1)
        return
    if mode == "no-upgrade":
        lines.remove("Upgrade: websocket")
    if mode == "bad-accept":
        lines[3] = "Sec-WebSocket-Accept: " + base64.b64encode(hashlib.sha1(header(head, "Sec-WebSocket-Key").encode()).digest()).decode()
    if mode == "extension":  # never offered by anyone
        lines.append("Sec-WebSocket-Extensions: x-webkit-deflate-frame")
    if mode == "ok-deflate":  # a good answer, to a client that may not have offered it
        lines.append("Sec-WebSocket-Extensions: permessage-deflate")
    if mode == "bad-deflate":  # the offer was permessage-deflate; this answer is not one it allows
        lines.append("Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=16")
    if mode == "protocol":
        lines.append("Sec-WebSocket-Protocol: chat")
    conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    if mode == "masked":
        key = b"\x01\x02\x03\x04"
        conn.sendall(b"\x81\x82" + key + bytes(b ^ key[i % 4] for i, b in enumerate(b"hi")))
    if mode == "bad-utf8":
        conn.sendall(b"\x81\x02\xc3\x28")
    # Report what the client answers, then end the connection as a server should.
    while True:
        f = read_frame(conn, masked=True)
        if f is None:
            print("EOF", flush=True)
            return
        _, opcode, payload = f
        if opcode == 0x8:
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            print(f"CLOSE {code}", flush=True)
            conn.sendall(b"\x88\x02" + payload[:2])
            conn.close()
            return
        if opcode == 0x1 and mode == "ok":
            conn.sendall(bytes([0x81, len(payload)]) + payload)


main()
