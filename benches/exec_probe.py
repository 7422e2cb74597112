#!/usr/bin/env python3
"""benches/exec_probe.py PORT [CLIENTS] [SECONDS]: cross-shard transactions from CLIENTS
connections (threads) for SECONDS: each sends MULTI, INCR a, INCR b, EXEC in one write and
reads the four replies, with `a` and `b` in slots that even and odd shard counts split (slot
% 2 differs), so on a 2-shard Tessera every EXEC spans both shards. Prints one JSON line:
tx_per_s, p50_ms, p99_ms.

Owns: its connections. Never: touches keys other than its own `exec:*` pairs."""
import json
import socket
import sys
import threading
import time


def crc16(data):
    """CRC16-CCITT (XMODEM), as Redis Cluster hashes keys."""
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def key_with_parity(prefix, parity):
    n = 0
    while crc16(f"{prefix}{n}".encode()) % 16384 % 2 != parity:
        n += 1
    return f"{prefix}{n}"


def bulk(s):
    return f"${len(s)}\r\n{s}\r\n"


def main():
    port = int(sys.argv[1])
    clients = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 3.0
    lat, lock = [], threading.Lock()
    start = threading.Barrier(clients)

    def worker(t):
        a, b = key_with_parity(f"exec:a{t}:", 0), key_with_parity(f"exec:b{t}:", 1)
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        f = s.makefile("rb")
        req = ("*1\r\n" + bulk("MULTI") + "*2\r\n" + bulk("INCR") + bulk(a) + "*2\r\n" + bulk("INCR") + bulk(b) +
               "*1\r\n" + bulk("EXEC")).encode()
        mine = []
        start.wait()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            t0 = time.perf_counter()
            s.sendall(req)
            # +OK, +QUEUED, +QUEUED, then *2 and two integers.
            replies = [f.readline() for _ in range(6)]
            if replies[3] != b"*2\r\n":
                raise SystemExit(f"EXEC answered {replies[3]!r}")
            mine.append(time.perf_counter() - t0)
        with lock:
            lat.extend(mine)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lat.sort()
    print(json.dumps({"tx_per_s": round(len(lat) / seconds), "p50_ms": round(lat[len(lat) // 2] * 1e3, 3),
                      "p99_ms": round(lat[int(len(lat) * 0.99)] * 1e3, 3)}))


if __name__ == "__main__":
    main()
