"""Isolated RabbitMQ nodes for the bench: each with its own node name, ports, data and log folders
under a temporary directory, listening on 127.0.0.1 only, stopped (with its epmd) on exit.

How to run Debian's rabbitmq-server unprivileged-style as root without touching the system service
(shared domain notes §9): call /usr/lib/rabbitmq/bin/rabbitmq-server directly (not /usr/sbin, which
switches user and cookie) with HOME (for the Erlang cookie), node name, ports, Mnesia and log bases,
a config file, and the Erlang distribution bound to 127.0.0.1. We start epmd ourselves, in the
foreground, so that we own its PID and can stop it: it would otherwise outlive the broker.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from glob import glob
from pathlib import Path
from typing import ClassVar

from wanstack.lab.ports import free_port, port_open
from wanstack.lab.processes import ServiceProcess, exit_on_sigterm
from wanstack.lab.servers import LabServer

RABBITMQ_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
# Erlang's own remote call (erlang-base, which rabbitmq-server depends on): a small C program that
# speaks the distribution protocol, so asking a node something takes 3 ms here where rabbitmqctl, an
# Erlang VM booted for each question, took 0.75-0.8 s (two per bench case, and one per node started).
ERL_CALL = "/usr/lib/erlang/bin/erl_call"
# Sum of messages_delivered_total over every queue type of AMQP 0-9-1.
DELIVERED = (
    "lists:sum([maps:get(messages_delivered_total, C, 0) || "
    "{K, C} <- maps:to_list(rabbit_global_counters:overview()), lists:member({protocol, amqp091}, K)])."
)


class RabbitUnavailableError(RuntimeError):
    """RabbitMQ is not installed here (`make test` installs Debian's rabbitmq-server)."""


def available() -> bool:
    """Whether RabbitMQ can run here: Debian's rabbitmq-server and an epmd (on the PATH or in Erlang's
    folder)."""
    return Path(RABBITMQ_SERVER).exists() and _epmd() is not None


def _epmd() -> str | None:
    found = shutil.which("epmd")
    if found:
        return found
    candidates = sorted(glob("/usr/lib/erlang/erts-*/bin/epmd"))
    return candidates[-1] if candidates else None


@dataclass(eq=False)
class RabbitNode(LabServer):
    """One RabbitMQ node. Use as a context manager, or call start()/stop()."""

    name: str = "wanstack"
    dist_port: int = field(default_factory=free_port)
    epmd_port: int = field(default_factory=free_port)
    startup_timeout_s: float = 60.0
    # A cluster member (`bench.cluster`): the host name of its site (its `ip` the site's address), an epmd it
    # shares with the other members (not started here), their common Erlang cookie, how this node
    # resolves the other members' host names (to the relays of its WAN links), and the members it
    # joins at its first boot (classic config peer discovery).
    host: str = "localhost"
    own_epmd: bool = True
    cookie: str | None = None
    hosts: dict[str, str] = field(default_factory=dict)
    peers: tuple[str, ...] = ()
    protocol: str = "amqp"  # what a relay parses to count its messages (`lab.relay`)
    kind: ClassVar[str] = "rabbit"
    installed = staticmethod(available)
    package: ClassVar[str] = "rabbitmq-server"
    unavailable: ClassVar[type[RuntimeError]] = RabbitUnavailableError
    _home: Path | None = None
    _server: ServiceProcess | None = None

    @property
    def node(self) -> str:
        return f"{self.name}@{self.host}"

    @property
    def url(self) -> str:
        return f"rabbit://guest:guest@{self.ip}:{self.port}/"

    def _env(self) -> dict[str, str]:
        assert self._home is not None
        home = self._home
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))},
            "HOME": str(home),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": self.ip,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "ERL_EPMD_PORT": str(self.epmd_port),
            "RABBITMQ_MNESIA_BASE": str(home / "mnesia"),
            "RABBITMQ_LOG_BASE": str(home / "log"),
            "RABBITMQ_CONFIG_FILE": str(home / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(home / "enabled_plugins"),
            # A node that fails to boot writes its crash dump with its other files, not in the cwd.
            "ERL_CRASH_DUMP": str(home / "erl_crash.dump"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": (
                f"-kernel inet_dist_use_interface {{{self.ip.replace('.', ',')}}}"
            ),
            # Host names of the cluster's sites, resolved without /etc/hosts (Erlang's inetrc).
            **({"ERL_INETRC": str(home / "inetrc")} if self.hosts else {}),
        }

    def launch(self, root: Path) -> None:
        self._home = root / self.name
        self._home.mkdir(parents=True, exist_ok=True)
        config = f"listeners.tcp.default = {self.ip}:{self.port}\nloopback_users = none\n"
        if self.peers:
            config += "cluster_formation.peer_discovery_backend = classic_config\n" + "".join(
                f"cluster_formation.classic_config.nodes.{i} = {peer}\n"
                for i, peer in enumerate(self.peers, 1)
            )
        (self._home / "rabbitmq.conf").write_text(config, encoding="utf-8")
        if self.cookie is not None:
            cookie = self._home / ".erlang.cookie"
            cookie.write_text(self.cookie, encoding="utf-8")
            cookie.chmod(0o400)
        if self.hosts:
            (self._home / "inetrc").write_text(
                "".join(
                    f'{{host, {{{ip.replace(".", ",")}}}, ["{name}"]}}.\n' for name, ip in self.hosts.items()
                )
                + "{lookup, [file, native]}.\n",
                encoding="utf-8",
            )
        (self._home / "enabled_plugins").write_text("[].\n", encoding="utf-8")
        if self.own_epmd:
            # Also on the node's own address: its host name resolves there (a site's node).
            addresses = tuple(dict.fromkeys(("127.0.0.1", self.ip)))
            epmd = ServiceProcess("epmd", epmd_argv(self.epmd_port, addresses), self._home / "epmd.out")
            self.run(epmd, helper=True)
        # SIGTERM stops a node as gracefully as `rabbitmqctl stop` (the VM's init:stop: listeners
        # closed, message stores flushed; the node's log says so), without the second Erlang VM
        # rabbitmqctl boots: measured here 1.1 s instead of 1.9-3.3 s. Its grace covers a busy node's
        # shutdown. Its environment is its own: none of ours for another RabbitMQ or Erlang.
        server = ServiceProcess(
            "rabbitmq-server",
            [RABBITMQ_SERVER],
            self._home / "server.out",
            self._env(),
            grace_s=15.0,
            unset=("RABBITMQ_", "ERL_"),
        )
        self._server = self.run(server)
        self._wait_ready()

    def restart(self) -> float:
        """Stop the broker and start it again on the same ports and data (a broker restart, as in the
        resilience test case); returns how long it was down, in seconds."""
        assert self._server is not None
        down = time.monotonic()
        self._server.stop()
        try:
            self._server.start()
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return time.monotonic() - down

    def _wait_ready(self) -> None:
        assert self._server is not None
        # rabbit:is_booted/0 is what `rabbitmqctl await_startup` waits for: every boot step run.
        self._server.wait_until(
            lambda: port_open(self.port, self.ip) and self._erl_call("-a", "rabbit is_booted []") == "true",
            self.startup_timeout_s,
            0.2,
            f"booted as {self.node}",
        )

    def deliveries(self) -> int:
        """Messages the broker has delivered to consumers since it started (RabbitMQ's global counters,
        3.9+, `rabbit_global_counters:overview/0`): a call counts two (request, reply), a fanout one
        per server, as the simulator counts broker jobs."""
        out = self.eval(DELIVERED)
        return int(out) if out.isdigit() else 0

    def eval(self, expression: str) -> str:
        """An Erlang expression (ending with a full stop) evaluated on the node, its value as printed
        (what `rabbitmqctl eval` prints); what erl_call printed when it did not answer `{ok, Value}`."""
        out = self._erl_call("-e", stdin=expression + "\n")
        if out.startswith("{ok,") and out.endswith("}"):
            return out[len("{ok,") : -1].strip()
        return out

    def _erl_call(self, *args: str, stdin: str | None = None, timeout: float = 20.0) -> str:
        """erl_call to the node's distribution port directly (`-address`): neither epmd nor the name
        of a cluster member's host (resolved through the node's inetrc only) is needed."""
        assert self._home is not None
        cookie_file = self._home / ".erlang.cookie"  # the node writes it at its first boot if absent
        if not cookie_file.exists():
            return ""
        done = subprocess.run(
            [
                ERL_CALL,
                "-address",
                f"{self.ip}:{self.dist_port}",
                "-c",
                cookie_file.read_text().strip(),
                *args,
            ],
            input=stdin,
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return done.stdout.strip() if done.returncode == 0 else ""


def epmd_argv(port: int, addresses: tuple[str, ...]) -> list[str]:
    """An epmd in the foreground (we own its PID and stop it) on loopback addresses only."""
    epmd = _epmd()
    assert epmd is not None
    return [epmd, "-port", str(port), "-address", ",".join(addresses)]


def start_epmd(port: int, addresses: tuple[str, ...]) -> subprocess.Popen[bytes]:
    """`epmd_argv` started, its output dropped."""
    return subprocess.Popen(
        epmd_argv(port, addresses),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


# An idle node's resident memory here (shared domain notes §9).
RABBIT_MB = 130


class RabbitBrokers:
    """Independent RabbitMQ nodes, one per site (a bus per cell or region), started in parallel, each
    with its own epmd and files; all stopped on exit, whatever happens."""

    def __init__(self, sites: list[str], name: str = "wanstack") -> None:
        self.nodes = {site: RabbitNode(name=f"{name}-{k}") for k, site in enumerate(sites, 1)}

    def start(self) -> RabbitBrokers:
        exit_on_sigterm()  # from this (main) thread: the nodes start on others
        try:
            with ThreadPoolExecutor(max_workers=len(self.nodes) or 1) as pool:
                # Every start is waited for (list): one that fails leaves the others to be stopped.
                outcomes = list(pool.map(_try_start, self.nodes.values()))
            for failed in outcomes:
                if failed is not None:
                    raise failed
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for node in self.nodes.values():
            node.stop()

    def __enter__(self) -> RabbitBrokers:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _try_start(node: RabbitNode) -> BaseException | None:
    try:
        node.start()
    except BaseException as err:  # handed back to the starting thread, raised there
        return err
    return None
