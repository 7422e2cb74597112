"""redis-py against tessera: Redis(protocol=2), Redis(protocol=3), pipelines, and RedisCluster
against a single-node cluster that owns every slot.

The server binary comes from $TESSERA_BIN, else target/release/tessera-server, else
target/debug/tessera-server. Each fixture starts its own server on a free 127.0.0.1 port in a
temporary directory and stops it by pid (SIGTERM, then SIGKILL). Nothing here asserts on speed.
"""

import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import redis
from redis.cluster import RedisCluster

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60


def tessera_bin():
    env = os.environ.get("TESSERA_BIN")
    if env:
        return env
    for profile in ("release", "debug"):
        p = ROOT / "target" / profile / "tessera-server"
        if p.exists():
            return str(p)
    pytest.fail("no tessera-server binary: run `cargo build --release` or set TESSERA_BIN")


_used_ports = set()


def free_port(cluster=False):
    """A loopback port free a moment ago; for a cluster node, port + 10000 must be free too."""
    for _ in range(1000):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port in _used_ports:
            continue
        if cluster:
            if port > 55000:
                continue
            try:
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
            _used_ports.add(port + 10000)
        _used_ports.add(port)
        return port
    raise RuntimeError("no free port")


class Server:
    def __init__(self, shards=2, cluster=False, extra=()):
        self.tmp = tempfile.TemporaryDirectory(prefix="tessera-pytest-")
        self.proc = None
        last = ""
        for _ in range(5):
            self.port = free_port(cluster)
            args = [tessera_bin(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                    "--dir", self.tmp.name, "--shards", str(shards)]
            if cluster:
                args += ["--cluster-enabled", "yes",
                         "--cluster-config-file", os.path.join(self.tmp.name, "nodes.conf")]
            args += list(extra)
            self.log_path = os.path.join(self.tmp.name, f"server-{self.port}.log")
            with open(self.log_path, "wb") as log:
                self.proc = subprocess.Popen(args, cwd=self.tmp.name, stdin=subprocess.DEVNULL,
                                             stdout=log, stderr=subprocess.STDOUT)
            try:
                ok, last = self._wait_ready()
            except BaseException:
                self.close()
                raise
            if ok:
                return
            self.stop()
            if "in use" not in last:
                break
        self.tmp.cleanup()
        raise RuntimeError(f"tessera did not start: {last}")

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False, f"exited with {self.proc.returncode}: {self.log()}"
            try:
                if redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2).ping():
                    if self.proc.poll() is None:
                        return True, ""
            except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError):
                pass
            time.sleep(0.02)
        return False, f"no PONG within {START_TIMEOUT_S} s: {self.log()}"

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def close(self):
        self.stop()
        self.tmp.cleanup()


@pytest.fixture(scope="module")
def standalone():
    s = Server(shards=2)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture(scope="module")
def cluster_node():
    s = Server(shards=2, cluster=True)
    try:
        r = redis.Redis(host="127.0.0.1", port=s.port, decode_responses=True)
        assert r.execute_command("CLUSTER", "ADDSLOTSRANGE", "0", "16383") in (True, "OK")
        deadline = time.monotonic() + 30
        while "cluster_state:ok" not in r.execute_command("CLUSTER", "INFO"):
            assert time.monotonic() < deadline, "cluster_state never became ok"
            time.sleep(0.05)
        yield s
    finally:
        s.close()


def client(server, protocol):
    return redis.Redis(host="127.0.0.1", port=server.port, protocol=protocol, decode_responses=True)


@pytest.mark.parametrize("protocol", [2, 3])
def test_common_operations(standalone, protocol):
    r = client(standalone, protocol)
    r.flushall()
    assert r.ping() is True
    assert r.set("s", "hello") is True
    assert r.get("s") == "hello"
    assert r.get("missing") is None
    assert r.set("s", "x", nx=True) is None
    assert r.set("s", "world", xx=True, get=True) == "hello"
    assert r.append("s", "!") == 6
    assert r.strlen("s") == 6
    assert r.getrange("s", 0, 2) == "wor"
    assert r.setrange("s", 1, "OO") == 6
    assert r.get("s") == "wOOld!"
    assert r.incr("n") == 1
    assert r.incrby("n", 41) == 42
    assert r.decr("n") == 41
    assert r.decrby("n", 1) == 40
    assert r.incrbyfloat("f", 2.5) == 2.5
    assert r.incrbyfloat("f", "0.1") == pytest.approx(2.6)
    with pytest.raises(redis.ResponseError, match="value is not an integer or out of range"):
        r.incr("s")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'get' command"):
        r.execute_command("GET")
    assert r.mset({"a": "1", "b": "2", "c": "3"}) is True
    assert r.mget(["a", "missing", "c"]) == ["1", None, "3"]
    assert r.msetnx({"a": "9", "z": "9"}) is False
    assert r.exists("a", "b", "missing") == 2
    assert r.type("a") == "string"
    assert r.object("encoding", "a") == "int"
    assert r.object("encoding", "s") == "raw"  # APPEND and SETRANGE leave a raw string
    assert r.set("short", "abc") is True
    assert r.object("encoding", "short") == "embstr"
    assert r.set("e", "v", ex=1000) is True
    assert 990 <= r.ttl("e") <= 1000
    assert r.expireat("e", 4102444800) is True
    assert r.expiretime("e") == 4102444800
    assert r.pexpiretime("e") == 4102444800000
    assert r.expire("e", 100, gt=True) is False
    assert r.persist("e") is True
    assert r.ttl("e") == -1
    assert r.pttl("missing") == -2
    assert r.getex("e", ex=500) == "v"
    assert r.getdel("e") == "v"
    assert r.getset("a", "one") == "1"
    assert r.rename("a", "a2") is True
    assert r.renamenx("b", "a2") is False
    assert r.copy("a2", "a3") is True
    assert r.touch("a2", "a3", "missing") == 2
    assert r.set("l1", "ohmytext") and r.set("l2", "mynewtext")
    assert r.lcs("l1", "l2") == "mytext"
    assert r.lcs("l1", "l2", len=True) == 6
    assert sorted(r.keys("a*")) == ["a2", "a3"]
    assert sorted(r.scan_iter(match="l*", count=2)) == ["l1", "l2"]
    assert r.randomkey() in set(r.keys("*"))
    assert r.delete("a2", "a3", "missing") == 2
    assert r.unlink("c") == 1
    assert r.dbsize() == len(r.keys("*"))
    assert r.echo("echo") == "echo"
    assert r.flushdb() is True
    assert r.dbsize() == 0
    db1 = redis.Redis(host="127.0.0.1", port=standalone.port, protocol=protocol, db=1)
    assert db1.set("in-db1", "1") is True
    assert db1.dbsize() == 1 and r.dbsize() == 0
    assert db1.flushdb() is True


@pytest.mark.parametrize("protocol", [2, 3])
def test_binary_values(standalone, protocol):
    r = redis.Redis(host="127.0.0.1", port=standalone.port, protocol=protocol)
    blob = bytes(range(256)) * 40
    assert r.set(b"bin\x00key", blob) is True
    assert r.get(b"bin\x00key") == blob
    assert r.object("encoding", b"bin\x00key") == b"raw"


def test_resp3_reply_types(standalone):
    r = client(standalone, 3)
    r.flushall()
    r.set("x", "ohmytext")
    r.set("y", "mynewtext")
    idx = r.execute_command("LCS", "x", "y", "IDX")
    assert isinstance(idx, dict) and idx["len"] == 6, idx
    hello = r.execute_command("HELLO", "3")
    assert hello["proto"] == 3, hello


@pytest.mark.parametrize("protocol", [2, 3])
def test_pipeline(standalone, protocol):
    r = client(standalone, protocol)
    r.flushall()
    pipe = r.pipeline(transaction=False)
    expected = []
    for i in range(5000):
        key = f"p:{i % 97}"
        pipe.incr(key)
        pipe.get(key)
        pipe.echo(str(i))
        expected.append(("incr", key))
        expected.append(("get", key))
        expected.append(("echo", str(i)))
    results = pipe.execute()
    assert len(results) == len(expected)
    counts = {}
    for (kind, arg), got in zip(expected, results):
        if kind == "incr":
            counts[arg] = counts.get(arg, 0) + 1
            assert got == counts[arg]
        elif kind == "get":
            assert got == str(counts[arg])
        else:
            assert got == arg


@pytest.mark.parametrize("protocol", [2, 3])
def test_redis_cluster_client(cluster_node, protocol):
    rc = RedisCluster(host="127.0.0.1", port=cluster_node.port, protocol=protocol, decode_responses=True)
    try:
        for i in range(200):
            assert rc.set(f"user:{protocol}:{i}", str(i)) is True
        for i in range(200):
            assert rc.get(f"user:{protocol}:{i}") == str(i)
        assert rc.keyslot("foo") == 12182
        assert rc.mset_nonatomic({"a": "1", "b": "2", "{t}c": "3"}) == [True, True, True]
        assert rc.mget_nonatomic(["a", "b", "{t}c", "missing"]) == ["1", "2", "3", None]
        assert rc.mset({"{t}x": "1", "{t}y": "2"}) is True
        with pytest.raises(redis.ResponseError, match="Keys in request don't hash to the same slot"):
            # redis-py refuses cross-slot MSET itself; ask the node directly for its CROSSSLOT.
            rc.get_default_node().redis_connection.execute_command("MSET", "a", "1", "b", "2")
        pipe = rc.pipeline()
        for i in range(100):
            pipe.incr(f"counter:{protocol}:{i % 10}")
        results = pipe.execute()
        assert results[-10:] == [10] * 10
        assert rc.cluster_keyslot("{t}x") == rc.keyslot("t")
        assert int(rc.cluster_countkeysinslot(rc.keyslot("t"))) >= 3
        info = rc.cluster_info()
        assert info["cluster_state"] == "ok"
        assert rc.delete("a") == 1
    finally:
        rc.close()
