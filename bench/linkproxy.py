"""A bad link, as a patrol car has, between a laptop and the agency server: a TCP proxy on a
loopback port (this kernel has no netem) that adds round-trip time, caps the bandwidth, cuts
a chosen answer off mid-response, and blacks out for seconds at a time.

    with LinkProxy("127.0.0.1", 8000, rtt_s=0.1, rate_bps=5e6) as link:
        online.login(data_dir, link.url, ...)  # the laptop talks to link.url

The bandwidth is one pipe per direction, shared by every connection; each new connection
first pays one round trip (the TCP handshake over the link). A blackout either stalls (a dead
zone: nothing moves, new connections wait, and everything resumes when it ends, as TCP does
after a short outage) or refuses (the port closes, so new connections are refused, and every
open one is cut). It reads only the request line of what passes (plain HTTP/1.1, one request
at a time per connection, as `requests` sends), to count requests and to find the answer to
cut. It runs its own asyncio loop in a thread, so tests and benchmarks drive it from plain code.
"""

import asyncio
import re
import threading
import time
from dataclasses import dataclass, field

REQUEST_LINE = re.compile(rb"(?:GET|POST|PUT|PATCH|DELETE|HEAD) (\S+) HTTP/1\.[01]\r\n")
CHUNK = 16384


@dataclass
class Request:
    """One request that crossed the link, and how long its answer took to start coming back."""
    target: str  # path and query, e.g. /v1/pull?after=0&limit=2000
    sent_at: float  # time.monotonic() when its first bytes reached the proxy
    silence_s: float | None = None  # the longest the laptop went without a byte of the
    # answer (to the first byte, or between two): what a read timeout measures
    cut: bool = False  # its answer was cut off mid-response


@dataclass
class _Pipe:
    """One direction of the link: propagation delay plus a transmission rate."""
    delay_s: float
    rate_bps: float | None
    free_at: float = 0.0

    async def carry(self, size: int, arrived: float, up: asyncio.Event) -> None:
        await _sleep_until(arrived + self.delay_s)
        await up.wait()
        if self.rate_bps:
            self.free_at = max(time.monotonic(), self.free_at) + size * 8 / self.rate_bps
            await _sleep_until(self.free_at)


@dataclass
class _Cut:
    needle: str
    skip: int  # matching requests to let through first
    after_bytes: int


@dataclass(eq=False)  # kept in a set, by identity
class _Connection:
    writers: list = field(default_factory=list)
    request: Request | None = None
    answered: int = 0  # bytes of the current answer delivered
    last_byte_at: float = 0.0
    cut_after: int | None = None
    closed: bool = False

    def close(self, abort: bool = False) -> None:
        """End the connection on both sides: at once (a cut), or after what is buffered."""
        self.closed = True
        for writer in self.writers:
            if abort:
                writer.transport.abort()
            else:
                writer.close()


class LinkProxy:
    def __init__(self, host: str, port: int, *, rtt_s: float = 0.0,
                 rate_bps: float | None = None, blackout_s: float = 0.0,
                 blackout_every_s: float = 0.0, first_blackout_s: float | None = None,
                 blackout_mode: str = "stall"):
        """Forward to host:port. With blackout_every_s, the link goes dark for blackout_s
        every blackout_every_s, the first time first_blackout_s after start (default: at the
        end of the first period)."""
        if blackout_mode not in ("stall", "refuse"):
            raise ValueError(f"blackout_mode is 'stall' or 'refuse', not {blackout_mode!r}")
        self.target = (host, port)
        self.rtt_s = rtt_s
        self.up_pipe = _Pipe(rtt_s / 2, rate_bps)
        self.down_pipe = _Pipe(rtt_s / 2, rate_bps)
        self.blackout_s, self.blackout_every_s = blackout_s, blackout_every_s
        self.first_blackout_s = (blackout_every_s - blackout_s if first_blackout_s is None
                                 else first_blackout_s)
        self.blackout_mode = blackout_mode
        self.requests: list[Request] = []
        self.blackouts: list[tuple[float, float]] = []  # (start, end), time.monotonic()
        self.port = 0
        self._cuts: list[_Cut] = []
        self._open: set[_Connection] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="link-proxy",
                                        daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._link_up: asyncio.Event | None = None
        self._schedule: asyncio.Task | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- control, from any thread ------------------------------------------------------------

    def start(self) -> "LinkProxy":
        self._thread.start()
        self._call(self._start())
        return self

    def stop(self) -> None:
        self._call(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> "LinkProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def cut_response(self, needle: str, *, after_bytes: int, skip: int = 0) -> None:
        """Cut the connection after `after_bytes` bytes of the answer to the next request
        whose target contains `needle`, letting `skip` such requests through first."""
        self._loop.call_soon_threadsafe(self._cuts.append, _Cut(needle, skip, after_bytes))

    def black_out(self, seconds: float) -> None:
        """Go dark now, for `seconds`: returns once the link is dark, so what the caller
        sends next meets the blackout (the link's own loop closes the port)."""
        dark = threading.Event()
        asyncio.run_coroutine_threadsafe(self._black_out(seconds, dark), self._loop)
        dark.wait(timeout=30)

    def targets(self, needle: str) -> list[str]:
        """The targets of the requests so far that contain `needle`, in order."""
        return [r.target for r in list(self.requests) if needle in r.target]

    def _call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    # --- the link, on its own loop -----------------------------------------------------------

    async def _start(self) -> None:
        self._link_up = asyncio.Event()
        self._link_up.set()
        await self._listen()
        if self.blackout_every_s and self.blackout_s:
            self._schedule = asyncio.create_task(self._blackouts())  # held: tasks are weak

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port,
                                                  reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        if self._server:
            self._server.close()
        for conn in list(self._open):
            conn.close(abort=True)
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _blackouts(self) -> None:
        await asyncio.sleep(self.first_blackout_s)
        while True:
            started = time.monotonic()
            await self._black_out(self.blackout_s)
            await _sleep_until(started + self.blackout_every_s)

    async def _black_out(self, seconds: float, dark: threading.Event | None = None) -> None:
        start = time.monotonic()
        self._link_up.clear()
        if self.blackout_mode == "refuse":
            self._server.close()
            for conn in list(self._open):
                conn.close(abort=True)
        if dark is not None:
            dark.set()
        await asyncio.sleep(seconds)
        if self.blackout_mode == "refuse":
            await self._listen()
        self._link_up.set()
        self.blackouts.append((start, time.monotonic()))

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter):
        conn = _Connection(writers=[client_w])
        self._open.add(conn)
        try:
            await self._link_up.wait()
            await asyncio.sleep(self.rtt_s)  # the handshake crosses the link too
            server_r, server_w = await asyncio.open_connection(*self.target)
            conn.writers.append(server_w)
            await asyncio.gather(self._relay(conn, client_r, server_w, self.up_pipe, True),
                                 self._relay(conn, server_r, client_w, self.down_pipe, False))
        except (OSError, asyncio.CancelledError):  # the server hung up, or the proxy stops
            conn.close(abort=True)
        finally:
            self._open.discard(conn)
            conn.close()

    async def _relay(self, conn: _Connection, reader, writer, pipe: _Pipe, upstream: bool):
        """Read from one side as fast as it sends; deliver each chunk when the link would."""
        queue: asyncio.Queue = asyncio.Queue()

        async def read():
            while data := await reader.read(CHUNK):
                queue.put_nowait((time.monotonic(), data))
            queue.put_nowait((time.monotonic(), b""))

        reading = asyncio.create_task(read())
        try:
            while not conn.closed:
                arrived, data = await queue.get()
                if upstream and data:
                    self._saw_request(conn, data, arrived)
                await pipe.carry(len(data), arrived, self._link_up)
                if not data or conn.closed:
                    break
                if upstream:
                    writer.write(data)
                elif await self._deliver(conn, data, writer):
                    break
                await writer.drain()
        finally:
            reading.cancel()
            conn.close()  # either side closing ends it: HTTP needs no half-closed connection

    def _saw_request(self, conn: _Connection, data: bytes, arrived: float) -> None:
        match = REQUEST_LINE.search(data)
        if not match:
            return
        target = match.group(1).decode("latin-1")
        conn.request, conn.answered, conn.cut_after = Request(target, arrived), 0, None
        self.requests.append(conn.request)
        for cut in self._cuts:
            if cut.needle in target:
                if cut.skip:
                    cut.skip -= 1
                else:
                    self._cuts.remove(cut)
                    conn.cut_after = cut.after_bytes
                break

    async def _deliver(self, conn: _Connection, data: bytes, writer) -> bool:
        """Write an answer's bytes to the laptop; True when this cut the connection."""
        request, now = conn.request, time.monotonic()
        if request:
            silence = now - (conn.last_byte_at if conn.answered else request.sent_at)
            request.silence_s = max(request.silence_s or 0.0, silence)
        conn.last_byte_at = now
        if conn.cut_after is not None and conn.answered + len(data) > conn.cut_after:
            writer.write(data[:conn.cut_after - conn.answered])
            await writer.drain()
            if request:
                request.cut = True
            conn.close()  # the part written reaches the laptop, then the connection ends
            return True
        conn.answered += len(data)
        writer.write(data)
        return False


async def _sleep_until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)
