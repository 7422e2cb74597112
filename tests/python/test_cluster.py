"""redis-py's RedisCluster against a three-node Tessera cluster built with
`redis-cli --cluster create`: 50,000 keys written through a cluster pipeline and read back,
spread over all three nodes, and a node's view of the cluster as the client sees it.
"""

import subprocess
import time

import pytest
import redis
from redis.cluster import RedisCluster

from test_clients import Server


@pytest.fixture(scope="module")
def cluster():
    nodes = [Server(shards=2, cluster=True, extra=("--cluster-node-timeout", "2000")) for _ in range(3)]
    try:
        addrs = [f"127.0.0.1:{n.port}" for n in nodes]
        out = subprocess.run(["redis-cli", "--cluster", "create", *addrs, "--cluster-replicas", "0", "--cluster-yes"],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stdout + out.stderr
        deadline = time.monotonic() + 30
        while True:
            infos = [redis.Redis(host="127.0.0.1", port=n.port).cluster("info") for n in nodes]
            if all(i["cluster_state"] == "ok" and int(i["cluster_known_nodes"]) == 3 for i in infos):
                break
            assert time.monotonic() < deadline, infos
            time.sleep(0.05)
        yield nodes
    finally:
        for n in nodes:
            n.close()


@pytest.mark.parametrize("protocol", [2, 3])
def test_redis_cluster_50k_keys(cluster, protocol):
    rc = RedisCluster(host="127.0.0.1", port=cluster[0].port, protocol=protocol, decode_responses=True)
    assert len(rc.get_nodes()) == 3
    n = 50_000
    pipe = rc.pipeline()
    for i in range(n):
        pipe.set(f"py:{protocol}:{i}", i)
        if i % 5_000 == 4_999:
            assert all(pipe.execute())
    pipe.execute()
    pipe = rc.pipeline()
    for i in range(n):
        pipe.get(f"py:{protocol}:{i}")
    got = pipe.execute()
    assert got == [str(i) for i in range(n)]
    counts = [redis.Redis(host="127.0.0.1", port=s.port).dbsize() for s in cluster]
    assert all(c > 0 for c in counts), counts
    assert rc.get(f"py:{protocol}:123") == "123"
    rc.close()
