"""Workflow replay: an operation of the simulator (a boot, a delete, ...) played as real traffic.

Every step of the operation's workflow (`sim.workflows`) becomes the real exchange it stands for,
between the sites the deployment model gives its roles, across the emulated WAN:
- Call / Cast: an oslo.messaging call or cast from the client role's site to an RPC server of the
  server role at its site, through the bus (the scenario's broker; a site's connection to it crosses a
  relay with the route's shape, `lab.relay.LinkShape.of_path`). The server sleeps its station's
  service time and runs the call's inner steps before it replies; a cast's operation goes on once the
  server has processed it.
- Http / Db (and the image metadata of FetchImage): request and response of the simulator's sizes
  over a kept-alive TCP connection (keystoneauth and SQLAlchemy keep theirs) to a server that sleeps
  the service time, through a relay with the shape of the route between the two sites.
- FetchImage's data: the image's bytes over TCP from the image store's site, through a relay whose
  way back carries the route's bottleneck bandwidth.
- Notify: a real notification, waited for by nobody; Local: the host's own work, slept.
- Authenticate, ValidateToken: steady state — tokens are cached (keystonemiddleware's cache lasts
  300 s); SelectHost: the scheduler's filtering, no exchange.
Operations run one after the other (Rally's `times` with concurrency 1), so no queueing is measured:
the replay checks the simulator's workflow and network, not its queueing of concurrent requests.

All of it runs in this process (the roles as oslo.messaging clients and servers on one transport per
site, the TCP servers as threads): one machine, one clock, and nothing left behind (context managers).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from wanstack.lab.rabbit import RabbitNode
from wanstack.lab.relay import DelayRelay, LinkShape
from wanstack.scenario.build import Infrastructure
from wanstack.scenario.services import Service
from wanstack.scenario.workload import Operation as WorkloadOperation
from wanstack.scenario.workload import OperationKind
from wanstack.sim import workflows as wf
from wanstack.sim.crossings import layout
from wanstack.sim.engine import Engine, SimOptions
from wanstack.sim.host import BenchHost
from wanstack.sim.openstack import workflows
from wanstack.sim.params import Params
from wanstack.sim.stations import Station
from wanstack.sim.steps import Steps, Then, every_step, roles_of, walk
from wanstack.sim.workflows import Role, Step

# Request size, response size, service ms, and a ticket: when not 0, the server tells the replay the
# request has arrived (`_Server.arrived`) before it answers — a request `answered_later`, whose client
# goes on without waiting for the answer (read before the connection's next request).
HEADER = struct.Struct(">IIfI")
DEFAULT_IMAGE = "cirros"  # what a workload's boot uses unless it names another


class _Answer(socketserver.BaseRequestHandler):
    """A request/response server: reads a request of the size its header says, sleeps the service
    time, answers that many bytes. One connection carries many requests (kept alive)."""

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with contextlib.suppress(OSError):
            while header := _read(sock, HEADER.size):
                request, response, service_ms, ticket = HEADER.unpack(header)
                _read(sock, request)
                if ticket:
                    assert isinstance(self.server, _Server)
                    self.server.arrived(ticket)
                if service_ms:
                    time.sleep(service_ms / 1000.0)
                sock.sendall(b"r" * max(response, 1))


def _service_ms(station: Station | None) -> float:
    return station.service_ms if station is not None else 0.0


def _read(sock: socket.socket, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            return b""
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    arrived: Callable[[int], None] = staticmethod(lambda ticket: None)


@dataclass
class ReplayResult:
    """A replayed operation at `site`: each successful run's latency (ms, as its client saw it) and the failed
    runs by exception name."""

    op: str
    site: str
    latencies_ms: list[float]
    failures: dict[str, int]


class Replay:
    """Replays `op` at `site` of `infra` on this machine; use as a context manager, then `run()`."""

    def __init__(
        self, infra: Infrastructure, op: OperationKind, site: str, params: Params, image: str = DEFAULT_IMAGE
    ) -> None:
        placement = infra.placement
        if len(placement.regions) > 1 or len(placement.sites_of(Service.RPC_BUS)) > 1:
            raise ValueError(
                "the replay runs on one broker: models with a bus per cell or region are simulated"
            )
        self.infra = infra
        self.op = op
        self.steps = workflows(infra.scenario.openstack)[op]
        self._visible_at: float | None = None  # when the running operation's client saw it done
        self.site = site
        self.params = params
        roles, buses = layout(infra, site, params)
        self.roles = roles.of(site)
        self.bus_site = buses.rpc.bus_for(site)
        sizes = {img.name: img.size_mb * 1e6 for img in infra.scenario.workload.images}
        self.image_bytes = int(sizes[image])
        self._stack = contextlib.ExitStack()
        self._transports: dict[str, Any] = {}
        self._urls: dict[str, str] = {}
        self._clients: dict[tuple[str, Role], Any] = {}
        # Connections per thread (parallel branches each have their own, as separate greenthreads of
        # nova-compute would) over one relay per route; branches run on this pool.
        self._connections: dict[tuple[str, str, int], socket.socket] = {}
        self._relays: dict[tuple[str, str], DelayRelay] = {}
        self._lock = threading.Lock()
        self._branches = ThreadPoolExecutor(max_workers=max(1, _widest(self.steps)))
        self._cast_done: dict[str, threading.Event] = {}
        # A call's inner steps, by the call's token, for its server to run before it replies.
        self._inner: dict[str, Steps[None]] = {}
        self._answer_port = 0
        self._arrivals: dict[int, threading.Event] = {}  # requests answered later, by ticket
        self._unread: dict[socket.socket, list[int]] = {}  # their answers' sizes, per connection

    # --- set-up ----------------------------------------------------------------------------------
    def __enter__(self) -> Replay:
        try:
            self._start()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _shape(self, a: str, b: str) -> LinkShape:
        """The path from `a` to `b` as a relay applies it (every field of its links, each way), its
        draws seeded from the scenario's run seed and the pair, as the other real engines'."""
        return LinkShape.of_path(self.infra.topology, a, b, seed=self.infra.scenario.run.seed)

    def _start(self) -> None:
        import oslo_messaging
        from oslo_config import cfg

        # py-amqp warns of every delivery that races a channel's closing at the end: not news.
        logging.getLogger("amqp").setLevel(logging.ERROR)

        self.broker = self._stack.enter_context(RabbitNode(name="wanstack-bench-replay"))
        answer = _Server(("127.0.0.1", 0), _Answer)
        answer.arrived = self._arrived
        self._answer_port = answer.server_address[1]
        threading.Thread(target=answer.serve_forever, daemon=True).start()
        self._stack.callback(self._branches.shutdown)
        self._stack.callback(answer.server_close)
        self._stack.callback(answer.shutdown)
        steps = self.steps
        roles = {role for step in every_step(steps) for role in roles_of(step)}
        sites = {self.roles[r][0] for r in roles | {Role.GLANCE, Role.IMAGE_STORE}} | {self.site}
        for s in sorted(sites):
            if s == self.bus_site:
                url = self.broker.url
            else:
                # The pair may also have a request relay (`_connection`): this one draws its own.
                relay = DelayRelay(self.broker.port, self._shape(s, self.bus_site).reseeded("bus"))
                url = f"rabbit://guest:guest@127.0.0.1:{self._stack.enter_context(relay).port}/"
            self._transports[s] = oslo_messaging.get_rpc_transport(cfg.CONF, url=url)
            self._urls[s] = url
        # Shut the messaging down in parallel: each server's stop and wait, each transport's clean-up
        # take 1–4 s (listener poll timeouts, heartbeat threads); one after the other they took 25 s.
        servers: list[Any] = []
        transports = list(self._transports.values())
        self._stack.callback(_in_parallel, transports, "cleanup")
        self._stack.callback(_in_parallel, servers, "wait")
        self._stack.callback(_in_parallel, servers, "stop")
        # One RPC server per role that serves calls or casts, at its site.
        for role in sorted({s.server for s in every_step(steps) if isinstance(s, wf.Call | wf.Cast)}):
            where = self.roles[role][0]
            target = oslo_messaging.Target(topic=f"replay-{role.value}", server=where)
            server = oslo_messaging.get_rpc_server(self._transports[where], target, [_Endpoint(self, role)])
            server.start()
            servers.append(server)
        self._notifier = {}
        for s, url in self._urls.items():
            transport = oslo_messaging.get_notification_transport(cfg.CONF, url=url)
            transports.append(transport)
            self._notifier[s] = oslo_messaging.Notifier(
                transport, driver="messaging", publisher_id="wanstack-replay", topics=["notifications"]
            )

    def client(self, site: str, role: Role) -> Any:
        """An RPC client at `site` for `role`'s server (created once)."""
        import oslo_messaging

        key = (site, role)
        if key not in self._clients:
            target = oslo_messaging.Target(topic=f"replay-{role.value}", server=self.roles[role][0])
            self._clients[key] = oslo_messaging.get_rpc_client(self._transports[site], target, timeout=60)
        return self._clients[key]

    def _connection(self, a: str, b: str, shape: LinkShape) -> socket.socket:
        """This thread's kept-alive TCP connection from site `a` to the request/response server at
        `b`, through the route's relay (one per route and shape)."""
        key = (a, b, threading.get_ident())
        sock = self._connections.get(key)
        if sock is None:
            with self._lock:
                relay = self._relays.get((a, b))
                if relay is None:
                    relay = self._stack.enter_context(DelayRelay(self._answer_port, shape))
                    self._relays[a, b] = relay
                sock = socket.create_connection(("127.0.0.1", relay.port))
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._stack.callback(sock.close)
                self._connections[key] = sock
        return sock

    def request(
        self, a: str, b: str, request: int, response: int, service_ms: float, *, answered_later: bool = False
    ) -> None:
        """A request from `a` to the server at `b` and its response; `answered_later`: only until it has
        arrived (its answer is read before the connection's next request)."""
        sock = self._connection(a, b, self._shape(a, b))
        for size in self._unread.pop(sock, []):
            _read(sock, max(size, 1))
        ticket = 0
        if answered_later:
            with self._lock:
                ticket = len(self._arrivals) + 1
                arrived = self._arrivals[ticket] = threading.Event()
        sock.sendall(HEADER.pack(request, response, service_ms, ticket) + b"q" * request)
        if answered_later:
            if not arrived.wait(60):
                raise ConnectionError(f"{a} -> {b}: the request never arrived")
            self._unread.setdefault(sock, []).append(response)
        elif not _read(sock, max(response, 1)):
            raise ConnectionError(f"{a} -> {b}: no response")

    def _arrived(self, ticket: int) -> None:
        with self._lock:
            self._arrivals[ticket].set()

    def transfer(self, source: str, site: str, nbytes: int) -> None:
        """A bulk download from `source` to `site`: `site` asks, the bytes flow back the relay's
        return way, the route source→site, at its bottleneck bandwidth."""
        sock = self._connection(site, f"bulk:{source}", self._shape(site, source).reseeded("bulk"))
        sock.sendall(HEADER.pack(0, nbytes, 0.0, 0))
        if len(_read(sock, nbytes)) != nbytes:
            raise ConnectionError(f"{source} -> {site}: transfer cut")

    # --- the workflow ----------------------------------------------------------------------------
    def processed(self, token: str) -> None:
        """A cast's server has processed it: its operation goes on."""
        with self._lock:
            done = self._cast_done.setdefault(token, threading.Event())
        done.set()

    def serve_inner(self, token: str) -> None:
        """A call's server does the call's inner steps (before it replies)."""
        with self._lock:
            inner = self._inner.pop(token)
        inner(None, _nothing)

    def run(
        self, times: int = 5, progress: Callable[[int], None] | None = None, warm_up: bool = True
    ) -> ReplayResult:
        """`times` operations one after the other, after one more that is not counted (connections,
        reply queues): a warm-up, which a run on the same replay may skip (`warm_up=False`)."""
        import oslo_messaging

        latencies: list[float] = []
        failures: dict[str, int] = {}
        first = 0 if warm_up else 1
        for i in range(first, times + 1):
            start = self._visible_at = time.perf_counter()
            self._visible_at = None
            try:
                walk(self.steps, self, None, _nothing)
            except (oslo_messaging.MessagingException, OSError, TimeoutError) as err:
                failures[type(err).__name__] = failures.get(type(err).__name__, 0) + 1
                continue
            if i:
                end = self._visible_at if self._visible_at is not None else time.perf_counter()
                latencies.append((end - start) * 1000.0)
            if progress:
                progress(i)
        return ReplayResult(self.op.value, self.site, latencies, failures)

    # --- the steps, for real (steps.StepHandler[None]): each blocks until its exchange is done ------
    def stopped(self, ctx: None) -> bool:
        return False  # a failure raises

    def http(self, step: wf.Http, ctx: None, then: Then[None]) -> None:
        p, roles = self.params, self.roles
        server, station = roles[step.server]
        # One server on the host (the replay's own): a request made for each server is made once.
        self.request(
            roles[step.client][0],
            server,
            p.http_request_bytes,
            p.http_response_bytes,
            _service_ms(station),
            answered_later=step.answered_later,
        )
        then(ctx)

    def hold(self, step: wf.Hold, inner: Steps[None], ctx: None, then: Then[None]) -> None:
        inner(ctx, then)  # one operation at a time: a host's locks are always free

    def quota(self, step: wf.Quota, ctx: None, then: Then[None]) -> None:
        then(ctx)  # the replay plays the messaging; quotas are the simulator's (and the service's)

    def respond(self, step: wf.Respond, ctx: None, then: Then[None]) -> None:
        then(ctx)  # the answer left the server with the request; its client reads it later

    def visible(self, step: wf.Visible, ctx: None, then: Then[None]) -> None:
        self._visible_at = time.perf_counter()
        then(ctx)

    def db(self, step: wf.Db, ctx: None, then: Then[None]) -> None:
        p, roles = self.params, self.roles
        db, station = roles[step.db]
        for _ in range(step.queries):
            self.request(
                roles[step.client][0], db, p.rpc_small_bytes, p.rpc_small_bytes, _service_ms(station)
            )
        then(ctx)

    def _token(self) -> str:
        return f"{time.monotonic_ns()}-{threading.get_ident()}"

    def call(self, step: wf.Call, ctx: None, inner: Steps[None], then: Then[None]) -> None:
        token = ""
        if step.inner:
            token = self._token()
            with self._lock:
                self._inner[token] = inner
        client = self.client(self.roles[step.client][0], step.server)
        client.call({}, "serve", payload="x" * self.params.rpc_object_bytes, inner=token)
        then(ctx)

    def cast(self, step: wf.Cast, ctx: None, then: Then[None]) -> None:
        token = self._token()
        with self._lock:
            done = self._cast_done.setdefault(token, threading.Event())
        self.client(self.roles[step.client][0], step.server).cast(
            {}, "serve", payload="x" * self.params.rpc_object_bytes, inner="", token=token
        )
        if not done.wait(60):
            raise TimeoutError(f"{step.what}: the cast was never processed")
        with self._lock:
            self._cast_done.pop(token, None)
        then(ctx)

    def notify(self, step: wf.Notify, ctx: None, then: Then[None]) -> None:
        self._notifier[self.roles[step.sender][0]].info({}, "replay", {"what": step.what})
        then(ctx)

    def local(self, step: wf.Local, ctx: None, then: Then[None]) -> None:
        time.sleep(float(getattr(self.params, step.param)) / 1000.0)
        then(ctx)

    def authenticate(self, step: wf.Authenticate, ctx: None, then: Then[None]) -> None:
        then(ctx)  # steady state: the user's token is still valid

    def validate_token(self, step: wf.ValidateToken, ctx: None, then: Then[None]) -> None:
        then(ctx)  # steady state: keystonemiddleware has it cached

    def select_host(self, step: wf.SelectHost, ctx: None, then: Then[None]) -> None:
        then(ctx)  # the scheduler's own filtering: no exchange

    def fetch_image(self, step: wf.FetchImage, ctx: None, then: Then[None]) -> None:
        p, roles = self.params, self.roles
        glance, station = roles[Role.GLANCE]
        self.request(self.site, glance, p.http_request_bytes, p.http_response_bytes, _service_ms(station))
        self.transfer(roles[Role.IMAGE_STORE][0], self.site, self.image_bytes)
        then(ctx)

    def migrate_memory(self, step: wf.MigrateMemory, ctx: None, then: Then[None]) -> None:
        raise ValueError("the replay cannot copy a live migration's memory: simulate it")

    def fork(self, step: wf.Parallel, branches: Sequence[Steps[None]], ctx: None, then: Then[None]) -> None:
        # The branches run on the replay's own threads, the same ones every time, so each keeps its
        # connections alive from one operation to the next; result() re-raises a failure.
        futures = [self._branches.submit(branch, ctx, _nothing) for branch in branches]
        for future in futures:
            future.result()
        then(ctx)


def _nothing(_: None) -> None:
    pass


class _Endpoint:
    """An RPC server role: its station's service time, then the call's inner steps."""

    def __init__(self, replay: Replay, role: Role) -> None:
        self.replay = replay
        self.service_ms = _service_ms(replay.roles[role][1])

    def serve(self, ctxt: dict[str, Any], payload: str, inner: str = "", token: str = "") -> int:
        if self.service_ms:
            time.sleep(self.service_ms / 1000.0)
        if inner:
            self.replay.serve_inner(inner)
        if token:
            self.replay.processed(token)
        return len(payload)


def _in_parallel(objects: list[Any], method: str) -> None:
    with ThreadPoolExecutor(max_workers=max(1, len(objects))) as pool:
        list(pool.map(lambda o: getattr(o, method)(), objects))


def _widest(steps: tuple[Step, ...]) -> int:
    """The most branches any parallel step of the workflow has."""
    return max((len(s.branches) for s in every_step(steps) if isinstance(s, wf.Parallel)), default=0)


def replay_params(params: Params, local_ms: float | None = None) -> Params:
    """`params` with the host's own work (spawn, shutdown, the agent noticing the tap) shortened to
    `local_ms`, for quick runs."""
    if local_ms is None:
        return params
    return replace(
        params, spawn_ms=local_ms, shutdown_ms=local_ms, pause_ms=local_ms, ovs_agent_notice_ms=local_ms
    )


def simulated(
    infra: Infrastructure,
    op: OperationKind,
    site: str,
    times: int,
    *,
    params: Params,
    host: BenchHost | None = None,
    image: str = DEFAULT_IMAGE,
) -> list[float]:
    """The simulator's latencies (ms) of the same sequence: `times` operations at `site`, one after the
    other, after one that is dropped as the replay drops its warm-up (the token, first connections).
    `host`: the bench host's relays (a calibration's `bench_host(shared_cpu=False)`: the replay's
    roles are threads of one process, whose CPU is not modelled)."""
    spec = WorkloadOperation(op=op, times=times + 1, concurrency=1, sites=[site], image=image)
    workload = infra.scenario.workload.model_copy(update={"operations": [spec]})
    scenario = infra.scenario.model_copy(update={"workload": workload})
    options = SimOptions(params=params, background=False, host=host)
    engine = Engine(dataclasses.replace(infra, scenario=scenario), options)
    engine.run()
    later = sorted(engine.users.finished, key=lambda o: o.start)[1:]
    return [o.end - o.start for o in later if o.outcome == "ok"]
