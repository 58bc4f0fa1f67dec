"""How gunicorn.conf.py makes gunicorn listen, seen as an operator sees it: the sockets in /proc/net, which
worker answers, whether a second server starts. Run with the real gunicorn and the repository's file, over a
plain WSGI app (tests/fixtures/plain_wsgi.py) that names the worker answering."""
import os
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from http.client import HTTPConnection
from pathlib import Path

import requests

from tests.fixtures.gunicorn_server import GUNICORN, ROOT, children, free_port, stop
from tests.fixtures.waiting import until

APP = "tests.fixtures.plain_wsgi:app"
LISTEN_TCP = "0A"  # /proc/net/tcp's state of a listening socket
ACCEPTING = "00010000"  # /proc/net/unix's flag of one (__SO_ACCEPTCON)


def _start(bind: str, workers: int, log: Path) -> subprocess.Popen:
    with log.open("ab") as output:
        return subprocess.Popen([str(GUNICORN), "-c", "gunicorn.conf.py", "-b", bind, APP], cwd=ROOT,
                                env={**os.environ, "WEB_CONCURRENCY": str(workers)}, stdout=output,
                                stderr=subprocess.STDOUT, start_new_session=True)


def _tcp_listening(port: int) -> list[list[str]]:
    """The sockets listening on the port, as /proc/net/tcp and tcp6 list them (local address, state, ..., inode)."""
    rows = [line.split() for name in ("tcp", "tcp6") for line in Path(f"/proc/net/{name}").read_text().splitlines()[1:]]
    return [row for row in rows if row[1].endswith(f":{port:04X}") and row[3] == LISTEN_TCP]


def _tcp_listeners(port: int) -> int:
    return len(_tcp_listening(port))


def _unix_listeners(path: str) -> int:
    """Sockets listening at the path, as /proc/net/unix lists them (flags, then the path last)."""
    rows = [line.split() for line in Path("/proc/net/unix").read_text().splitlines()[1:]]
    return sum(1 for row in rows if len(row) == 8 and row[7] == path and row[3] == ACCEPTING)


def _answering_pid(base: str) -> int | None:
    """The pid of the worker that answered a request on a connection of its own (None: nobody yet)."""
    try:
        return int(requests.get(base, headers={"Connection": "close"}, timeout=5).text)
    except requests.ConnectionError:
        return None


@contextmanager
def _server(workers: int, bind: str | None = None) -> Iterator[tuple[subprocess.Popen, int, Path]]:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="gunicorn-settings-") as folder:
        log = Path(folder) / "gunicorn.log"
        process = _start(bind or f"127.0.0.1:{port}", workers, log)
        try:
            yield process, port, log
        finally:
            stop(process)


def test_each_worker_listens_on_a_socket_of_its_own_and_connections_spread_over_them():
    with _server(3) as (process, port, log):
        assert until(lambda: _tcp_listeners(port) == 3), f"not three listening sockets:\n{log.read_text()}"
        base = f"http://127.0.0.1:{port}/"
        answering = {until(lambda: _answering_pid(base)) for _ in range(30)}
        assert answering <= children(process.pid)
        assert len(answering) >= 2  # 30 connections on one of three sockets: odds of 1 in 7 * 10**13


def test_a_second_server_on_the_same_port_does_not_start_and_the_first_keeps_serving():
    with _server(3) as (first, port, log):
        assert until(lambda: _tcp_listeners(port) == 3), f"not the first server's sockets:\n{log.read_text()}"
        second = _start(f"127.0.0.1:{port}", 3, log)
        try:
            assert second.wait(timeout=30) != 0
        finally:
            stop(second)
        assert f"Cannot listen on 127.0.0.1:{port}" in log.read_text()
        assert _tcp_listeners(port) == 3
        assert _answering_pid(f"http://127.0.0.1:{port}/") in children(first.pid)


def test_one_worker_listens_on_the_masters_socket():
    """Which outlives the worker: `make run`'s one process is renewed (SIGHUP) without refusing connections."""
    with _server(1) as (process, port, _log):
        assert until(lambda: _answering_pid(f"http://127.0.0.1:{port}/")), "no answer"
        assert _tcp_listeners(port) == 1
        held = {os.readlink(fd) for fd in Path(f"/proc/{process.pid}/fd").iterdir()}
        assert {f"socket:[{row[9]}]" for row in _tcp_listening(port)} <= held


class _UnixConnection(HTTPConnection):
    def __init__(self, path: str):
        super().__init__("localhost", timeout=5)
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(5)
        self.sock.connect(self.path)


def _unix_get(path: str) -> int | None:
    connection = _UnixConnection(path)
    try:
        connection.request("GET", "/")
        return int(connection.getresponse().read())
    except (FileNotFoundError, ConnectionRefusedError):
        return None
    finally:
        connection.close()


def test_a_unix_socket_is_one_socket_that_every_worker_serves_from():
    """Each worker would otherwise replace the socket's file with its own, leaving the others' unreachable."""
    with tempfile.TemporaryDirectory(prefix="gunicorn-unix-") as folder:
        path = f"{folder}/portal.sock"
        with _server(3, f"unix:{path}") as (process, _port, log):
            assert until(lambda: len(children(process.pid)) == 3), f"not three workers:\n{log.read_text()}"
            assert until(lambda: _unix_get(path)) in children(process.pid)
            assert _unix_listeners(path) == 1


def test_a_reload_leaves_every_new_worker_listening_on_its_own_socket():
    with _server(3) as (process, port, log):
        assert until(lambda: _tcp_listeners(port) == 3), f"not three listening sockets:\n{log.read_text()}"
        _reload(process)
        assert until(lambda: _tcp_listeners(port) == 3), f"not three sockets after the reload:\n{log.read_text()}"
        assert _answering_pid(f"http://127.0.0.1:{port}/") in children(process.pid)


def test_a_reload_keeps_a_unix_socket_shared():
    """The reload reads gunicorn.conf.py again, which asks for a socket per worker: on_reload keeps the start's."""
    with tempfile.TemporaryDirectory(prefix="gunicorn-unix-") as folder:
        path = f"{folder}/portal.sock"
        with _server(3, f"unix:{path}") as (process, _port, log):
            assert until(lambda: _unix_get(path)), f"no answer:\n{log.read_text()}"
            _reload(process)
            assert until(lambda: len(children(process.pid)) == 3), f"not three new workers:\n{log.read_text()}"
            assert until(lambda: _unix_get(path)) in children(process.pid)
            assert _unix_listeners(path) == 1


def _reload(process: subprocess.Popen) -> None:
    """SIGHUP, and wait until every old worker is gone."""
    before = children(process.pid)
    process.send_signal(signal.SIGHUP)
    assert until(lambda: not (before & children(process.pid))), "the old workers did not stop"
