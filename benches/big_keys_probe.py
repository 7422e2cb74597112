#!/usr/bin/env python3
"""benches/big_keys_probe.py: latency around a snapshot of a dataset with huge keys.

Usage: big_keys_probe.py PORT MODE [ELEMENTS]
MODE is `bgsave` or `bgrewriteaof`. Loads a set, a hash, a sorted set and a list of ELEMENTS
elements each (default 1,000,000) and 100,000 short strings. Then, once per huge key: a second connection
GETs a string in a loop; the probe starts the snapshot, at once writes one element to that
huge key (timing the reply), waits for the snapshot to end, and stops the loop. A last round
writes nothing. Prints one JSON line per round:
  key        the huge key written (`none` for the last round)
  write_ms   the write's round trip
  get_max_ms / get_p99_ms   the other connection's worst and 99th-percentile GET during the
             snapshot (from the snapshot command to its end)
  gets       GETs in that window
"""
import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from persist_probe import command, info_field, read_reply  # noqa: E402


def connect(port):
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return (sock, sock.makefile("rb"))


def encode(args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def pipeline(conn, cmds):
    sock, f = conn
    for i in range(0, len(cmds), 100):
        batch = cmds[i:i + 100]
        sock.sendall(b"".join(encode(c) for c in batch))
        for _ in batch:
            r = read_reply(f)
            if isinstance(r, str) and r.startswith("ERR"):
                raise RuntimeError(r)


def load(conn, n):
    cmds = []
    for i in range(0, n, 1000):
        r = range(i, min(i + 1000, n))
        cmds.append(["SADD", "big:set"] + ["m%d" % j for j in r])
        cmds.append(["HSET", "big:hash"] + [x for j in r for x in ("f%d" % j, "v")])
        cmds.append(["ZADD", "big:zset"] + [x for j in r for x in (str(j), "m%d" % j)])
        cmds.append(["RPUSH", "big:list"] + ["e%d" % j for j in r])
    for i in range(0, 100000, 1000):
        cmds.append(["MSET"] + [x for j in range(i, i + 1000) for x in ("k%d" % j, "x" * 50)])
    pipeline(conn, cmds)


def main():
    port, mode = int(sys.argv[1]), sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 1000000
    conn = connect(port)
    load(conn, n)
    busy = "rdb_bgsave_in_progress" if mode == "bgsave" else "aof_rewrite_in_progress"
    writes = [("big:set", ["SADD", "big:set", "new"]), ("big:hash", ["HSET", "big:hash", "new", "1"]),
              ("big:zset", ["ZADD", "big:zset", "1", "new"]), ("big:list", ["LPUSH", "big:list", "new"]),
              ("none", None)]
    for key, write in writes:
        stop = threading.Event()
        window = []
        lat = []

        def pinger():
            c = connect(port)
            while not stop.is_set():
                t = time.perf_counter()
                command(c, "GET", "k1")
                lat.append((t, (time.perf_counter() - t) * 1000))

        th = threading.Thread(target=pinger)
        th.start()
        time.sleep(0.2)
        window.append(time.perf_counter())
        command(conn, mode.upper())
        write_ms = 0.0
        if write:
            t = time.perf_counter()
            command(conn, *write)
            write_ms = (time.perf_counter() - t) * 1000
        while True:
            # A rewrite may be scheduled behind a save; wait for both to be over.
            if info_field(conn, busy) == "0" and info_field(conn, "aof_rewrite_scheduled") == "0":
                break
            time.sleep(0.01)
        window.append(time.perf_counter())
        stop.set()
        th.join()
        during = sorted(ms for t, ms in lat if window[0] <= t <= window[1])
        p99 = during[int(len(during) * 0.99)] if during else 0.0
        print(json.dumps({"key": key, "write_ms": round(write_ms, 2), "get_max_ms": round(during[-1] if during else 0.0, 2),
                          "get_p99_ms": round(p99, 2), "gets": len(during)}), flush=True)


if __name__ == "__main__":
    main()
