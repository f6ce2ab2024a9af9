"""A Python `websockets` server that drives a client in echo mode, as a conformance suite's
client tests do: it sends text, binary, fragmented and 16 MiB messages and a ping, checks each
echo, then closes with 1000. Prints `PORT n`, then `RESULT ok` or `RESULT <what went wrong>`.
    echo_judge.py [takeover | reset | none]: permessage-deflate as websockets does it by default
    (its windows of 12 bits, context takeover), with no context takeover either way, or off.
After the verdict it prints `EXTENSIONS <what was agreed>`."""
import asyncio
import os
import sys

import websockets
from websockets.extensions.permessage_deflate import PerMessageDeflate, ServerPerMessageDeflateFactory


async def judge(ws, path=None):
    try:
        for message in ["Hello", "κόσμε", "", b"\x00\x01\xff", "x" * 70000, os.urandom(16 * 1024 * 1024 - 64),
                        "t" * (16 * 1024 * 1024 - 64)]:
            await ws.send(message)
            echo = await asyncio.wait_for(ws.recv(), 30)
            if echo != message or type(echo) is not type(message):
                raise AssertionError(f"the echo of a {type(message).__name__} of {len(message)} differs")
        await ws.send(["frag", "ment", "ed"])
        if await asyncio.wait_for(ws.recv(), 10) != "fragmented":
            raise AssertionError("the fragmented message did not come back whole")
        pong = await ws.ping(b"judge")
        await asyncio.wait_for(pong, 10)
        await ws.close(1000, "judged")
        print("RESULT ok", flush=True)
    except Exception as e:  # noqa: BLE001 - every failure is the verdict
        print(f"RESULT {e!r}", flush=True)
    deflate = [e for e in ws.extensions if isinstance(e, PerMessageDeflate)]
    print("EXTENSIONS " + (f"permessage-deflate client_no_context_takeover={deflate[0].remote_no_context_takeover} "
                           f"server_no_context_takeover={deflate[0].local_no_context_takeover}" if deflate else "none"),
          flush=True)


async def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "takeover"
    options = {"compression": None} if mode == "none" else {}
    if mode == "reset":
        options = {"extensions": [ServerPerMessageDeflateFactory(server_no_context_takeover=True,
                                                                 client_no_context_takeover=True)]}
    async with websockets.serve(judge, "127.0.0.1", 0, max_size=None, **options) as server:
        print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
        await asyncio.Future()


asyncio.run(main())
