"""A TCP proxy that delays every chunk by a fixed time in both directions (what Toxiproxy's
`latency` toxic does), for the T8 race under a slow PostgreSQL. Loopback only; stops when
killed. Usage: latency_proxy.py LISTEN_PORT TARGET_PORT DELAY_MS"""
import asyncio, sys

LISTEN, TARGET, DELAY = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) / 1000.0

async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            await asyncio.sleep(DELAY)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()

async def handle(client_r, client_w):
    try:
        server_r, server_w = await asyncio.open_connection("127.0.0.1", TARGET)
    except OSError:
        client_w.close()
        return
    await asyncio.gather(pipe(client_r, server_w), pipe(server_r, client_w))

async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", LISTEN)
    async with server:
        await server.serve_forever()

asyncio.run(main())
