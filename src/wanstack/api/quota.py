"""Global quota limits across regions from Python: a scenario's `quotas:` project (`scenario_project`)
split into one limit per region (`region_limits`) and written into a real cloud's Keystone as unified
limits (`keystone_project`, `region_usage`, `apply_limits`: the cloud extra), and the quota service
that enforces them across regions (`service_policy`, `start_coordinator`, `start_region`, `listen`:
the bench extra). What `wanstack quota` does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wanstack.api.cloud import CloudError
from wanstack.scenario.errors import Problem, ScenarioError, did_you_mean
from wanstack.scenario.load import Source
from wanstack.scenario.quotas import ProjectQuota
from wanstack.scenario.source import read_yaml

if TYPE_CHECKING:
    from wanstack.multiregion.limits import RegionLimit
    from wanstack.multiregion.service.coordinator import Coordinator
    from wanstack.multiregion.service.http import Server
    from wanstack.multiregion.service.region import RegionService
    from wanstack.multiregion.service.rules import Policy
    from wanstack.multiregion.service.tokens import ServiceCredentials, TokenCheck

# The modes the quota service enforces (the others are the simulator's: central, unified-limits,
# kingbird).
SERVICE_MODES = ("escrow", "lease", "escrow-epsilon")

Usage = dict[tuple[str, str], int]  # (region, quota resource) → what the project uses there

# A project to add when a scenario has none, in flow style: one line, pasted as is at the end of a
# scenario file (docs/multiregion.md has the block with every setting).
QUOTAS_EXAMPLE = "quotas: {projects: [{name: demo, limits: {instances: 40, cores: 80}}]}"


def scenario_project(scenario: str | Path, name: str | None = None) -> ProjectQuota:
    """The `quotas:` project `name` (default: the first) of a scenario file or built-in scenario, the
    scenario fully validated. Raises ScenarioError, located at `quotas:` when the file has one, when
    there is no such project: with none at all, the hint is a project to add (`QUOTAS_EXAMPLE`), since
    limits made up here could be written into a real Keystone by `quota apply`."""
    source = Source.of(scenario)
    projects = source.load().scenario.quotas.projects
    chosen = [p for p in projects if name is None or p.name == name]
    if chosen:
        return chosen[0]
    names = [p.name for p in projects]
    if not names or name is None:
        message = "no project, so no global limit to split into per-region limits"
        hint = f"add one to the scenario, e.g. `{QUOTAS_EXAMPLE}` (docs/multiregion.md)"
    else:
        message = f"no project {name!r} (its projects: {', '.join(names)})"
        hint = did_you_mean(name, names) or f"give --project one of: {', '.join(names)}"
    where, pos = read_yaml(source.text).locate(("quotas", "projects"))
    line, column = pos if pos is not None and where else (None, None)
    raise ScenarioError(source.filename, [Problem(("quotas", "projects"), message, hint, line, column)])


def region_limits(
    project: ProjectQuota, regions: Sequence[str], usage: Usage | None = None
) -> list[RegionLimit]:
    """Each of `project`'s global limits split over `regions`: what each uses (`usage`, default none)
    plus an even part of the headroom. Each limit names its Keystone resource in
    `wanstack.report.quota`'s views."""
    from wanstack.multiregion.limits import plan

    return plan(project, list(regions), usage)


@dataclass(frozen=True)
class KeystoneProject:
    """A project of a real cloud's Keystone and its compute service, where limits are written."""

    cloud: str
    conn: Any  # an openstack.connection.Connection
    project_id: str
    service_id: str


def keystone_project(cloud: str, name: str) -> KeystoneProject:
    """The project `name` in the Keystone of `cloud` (its clouds.yaml name, an administrator's) and
    its compute service. Raises CloudError when the cloud cannot be reached or has neither."""
    from wanstack.extras import importing

    with importing("cloud", "a real cloud's Keystone"):
        import openstack

    try:
        conn: Any = openstack.connect(cloud=cloud)
        target = conn.identity.find_project(name)
        service = next(iter(conn.identity.services(type="compute")), None)
    except openstack.exceptions.SDKException as err:
        raise CloudError(f"{cloud}: {err}") from err
    if target is None or service is None:
        what = f"project {name!r}" if target is None else "a compute service"
        raise CloudError(f"{cloud}: Keystone has no {what}")
    return KeystoneProject(cloud, conn, target.id, service.id)


def region_usage(target: KeystoneProject, regions: Sequence[str], deadline_s: float = 10.0) -> Usage | None:
    """What the project uses now in each of `regions` (servers, cores, RAM), read from each region's
    compute API within `deadline_s`; None when the catalog has no compute endpoint (limits are then
    split evenly). Raises CloudError when a region does not answer: a limit moved on a guess could
    strand or over-commit."""
    import openstack

    from wanstack.multiregion.cloud_inventory import UsageUnknownError
    from wanstack.multiregion.cloud_inventory import region_usage as read

    try:
        return read(target.conn, target.project_id, list(regions), deadline_s)
    except (UsageUnknownError, openstack.exceptions.SDKException) as err:
        raise CloudError(
            f"{target.cloud}: {err}: not re-planning (a limit moved on a guess could strand or over-commit)"
        ) from err


def apply_limits(target: KeystoneProject, limits: list[RegionLimit]) -> list[str]:
    """Write `limits` as the project's limits of the compute service, per region (registered limits
    made where missing); a line per change (none when nothing changed)."""
    from wanstack.multiregion.limits import apply

    return apply(target.conn, target.project_id, target.service_id, limits)


def token_check(
    auth_url: str, user: str, password: str, cache_s: float = 300.0, project: str = "admin"
) -> tuple[ServiceCredentials, TokenCheck]:
    """The quota service's own Keystone credentials (`user` in `project`) and the check of its callers'
    tokens against Keystone (`auth_url`: …/v3), each checked token taken as is for `cache_s`."""
    from wanstack.multiregion.service.tokens import ServiceCredentials, TokenCheck

    credentials = ServiceCredentials(auth_url.rstrip("/"), user, password, project_name=project)
    return credentials, TokenCheck(credentials, cache_s=cache_s)


def service_policy(
    mode: str,
    *,
    rebalance_s: float = 10.0,
    term_s: float = 60.0,
    skew_s: float = 1.0,
    allowance_share: float = 1.0,
    epsilon: float = 0.05,
) -> Policy:
    """The coordinator's rules for `mode` (one of SERVICE_MODES; raises ValueError otherwise): how
    often regions sync, and for lease its term, clock skew and allowance, for escrow-epsilon its
    slack (× the limit)."""
    from wanstack.multiregion.service.rules import Policy

    if mode not in SERVICE_MODES:
        raise ValueError(f"the quota service runs {', '.join(SERVICE_MODES)}, not {mode!r}")
    return Policy(
        rebalance_s=rebalance_s,
        term_s=term_s if mode == "lease" else None,
        skew_s=skew_s,
        allowance_share=allowance_share,
        epsilon=epsilon if mode == "escrow-epsilon" else 0.0,
    )


def start_coordinator(
    regions: Sequence[str], database: str, policy: Policy, users: dict[str, str] | None = None
) -> Coordinator:
    """The coordinator (global limits, the pool, the regions' syncs) on the SQLAlchemy `database`,
    started; a region's syncs are taken only from its service user (`users`: region → Keystone user
    name, or DOMAIN/name; by default `quota-REGION` of domain Default)."""
    from wanstack.multiregion.service.coordinator import Coordinator
    from wanstack.multiregion.service.store import CoordinatorStore

    return Coordinator(CoordinatorStore(database, list(regions)), policy, dict(users or {})).start()


def start_region(
    name: str,
    coordinator_url: str,
    credentials: ServiceCredentials | None,
    rebalance_s: float = 10.0,
    database: str = "",
    *,
    grace_s: float | None = None,
) -> RegionService:
    """Region `name`'s service (claims and releases against its shares, synced with the coordinator at
    `coordinator_url` every `rebalance_s` until the coordinator says otherwise, as `credentials`' user;
    None: unauthenticated, for trials) on the SQLAlchemy `database` (default: SQLite,
    wanstack-quota-NAME.db here), claims left unconfirmed for `grace_s` released (default: a day),
    started."""
    from wanstack.multiregion.service.region import RegionService
    from wanstack.multiregion.service.store import RegionStore

    store = RegionStore(database or f"sqlite:///wanstack-quota-{name}.db")
    service = RegionService(name, store, coordinator_url.rstrip("/"), credentials, rebalance_s)
    if grace_s is not None:
        service.grace_s = grace_s
    return service.start()


def listen(service: Coordinator | RegionService, check: TokenCheck | None, host: str, port: int) -> Server:
    """`service`'s HTTP API on `host`:`port`, every request's token checked by `check` (None: none
    checked), started (`.url`, `.stop()`)."""
    from wanstack.multiregion.service.http import Server

    return Server(service.app(check), host, port).start()
