"""A WebSocket echo server written with Python's `websockets`, a peer nobody here wrote:
the project's own client (src/client/client.cpp) is tested against it. Prints `PORT n`."""
import asyncio
import sys

import websockets


async def echo(ws, path=None):
    async for message in ws:
        await ws.send(message)


async def main():
    # peer_echo_server.py [PROTOCOL...]: the subprotocols it speaks, in its order of preference.
    protocols = sys.argv[1:] or None
    async with websockets.serve(echo, "127.0.0.1", 0, max_size=None, subprotocols=protocols) as server:
        print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
        await asyncio.Future()


asyncio.run(main())
