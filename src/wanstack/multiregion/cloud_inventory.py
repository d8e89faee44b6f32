"""The inventory of a real multi-region cloud through openstacksdk: every region's servers counted at
once, each region given a deadline, and a region that does not answer in time shown as such.

openstacksdk's own inventory (openstack/cloud/inventory.py, `OpenStackInventory.list_hosts`) walks the
cloud-regions of clouds.yaml one after the other with no timeout of its own: a black-holed region
holds the whole answer for as long as its sockets wait, and a failing one either raises
(`fail_on_cloud_config=True`, the default) or is dropped without a word. Here:

- the regions are those of Keystone's catalog with a compute endpoint (or the ones asked for);
- each region is asked in a thread of its own, all at once, sharing the caller's Keystone session
  (one token: the regions' requests never go back to Keystone);
- the answer waits for a region at most `deadline_s`; a region not answered by then is left behind —
  its thread is abandoned, never joined (a daemon thread whose sockets give up `api_timeout` later) —
  and shown as `last known` (its previous answer, as of when it came) or `unreachable`;
- a region that answered is `live`, counted per project and per site, a site being the availability
  zone Nova reports for each server (`OS-EXT-AZ:availability_zone`: the zone of its host; "–" for a
  server with no host yet, or that never got one).

Counts are every server the API lists, whatever its status, as Nova's own quota counts servers: the
number, and the vCPUs and RAM of their flavors — the flavor embedded in the server at microversion
2.47 and later (nova/api/openstack/compute/views/servers.py `_get_flavor_dict`), else looked up by
id (the server keeps the flavor it booted with; a flavor deleted since cannot be looked up below
2.47, and the region is then reported as failing, saying so).

A region answering with one of its cells down: Nova (cells v2) skips the cell's servers silently by
default (`[api] list_records_by_skipping_down_cells`) — nothing can tell them apart from no servers
at all — but from microversion 2.69 lists them as stubs, status UNKNOWN with no flavor and no zone
(`_show_from_down_cell`, same file). openstacksdk negotiates up to 2.100, so the stubs are seen: they
are counted as servers whose size is unknown, in a row of their own ("down cell", `unreachable`).

Upper bounds. A region that does not answer may now hold anything from none of its last-known servers
to — what? Neither of the obvious candidates bounds what is counted here: a project's compute quota can
be lowered below its usage (Nova keeps the servers) or be unlimited (-1), and Keystone's unified
limits bind only where Nova runs the unified-limits driver; the hosts' capacity (Placement's
inventories) bounds what is allocated, but a server that failed to schedule (ERROR, in cell0) holds no
allocation and is still listed. So the upper bound is None ("?") unless the caller knows one for the
region (`bounds`: e.g. what it has provisioned), and the total is then [low, ?].
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from wanstack.multiregion.inventory import Counts, Inventory, SiteCount, Source, site_count

T = TypeVar("T")

DEADLINE_S = 10.0
# What an abandoned region's sockets wait before giving up (keystoneauth's session timeout, per
# connect and per read): long after the deadline, so that the answer is bounded by the deadline and
# not by this, but bounded, so that a long-lived caller does not keep hung threads for ever.
SOCKET_TIMEOUT_S = 60.0
NO_HOST = "–"  # the site of a server no host holds: never scheduled (cell0) or still being built
DOWN_CELL = "down cell"  # the site of the stubs Nova lists for the servers of a cell it cannot reach
EMBEDDED_FLAVOR = (2, 47)  # nova: from 2.47 a server embeds its flavor (vcpus, ram, original_name)


# --- asking every region at once, each with a deadline ------------------------------------------
@dataclass(frozen=True)
class Answered(Generic[T]):
    """A call that returned by the deadline: its value and how long it took (s)."""

    value: T
    elapsed_s: float


@dataclass(frozen=True)
class Failed:
    """A call that raised by the deadline: what went wrong, and how long it took (s)."""

    error: str  # what went wrong, as the exception says it
    elapsed_s: float


@dataclass(frozen=True)
class Late:
    """No answer by the deadline: the call was left running (abandoned, not joined)."""

    deadline_s: float


Outcome = Answered[T] | Failed | Late


def gather(calls: Mapping[str, Callable[[], T]], deadline_s: float) -> dict[str, Outcome[T]]:
    """Run every call in a daemon thread of its own, all at once, and return within `deadline_s`
    what each did: its value, its error, or Late. A late call is abandoned: its thread goes on in the
    background and whatever it returns is dropped — a thread pool would join it at exit
    (concurrent.futures registers an atexit join), so plain daemon threads are used."""
    done: queue.Queue[tuple[str, Answered[T] | Failed]] = queue.Queue()
    start = time.monotonic()

    def run(name: str, call: Callable[[], T]) -> None:
        try:
            value = call()
        except Exception as err:  # a region failing is an outcome to report, not to raise
            done.put((name, Failed(f"{type(err).__name__}: {err}", time.monotonic() - start)))
        else:
            done.put((name, Answered(value, time.monotonic() - start)))

    for name, call in calls.items():
        threading.Thread(target=run, args=(name, call), name=f"inventory:{name}", daemon=True).start()
    outcomes: dict[str, Outcome[T]] = {}
    end = start + deadline_s
    while len(outcomes) < len(calls):
        left = end - time.monotonic()
        if left <= 0:
            break
        try:
            name, outcome = done.get(timeout=left)
        except queue.Empty:
            break
        outcomes[name] = outcome
    return {name: outcomes.get(name, Late(deadline_s)) for name in calls}


# --- what a region answered ------------------------------------------------------------------------
@dataclass(frozen=True)
class RegionAnswer:
    """What one region's compute API listed, and when."""

    region: str
    at_s: float  # when the listing was complete (seconds since the epoch)
    scope: str  # "all projects", or the project the caller's token is scoped to
    counts: Mapping[tuple[str, str], Counts] = field(default_factory=dict)  # (project, site) -> counts
    down_cell: Mapping[str, int] = field(default_factory=dict)  # project -> servers of a down cell

    @property
    def total(self) -> Counts:
        sized = sum(self.counts.values(), Counts())
        return sized + Counts(instances=sum(self.down_cell.values()))


def _version(text: str | None) -> tuple[int, int]:
    if not text:
        return (2, 0)
    major, _, minor = text.partition(".")
    return int(major), int(minor or 0)


def count_servers(servers: Iterable[Any], flavor: Callable[[str], Any]) -> RegionAnswer:
    """Counts per (project, site) of openstacksdk `Server`s listed with details; `flavor(id)` looks a
    flavor up where the server does not embed it. Region, time and scope are the caller's to set."""
    counts: dict[tuple[str, str], Counts] = {}
    down: dict[str, int] = {}
    for server in servers:
        project = server.project_id or ""
        if server.flavor is None:  # only a down cell's stub (status UNKNOWN, >= 2.69) has none
            down[project] = down.get(project, 0) + 1
            continue
        size = server.flavor
        if _version(server.microversion) < EMBEDDED_FLAVOR:
            size = flavor(size.id)
        key = (project, server.availability_zone or NO_HOST)
        counts[key] = counts.get(key, Counts()) + Counts(1, size.vcpus or 0, size.ram or 0)
    return RegionAnswer(region="", at_s=0.0, scope="", counts=counts, down_cell=down)


def ask_region(session: Any, region: str, *, interface: str | None, project_id: str | None) -> RegionAnswer:
    """One region's servers, counted: every project's when the caller may list them (Nova's policy
    `os_compute_api:servers:detail:get_all_tenants`, admin by default: 403 otherwise), else its own."""
    import openstack
    from openstack.exceptions import ForbiddenException, NotFoundException

    conn: Any = openstack.connection.Connection(
        session=session, region_name=region, interface=interface, app_name="wanstack"
    )
    flavors: dict[str, Any] = {}

    def flavor(flavor_id: str) -> Any:
        if flavor_id not in flavors:
            try:
                flavors[flavor_id] = conn.compute.get_flavor(flavor_id)
            except NotFoundException:
                raise LookupError(
                    f"flavor {flavor_id} is deleted and this Nova (below 2.47) does not embed it in its "
                    "servers: their size cannot be known"
                ) from None
        return flavors[flavor_id]

    query: dict[str, Any] = {} if project_id is None else {"project_id": project_id}
    try:
        answer = count_servers(conn.compute.servers(details=True, all_projects=True, **query), flavor)
        scope = "all projects"
    except ForbiddenException:
        answer = count_servers(conn.compute.servers(details=True), flavor)
        scope = f"project {conn.current_project_id}"
        if project_id is not None:
            answer = RegionAnswer(
                "",
                0.0,
                "",
                {k: v for k, v in answer.counts.items() if k[0] == project_id},
                {k: v for k, v in answer.down_cell.items() if k == project_id},
            )
    return RegionAnswer(region, time.time(), scope, answer.counts, answer.down_cell)


# --- the cloud's inventory ---------------------------------------------------------------------------
@dataclass(frozen=True)
class CloudInventory:
    """A real cloud's inventory (`inventory`): the rows, each region's latest answer (for `previous` next
    time), why each region not live is not, the deadline and how long the whole answer took (s), and the
    projects' names where Keystone gave them."""

    inventory: Inventory  # the rows: live per (region, project, site); one per region not answering
    answers: Mapping[str, RegionAnswer]  # each region's latest answer (pass as `previous` next time)
    why: Mapping[str, str]  # region -> why it is not live now
    deadline_s: float
    elapsed_s: float  # how long the answer took, in all
    project_names: Mapping[str, str] = field(default_factory=dict)  # project id -> name, where known

    def missing(self) -> list[str]:
        return [f"{region} ({why})" for region, why in self.why.items()]


def connect(cloud: str | Mapping[str, Any] | Any, timeout_s: float = SOCKET_TIMEOUT_S) -> Any:
    """An authenticated openstacksdk connection: `cloud` is a clouds.yaml entry's name, keyword
    arguments of `openstack.connect` (an auth dict), or a connection already made (used as it is)."""
    import openstack

    if isinstance(cloud, str):
        conn: Any = openstack.connect(cloud=cloud, api_timeout=timeout_s)
    elif isinstance(cloud, Mapping):
        conn = openstack.connect(**{"api_timeout": timeout_s, **cloud})
    else:
        conn = cloud
    conn.authorize()  # Keystone first: without a token no region can be asked (SDKException)
    return conn


def compute_regions(conn: Any) -> list[str]:
    """The regions of the token's catalog with a compute endpoint (on the connection's interface),
    sorted (Keystone's catalog has no order of its own)."""
    catalog = conn.config.get_service_catalog()
    if catalog is None:
        return []
    interface = conn.config.get_interface() or "public"
    found: list[str] = []
    for endpoints in catalog.get_endpoints(service_type="compute", interface=interface).values():
        for endpoint in endpoints:
            region = endpoint.get("region_id") or endpoint.get("region")
            if region and region not in found:
                found.append(region)
    return sorted(found)


_NAMES = "\0project names"  # gather's key for Keystone's project names (no region id has a NUL)


def _project_names(conn: Any) -> dict[str, str]:
    return {p.id: p.name for p in conn.identity.projects()}


def inventory(
    cloud: str | Mapping[str, Any] | Any,
    *,
    regions: Sequence[str] | None = None,
    deadline_s: float = DEADLINE_S,
    previous: Mapping[str, RegionAnswer] | None = None,
    bounds: Mapping[str, Counts] | None = None,
    project_id: str | None = None,
    ask: Callable[..., RegionAnswer] = ask_region,
) -> CloudInventory:
    """Every region's servers, asked all at once, each region given `deadline_s`: see the module's
    doc. `previous`: earlier answers (a region not answering now is shown as last known, as of
    then); `bounds`: what a region may hold at most, where the caller knows it; `project_id`: count
    that project only. Raises `openstack.exceptions.SDKException` when Keystone cannot be used."""
    start = time.monotonic()
    conn = connect(cloud)
    wanted = list(regions) if regions is not None else compute_regions(conn)
    interface = conn.config.get_interface()

    def asker(region: str) -> Callable[[], RegionAnswer]:
        return lambda: ask(conn.session, region, interface=interface, project_id=project_id)

    calls: dict[str, Callable[[], Any]] = {region: asker(region) for region in wanted}
    calls[_NAMES] = lambda: _project_names(conn)  # Keystone's, alongside: names are a nicety
    outcomes = gather(calls, deadline_s)
    names_outcome = outcomes.pop(_NAMES)
    names = names_outcome.value if isinstance(names_outcome, Answered) else {}
    now = time.time()
    answers = dict(previous or {})
    why: dict[str, str] = {}
    for region, outcome in outcomes.items():
        if isinstance(outcome, Answered):
            answers[region] = outcome.value
        elif isinstance(outcome, Late):
            why[region] = f"no answer within {deadline_s:g} s"
        else:
            why[region] = outcome.error
    rows = rows_of(wanted, answers, why, now_s=now, bounds=bounds or {})
    return CloudInventory(
        Inventory(now, tuple(rows)), answers, why, deadline_s, time.monotonic() - start, names
    )


def rows_of(
    regions: Sequence[str],
    answers: Mapping[str, RegionAnswer],
    why: Mapping[str, str],
    *,
    now_s: float,
    bounds: Mapping[str, Counts],
) -> list[SiteCount]:
    """The rows, every region in them: a live region's per (project, site) — one empty row when it
    has no server —, and a region not answering now as one row for all its projects and sites."""
    rows: list[SiteCount] = []
    for region in regions:
        answer = answers.get(region)
        if region not in why and answer is not None:
            at = answer.at_s  # as of when its listing was complete
            for (project, site), counts in sorted(answer.counts.items()):
                answered = (at, counts)
                rows.append(
                    site_count(
                        region, site, now_s=at, answered=answered, live=True, capacity=None, project=project
                    )
                )
            for project, n in sorted(answer.down_cell.items()):
                # The cell did not answer: the servers are known to exist, their sizes are not.
                rows.append(
                    SiteCount(region, DOWN_CELL, Source.UNREACHABLE, None, None, Counts(n), None, project)
                )
            if not answer.counts and not answer.down_cell:
                rows.append(
                    site_count(region, "", now_s=at, answered=(at, Counts()), live=True, capacity=None)
                )
            continue
        last = None if answer is None else (answer.at_s, answer.total)
        rows.append(
            site_count(region, "", now_s=now_s, answered=last, live=False, capacity=bounds.get(region))
        )
    return rows


# --- rows as JSON, and back as earlier answers ----------------------------------------------------------
def row_json(row: SiteCount, why: str | None = None) -> dict[str, Any]:
    """A row as the simulated inventory writes it (`results.schema.InventoryRow`'s fields, times in
    seconds since the epoch), with its project, and None for an upper bound not known."""
    c, lo, hi = row.counts, row.low, row.upper
    out: dict[str, Any] = {
        "region": row.region,
        "project": row.project,
        "site": row.site,
        "source": row.source.value,
        "as_of_s": row.as_of_s,
    }
    for name in ("instances", "vcpus", "ram_mb"):
        out[name] = None if c is None else getattr(c, name)
        out[f"{name}_low"] = getattr(lo, name)
        out[f"{name}_high"] = None if hi is None else getattr(hi, name)
    if why is not None:
        out["why"] = why
    return out


def why_not_live(result: CloudInventory, row: SiteCount) -> str | None:
    """Why `row` is not live (its region's reason, or else a cell of its region that did not answer); None for
    a live row."""
    if row.source is Source.LIVE:
        return None
    return result.why.get(row.region, "a cell of the region did not answer")


def to_json(result: CloudInventory) -> list[dict[str, Any]]:
    """The inventory's rows as JSON objects (`row_json`), each row not live with why."""
    return [row_json(r, why_not_live(result, r)) for r in result.inventory.rows]


def answers_from_json(rows: Iterable[Mapping[str, Any]]) -> dict[str, RegionAnswer]:
    """Earlier answers from rows written by `to_json`: a region's live rows as they were, and a
    region that was already last known as its total then (its detail is not kept)."""
    live: dict[str, list[Mapping[str, Any]]] = {}
    answers: dict[str, RegionAnswer] = {}
    for row in rows:
        if row["source"] == Source.LIVE.value:
            live.setdefault(row["region"], []).append(row)
        elif row["source"] == Source.LAST_KNOWN.value and row["as_of_s"] is not None:
            total = Counts(row["instances"], row["vcpus"], row["ram_mb"])
            answers[row["region"]] = RegionAnswer(
                row["region"], row["as_of_s"], "as last known", {("", ""): total}
            )
    for region, found in live.items():
        counts = {
            (r["project"], r["site"]): Counts(r["instances"], r["vcpus"], r["ram_mb"])
            for r in found
            if r["instances"]
        }
        answers[region] = RegionAnswer(region, found[0]["as_of_s"], "as read back", counts)
    return answers


# --- a project's usage per region, for re-planning its limits -----------------------------------------
class UsageUnknownError(RuntimeError):
    """Some region's usage could not be read: planning with a guess would move its limit blindly."""


def region_usage(
    conn: Any, project_id: str, regions: Sequence[str], deadline_s: float = DEADLINE_S
) -> dict[tuple[str, str], int] | None:
    """`project_id`'s usage per (region, quota resource: instances, cores, ram_mb), as
    `multiregion.limits.plan` takes it, read from each region's compute API; None when no region of
    the catalog has a compute endpoint (Keystone alone: nothing to read). A region without a compute
    endpoint uses nothing. Raises UsageUnknownError, naming them, when regions with one do not answer."""
    with_compute = set(compute_regions(conn))
    if not with_compute:
        return None
    asked = [r for r in regions if r in with_compute]
    result = inventory(conn, regions=asked, deadline_s=deadline_s, project_id=project_id)
    unknown = [
        f"{row.region} ({why_not_live(result, row)})"
        for row in result.inventory.rows
        if row.source is not Source.LIVE
    ]
    if unknown:
        raise UsageUnknownError("usage not known in " + ", ".join(unknown))
    usage: dict[tuple[str, str], int] = {}
    for row in result.inventory.rows:
        if row.project != project_id or row.counts is None:
            continue
        for resource, value in (
            ("instances", row.counts.instances),
            ("cores", row.counts.vcpus),
            ("ram_mb", row.counts.ram_mb),
        ):
            usage[row.region, resource] = usage.get((row.region, resource), 0) + value
    return usage
