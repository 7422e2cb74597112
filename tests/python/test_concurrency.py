"""Many redis-py clients at once against a two-shard tessera: blocking pops served exactly once
and in the order clients blocked, a WATCH-based check-and-set counter reaching the exact total,
and pub/sub reaching subscribers on every shard in publish order. Connections are spread over
both shards by the kernel (SO_REUSEPORT), so most of these cross the shard mesh.
"""

import threading
import time

import pytest
import redis

from test_clients import Server


@pytest.fixture(scope="module")
def server():
    s = Server(shards=2)
    try:
        yield s
    finally:
        s.close()


def client(server):
    return redis.Redis(host="127.0.0.1", port=server.port, decode_responses=True, socket_timeout=30)


def wait_blocked(r, n, timeout_s=10):
    deadline = time.monotonic() + timeout_s
    while r.info("clients")["blocked_clients"] != n:
        assert time.monotonic() < deadline, f"want {n} blocked clients"
        time.sleep(0.005)


@pytest.mark.parametrize("key", ["fifo:a", "fifo:b", "fifo:c"])
def test_blpop_waiters_served_in_blocking_order(server, key):
    ctl = client(server)
    ctl.delete(key)
    n = 20
    got = [None] * n
    threads = []
    for i in range(n):
        def run(i=i):
            got[i] = client(server).blpop([key], timeout=20)
        t = threading.Thread(target=run)
        t.start()
        threads.append(t)
        wait_blocked(ctl, i + 1)
    for i in range(n):
        ctl.rpush(key, f"e{i}")
    for t in threads:
        t.join(30)
    assert got == [(key, f"e{i}") for i in range(n)]


def test_blpop_every_element_once_under_load(server):
    ctl = client(server)
    queues = [f"load:{i}" for i in range(4)]
    ctl.delete(*queues)
    per_producer = 500
    producers = 4
    total = per_producer * producers
    received = []
    lock = threading.Lock()
    stop = threading.Event()

    def consume():
        r = client(server)
        while not stop.is_set():
            item = r.blpop(queues, timeout=0.2)
            if item is not None:
                with lock:
                    received.append(item[1])

    def produce(p):
        r = client(server)
        for j in range(per_producer):
            r.rpush(queues[(p + j) % len(queues)], f"{p}:{j}")

    consumers = [threading.Thread(target=consume) for _ in range(10)]
    for t in consumers:
        t.start()
    prods = [threading.Thread(target=produce, args=(p,)) for p in range(producers)]
    for t in prods:
        t.start()
    for t in prods:
        t.join(60)
    deadline = time.monotonic() + 30
    while True:
        with lock:
            if len(received) >= total:
                break
        assert time.monotonic() < deadline, f"received {len(received)} of {total}"
        time.sleep(0.01)
    stop.set()
    for t in consumers:
        t.join(30)
    assert sorted(received) == sorted(f"{p}:{j}" for p in range(producers) for j in range(per_producer))
    assert sum(ctl.llen(q) for q in queues) == 0


def test_watch_check_and_set_counter(server):
    ctl = client(server)
    ctl.set("cas:counter", 0)
    clients, per_client = 20, 25

    def work():
        r = client(server)
        done = 0
        while done < per_client:
            with r.pipeline() as p:
                try:
                    p.watch("cas:counter")
                    v = int(p.get("cas:counter"))
                    p.multi()
                    p.set("cas:counter", v + 1)
                    p.execute()
                    done += 1
                except redis.WatchError:
                    continue

    threads = [threading.Thread(target=work) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert int(ctl.get("cas:counter")) == clients * per_client


def test_pubsub_reaches_every_shard_in_order(server):
    subs = []
    for _ in range(8):
        p = client(server).pubsub()
        p.subscribe("news")
        assert p.get_message(timeout=5)["type"] == "subscribe"
        subs.append(p)
    pub = client(server)
    counts = pub.pubsub_numsub("news")
    assert counts == [("news", 8)]
    n = 200
    for i in range(n):
        assert pub.publish("news", f"m{i}") == 8
    for p in subs:
        got = []
        deadline = time.monotonic() + 10
        while len(got) < n and time.monotonic() < deadline:
            m = p.get_message(timeout=1)
            if m and m["type"] == "message":
                got.append(m["data"])
        assert got == [f"m{i}" for i in range(n)]
        p.close()


def test_keyspace_notifications_for_expiring_sessions(server):
    ctl = client(server)
    ctl.config_set("notify-keyspace-events", "Ex")
    try:
        p = client(server).pubsub()
        p.psubscribe("__keyevent@0__:expired")
        assert p.get_message(timeout=5)["type"] == "psubscribe"
        keys = [f"session:{i}" for i in range(20)]
        for k in keys:
            ctl.set(k, "v", px=50)
        seen = set()
        deadline = time.monotonic() + 10
        while len(seen) < len(keys) and time.monotonic() < deadline:
            m = p.get_message(timeout=1)
            if m and m["type"] == "pmessage":
                seen.add(m["data"])
        assert seen == set(keys)
        p.close()
    finally:
        ctl.config_set("notify-keyspace-events", "")
