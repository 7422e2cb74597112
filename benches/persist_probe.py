#!/usr/bin/env python3
"""benches/persist_probe.py: one BGSAVE of a running server, watched from outside.

Usage: persist_probe.py PORT PID
Sends BGSAVE, then every 10 ms samples the server's memory and asks INFO persistence whether
the save still runs. Prints one line of JSON:
  seconds        BGSAVE sent -> rdb_bgsave_in_progress:0 seen (10 ms resolution)
  rss_before_kb  VmRSS of PID just before BGSAVE
  rss_peak_kb    highest VmRSS of PID during the save
  pss_peak_kb    highest Pss of PID plus its children (a forked save child shares pages with
                 its parent: Pss counts each shared page once, which VmRSS sums would not)
  status         rdb_last_bgsave_status afterwards
"""
import json
import socket
import sys
import time


def command(conn, *args):
    sock, f = conn
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    sock.sendall(out)
    return read_reply(f)


def read_reply(f):
    line = f.readline()
    kind, rest = line[:1], line[1:-2]
    if kind in (b"+", b"-", b":"):
        return rest.decode()
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)
        return data[:-2].decode(errors="replace")
    raise RuntimeError("unexpected reply %r" % line)


def info_field(sock, name):
    text = command(sock, "INFO", "persistence")
    for line in text.splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1].strip()
    raise RuntimeError("INFO has no " + name)


def status_kb(pid, field):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def pss_kb(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def main():
    port, pid = int(sys.argv[1]), int(sys.argv[2])
    s = socket.create_connection(("127.0.0.1", port))
    sock = (s, s.makefile("rb"))
    rss_before = status_kb(pid, "VmRSS")
    pss_before = pss_kb(pid)
    t0 = time.monotonic()
    reply = command(sock, "BGSAVE")
    if not reply.startswith("Background saving started"):
        raise SystemExit("BGSAVE: %s" % reply)
    rss_peak, pss_peak = rss_before, pss_before
    while True:
        rss_peak = max(rss_peak, status_kb(pid, "VmRSS"))
        pss_peak = max(pss_peak, pss_kb(pid) + sum(pss_kb(c) for c in children(pid)))
        if info_field(sock, "rdb_bgsave_in_progress") == "0":
            break
        time.sleep(0.01)
    seconds = time.monotonic() - t0
    print(json.dumps({
        "seconds": round(seconds, 3),
        "rss_before_kb": rss_before,
        "rss_peak_kb": rss_peak,
        "pss_before_kb": pss_before,
        "pss_peak_kb": pss_peak,
        "status": info_field(sock, "rdb_last_bgsave_status"),
    }))


if __name__ == "__main__":
    main()
