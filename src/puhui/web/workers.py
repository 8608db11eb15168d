"""Several server processes on one port, each new connection given to the least busy one.

``run_workers`` forks the workers and stays behind as their supervisor: it alone listens on
the port, accepts every connection and hands it (the file descriptor, over a Unix socket
pair) to the serving worker that holds the fewest open connections. Each worker tells it when
it starts serving and when one of its connections closes. A worker that dies after it was
serving (killed for memory, a crash in a native library) is replaced by a new one.

Why not let the workers accept for themselves: with one shared listening socket the first
worker to wake took a whole burst (22 of the benchmark's 32 keep-alive connections against 5
and 5); with one ``SO_REUSEPORT`` socket per worker the kernel hashes connections to them at
random (14 against 18 of 32 in one run, 15 against 17 in the next), and the worker with more
clients set the slowest responses while the other had spare time. Handing connections out
costs one ``sendmsg`` per connection, not per request: keep-alive connections stay where
they were put.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import selectors
import signal
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import uvicorn
from uvicorn.server import ServerState

from puhui.web.transport import OneSendHttpToolsProtocol

logger = logging.getLogger(__name__)

_CLOSED = struct.Struct("!I")
"""A worker's report: how many of its connections closed since its last report."""

STARTUP_FAILURE = 3
"""uvicorn's exit status when the app does not start (a worker's too)."""

_READY = 0
"""A report of zero closed connections: the worker has started and is serving."""

_RESTART_PAUSE = 1.0
"""Seconds between two worker starts, so a worker that keeps dying cannot make the
supervisor fork in a tight loop."""

_TAKE_AT_ONCE = 64
"""Descriptors a worker takes from its feed per wake-up before it serves the loop again."""


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP listening socket with Nagle off.

    Made here rather than by uvicorn: a socket handed over by uvicorn's supervisor comes back
    with protocol 0, the event loop then skips TCP_NODELAY, and every keep-alive response
    waits 40 ms on Nagle + delayed ACK. Accepted connections inherit TCP_NODELAY from the
    listening socket on Linux. A plain bind (no ``SO_REUSEPORT``) is refused while anything
    listens on the port, so a second server cannot quietly share it.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except BaseException:
        sock.close()
        raise
    return sock


class CountedHttpProtocol(OneSendHttpToolsProtocol):
    """The server's HTTP protocol, calling ``on_close`` once when its connection ends."""

    def __init__(
        self,
        on_close: Callable[[], None],
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._on_close: Callable[[], None] | None = on_close

    def connection_lost(self, exc: Exception | None) -> None:
        try:
            super().connection_lost(exc)
        finally:
            on_close, self._on_close = self._on_close, None
            if on_close is not None:
                on_close()


class FedServer(uvicorn.Server):
    """A worker's uvicorn server that listens on nothing: its connections come from ``feed``.

    ``feed`` is the worker's end of a Unix socket pair with the supervisor: each message
    carries one accepted connection's descriptor, served with :class:`CountedHttpProtocol`
    whatever ``config.http`` names. The worker reports closed connections back on it. When
    the supervisor is gone (the feed reads end of file) the worker shuts down as on SIGTERM,
    so no worker outlives it.
    """

    def __init__(self, config: uvicorn.Config, feed: socket.socket) -> None:
        super().__init__(config)
        self._feed = feed
        self._unreported = 0
        self._reading = False
        self._connecting: set[asyncio.Task[None]] = set()
        """Hand-overs in progress: the loop keeps only weak references to its tasks."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=[])
        loop = asyncio.get_running_loop()
        self._feed.setblocking(False)
        loop.add_reader(self._feed.fileno(), self._take, loop)
        self._reading = True
        if not self.should_exit:  # the app started: tell the supervisor to send work here
            with contextlib.suppress(OSError):
                self._feed.send(_CLOSED.pack(_READY))

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._stop_reading()
        await super().shutdown(sockets)

    def _stop_reading(self) -> None:
        if self._reading:
            asyncio.get_running_loop().remove_reader(self._feed.fileno())
            self._reading = False

    def _take(self, loop: asyncio.AbstractEventLoop) -> None:
        for _ in range(_TAKE_AT_ONCE):
            try:
                message, fds, _, _ = socket.recv_fds(self._feed, 16, 4)
            except BlockingIOError:
                return
            except OSError:
                message, fds = b"", []
            if not message and not fds:  # the supervisor has gone: stop as on SIGTERM
                self._stop_reading()
                self.should_exit = True
                return
            for fd in fds:
                task = loop.create_task(self._connect(loop, socket.socket(fileno=fd)))
                self._connecting.add(task)
                task.add_done_callback(self._connecting.discard)

    async def _connect(self, loop: asyncio.AbstractEventLoop, connection: socket.socket) -> None:
        config = self.config

        def protocol() -> CountedHttpProtocol:
            return CountedHttpProtocol(
                self._closed, config, self.server_state, self.lifespan.state, loop
            )

        try:
            await loop.connect_accepted_socket(protocol, connection)
        except OSError:  # the client went away before the worker took its connection
            connection.close()
            self._closed()

    def _closed(self) -> None:
        """Tell the supervisor; a report that does not fit now goes with the next one."""
        self._unreported += 1
        with contextlib.suppress(OSError):
            self._feed.send(_CLOSED.pack(self._unreported))
            self._unreported = 0


@dataclass(slots=True)
class _Worker:
    process: multiprocessing.process.BaseProcess
    feed: socket.socket
    """The supervisor's end of the socket pair."""
    connections: int = 0
    ready: bool = False
    """It has said it is serving (a report of zero closed connections)."""
    told_to_stop: bool = False


class WorkersEnded(RuntimeError):
    """Every worker has ended and none could be replaced, without anyone asking them to."""


class _Supervisor:
    """Accepts on ``listener`` and hands each connection to the least busy serving worker.

    A worker that ends after it was serving is replaced by a new one from ``start``; one that
    ends before it ever served (its app could not start) is not, since its replacement would
    fail the same way.
    """

    def __init__(
        self,
        listener: socket.socket,
        start: Callable[[list[socket.socket]], _Worker],
        workers: int,
    ) -> None:
        self._listener = listener
        self._start = start
        self._selector = selectors.DefaultSelector()
        self._workers: list[_Worker] = []
        """Workers whose feed is open."""
        self._ending: list[_Worker] = []
        """Workers lost (feed closed or process gone) and not reaped yet."""
        self._owed = 0
        """Replacements to start."""
        self._next_start = 0.0
        self._stopping = False
        listener.setblocking(False)
        self._selector.register(listener, selectors.EVENT_READ, None)
        for _ in range(workers):
            self._add()

    def _add(self) -> None:
        worker = self._start([w.feed for w in self._workers])
        worker.feed.setblocking(False)
        self._selector.register(worker.feed, selectors.EVENT_READ, worker)
        self._workers.append(worker)
        self._next_start = time.monotonic() + _RESTART_PAUSE
        if self._stopping:  # a SIGTERM came while it was being started
            self._tell_to_stop(worker)

    def stop(self) -> None:
        """Close the port and ask every worker to finish (SIGTERM; safe in a signal handler)."""
        self._stopping = True
        self.stop_accepting()
        for worker in self._workers + self._ending:
            self._tell_to_stop(worker)

    def stop_accepting(self) -> None:
        """Close the port: connections made now would only reach workers on their way out."""
        if self._listener.fileno() != -1:
            self._selector.unregister(self._listener)
            self._listener.close()

    def processes(self) -> list[multiprocessing.process.BaseProcess]:
        return [w.process for w in self._workers + self._ending]

    def run(self) -> None:
        """Until every worker has ended; raises :class:`WorkersEnded` if that was not asked."""
        try:
            while self._workers or self._ending or (self._owed and not self._stopping):
                for key, _ in self._selector.select(timeout=self._timeout()):
                    if key.data is None:
                        self._accept()
                    else:
                        self._read_reports(key.data)
                for worker in list(self._workers):
                    if not worker.process.is_alive():  # also reaps it
                        self._lose(worker)
                for worker in list(self._ending):
                    if not worker.process.is_alive():
                        self._ending.remove(worker)
                        self._ended(worker)
                while self._owed and not self._stopping and time.monotonic() >= self._next_start:
                    self._owed -= 1
                    self._add()
            if not self._stopping:
                raise WorkersEnded("every worker has ended and none could be replaced")
        finally:
            self.close()

    def _timeout(self) -> float:
        if self._owed and not self._stopping:
            return max(0.0, min(1.0, self._next_start - time.monotonic()))
        return 1.0

    def close(self) -> None:
        """Close the port and every feed (a worker still running then stops by itself)."""
        self._listener.close()
        for worker in list(self._workers):
            self._lose(worker)
        self._selector.close()

    def _accept(self) -> None:
        while self._listener.fileno() != -1:  # closed by a SIGTERM between two accepts
            try:
                connection, _ = self._listener.accept()
            except BlockingIOError:
                return
            except OSError as exc:  # e.g. out of descriptors: the next wake-up tries again
                logger.warning("accepting a connection failed: %s", exc)
                return
            with connection:
                self._hand_over(connection)

    def _hand_over(self, connection: socket.socket) -> None:
        # Serving workers first, least busy first; one still starting (a replacement) only
        # when none is serving, so no client waits for an app to load while another could
        # answer.
        for worker in sorted(self._workers, key=lambda w: (not w.ready, w.connections)):
            try:
                socket.send_fds(worker.feed, [b"c"], [connection.fileno()])
            except BlockingIOError:  # its feed is full: the worker is stuck; try the next
                continue
            except OSError:
                self._lose(worker)
                continue
            worker.connections += 1
            return
        logger.warning("no worker could take a new connection; it is closed")

    def _read_reports(self, worker: _Worker) -> None:
        while True:
            try:
                report = worker.feed.recv(_CLOSED.size)
            except BlockingIOError:
                return
            except OSError:
                report = b""
            if len(report) != _CLOSED.size:  # end of file: the worker has ended
                self._lose(worker)
                return
            (closed,) = _CLOSED.unpack(report)
            if closed == _READY:
                worker.ready = True
            worker.connections = max(0, worker.connections - closed)

    def _lose(self, worker: _Worker) -> None:
        """Send it nothing more; it is replaced once its process is reaped (``_ended``)."""
        if worker in self._workers:
            self._workers.remove(worker)
            self._selector.unregister(worker.feed)
            worker.feed.close()
            self._ending.append(worker)

    def _ended(self, worker: _Worker) -> None:
        pid, code = worker.process.pid, worker.process.exitcode
        how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        if self._stopping:
            return
        if worker.ready:
            logger.warning("worker %s ended (%s); starting a new one", pid, how)
            self._owed += 1
        else:
            logger.error(
                "worker %s ended (%s) before it was serving; it is not replaced, since a new "
                "one would fail the same way (see its error above)",
                pid,
                how,
            )

    def _tell_to_stop(self, worker: _Worker) -> None:
        if not worker.told_to_stop and worker.process.is_alive():
            worker.told_to_stop = True
            worker.process.terminate()


def _work(
    listener: socket.socket,
    feed: socket.socket,
    inherited: list[socket.socket],
    make_config: Callable[[], uvicorn.Config],
) -> None:
    # A replacement is forked after the supervisor set its SIGTERM handler: this process
    # stops as uvicorn says, not as the supervisor does.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # What came with the fork and is not this worker's: the listening socket (the port must
    # close when the supervisor ends) and the supervisor's ends of the other workers' pairs.
    listener.close()
    for other in inherited:
        other.close()
    server = FedServer(make_config(), feed)
    server.run()
    if not server.started:  # its app's start-up failed (logged)
        raise SystemExit(STARTUP_FAILURE)


def supervise(
    make_config: Callable[[], uvicorn.Config],
    *,
    host: str,
    port: int,
    workers: int,
    on_listening: Callable[[], None] | None = None,
) -> None:
    """Serve from ``workers`` forked processes, each running ``make_config()``'s server.

    ``make_config`` runs in each worker after the fork, so every worker builds its own app
    (engine, pools, caches). ``on_listening`` runs once the port is bound. A worker that dies
    after it was serving is replaced. Returns when every worker has ended after SIGTERM;
    raises :class:`WorkersEnded` when they ended by themselves and none could be replaced.
    """
    if workers < 1:
        raise ValueError("at least one worker")
    listener = listening_socket(host, port)
    if on_listening is not None:
        on_listening()
    context = multiprocessing.get_context("fork")

    def start(others: list[socket.socket]) -> _Worker:
        supervisor_end, worker_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        process = context.Process(
            target=_work, args=(listener, worker_end, [*others, supervisor_end], make_config)
        )
        try:
            process.start()
        except BaseException:
            supervisor_end.close()
            raise
        finally:
            worker_end.close()  # the worker holds it now
        return _Worker(process, supervisor_end)

    supervisor = _Supervisor(listener, start, workers)

    def stop(*_: object) -> None:
        supervisor.stop()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        supervisor.run()
    except KeyboardInterrupt:
        stop()
    finally:
        supervisor.close()
        for process in supervisor.processes():
            process.join()
        signal.signal(signal.SIGTERM, previous)
