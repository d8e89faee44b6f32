"""`wanstack quota`: a scenario's global limits as Keystone unified limits, one per region, and the
quota service that enforces them (`wanstack.api.quota`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import typer

from wanstack.cli.common import fail, need_extra, report
from wanstack.cli.groups import grouped
from wanstack.cli.options import FormatOption, OutputFormat
from wanstack.cli.output import console, show_or_json
from wanstack.scenario.errors import ScenarioError
from wanstack.scenario.load import DEFAULT_SCENARIO
from wanstack.scenario.quotas import ProjectQuota

app = typer.Typer(
    help="Global limits across regions: as Keystone unified limits (plan, apply) or served by the "
    "quota service (serve).",
    no_args_is_help=True,
)
Regions = Annotated[str, typer.Option(help="Comma-separated Keystone region ids to split the limits over.")]
QuotaScenario = Annotated[str, typer.Argument(help="Scenario file with a quotas: section.")]
Project = Annotated[str | None, typer.Option(help="The quotas: project (default: the first).")]


def _project(scenario: str, name: str | None) -> ProjectQuota:
    from wanstack.api.quota import scenario_project

    try:
        return scenario_project(scenario, name)
    except ScenarioError as err:
        report(err)


def _regions(text: str) -> list[str]:
    regions = [r.strip() for r in text.split(",") if r.strip()]
    if not regions:
        fail("--regions: give at least one region id")
    return regions


@app.command()
def plan(
    scenario: QuotaScenario = DEFAULT_SCENARIO,
    regions: Regions = "RegionOne",
    project: Project = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """The limits each region gets: an even part of each global limit (what each uses, when applied
    to a cloud, is kept and the headroom shared)."""
    from wanstack.api.quota import region_limits
    from wanstack.report.quota import region_limits_json, region_limits_table

    chosen = _project(scenario, project)
    limits = region_limits(chosen, _regions(regions))
    show_or_json(fmt, region_limits_json(limits), region_limits_table(chosen.name, limits))


@app.command()
def apply(
    scenario: QuotaScenario = DEFAULT_SCENARIO,
    cloud: Annotated[str, typer.Option(help="The cloud in clouds.yaml (an administrator's).")] = "",
    regions: Regions = "RegionOne",
    project: Project = None,
    deadline: Annotated[
        float, typer.Option(min=0.1, help="Seconds each region's compute API is given to tell its usage.")
    ] = 10.0,
) -> None:
    """Write the plan into the cloud's Keystone as project limits of the compute service, per region
    (registered limits made where missing), the project named as in the scenario. Where the cloud's
    catalog has compute endpoints, each region keeps what the project uses there now (read from its
    compute API; refused if a region does not answer); with none, the limits are split evenly."""
    need_extra("cloud", "wanstack quota apply")
    from wanstack.api.cloud import CloudError
    from wanstack.api.quota import apply_limits, keystone_project, region_limits, region_usage

    chosen = _project(scenario, project)
    if not cloud:
        fail("--cloud: the clouds.yaml entry to write to")
    try:
        target = keystone_project(cloud, chosen.name)
    except CloudError as err:
        fail(str(err), 1, markup=False)
    asked = _regions(regions)
    try:
        usage = region_usage(target, asked, deadline)
    except CloudError as err:
        fail(str(err), 1)
    if usage is not None:
        used = ", ".join(
            f"{r} {usage.get((r, 'instances'), 0)} servers/{usage.get((r, 'cores'), 0)} cores" for r in asked
        )
        console.print(f"{chosen.name} uses now: {used}", markup=False)
    for line in apply_limits(target, region_limits(chosen, asked, usage)) or ["nothing to change"]:
        console.print(line, markup=False)


serve = typer.Typer(
    help="The quota service: a coordinator at the top site and a service per region (escrow shares, "
    "leases), on a real database, checking Keystone tokens.",
    no_args_is_help=True,
)
app.add_typer(serve, name="serve")

AuthUrl = Annotated[
    str, typer.Option(help="Keystone's …/v3 URL (tokens are checked there); empty with --no-auth only.")
]
User = Annotated[
    str,
    typer.Option(
        help="The service's Keystone user: an administrator for the coordinator; for a region, the "
        "region's own service user (a service role; quota-NAME by default at the coordinator)."
    ),
]
ServiceProject = Annotated[str, typer.Option("--project", help="The project the service user logs in to.")]
Password = Annotated[str, typer.Option(envvar="OS_PASSWORD", help="Its password (or OS_PASSWORD).")]
NoAuth = Annotated[bool, typer.Option("--no-auth", help="Accept every request unchecked (trials only).")]
Host = Annotated[str, typer.Option(help="Address to listen on.")]
Database = Annotated[str, typer.Option(help="An SQLAlchemy URL (SQLite by default; e.g. postgresql://…).")]
TokenCache = Annotated[
    float,
    typer.Option(help="Seconds a checked token is taken as is (then it is checked again in the background)."),
]


@dataclass(frozen=True)
class Listening:
    """What every quota service takes: where it listens and how it checks Keystone tokens."""

    host: Host = "127.0.0.1"
    auth_url: AuthUrl = ""
    user: User = "admin"
    password: Password = ""
    project: ServiceProject = "admin"
    no_auth: NoAuth = False
    token_cache_s: TokenCache = 300.0

    def auth(self) -> tuple[Any, Any]:
        """The service's own Keystone credentials and its token check (both None with --no-auth)."""
        from wanstack.api.quota import token_check

        if self.no_auth:
            return None, None
        if not self.auth_url or not self.password:
            fail("give --auth-url and --password (or OS_PASSWORD), or --no-auth for a trial")
        return token_check(self.auth_url, self.user, self.password, self.token_cache_s, self.project)


def _run(server: Any, what: str, service: Any) -> None:
    """`service` answering at `server` until SIGTERM or Ctrl-C, then both stopped."""
    import signal
    import threading

    console.print(f"{what} listening on {server.url}", markup=False)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        service.stop()


@serve.command()
@grouped(listening=Listening)
def coordinator(
    regions: Annotated[
        str,
        typer.Option(
            help="Comma-separated regions, each NAME or NAME=USER: the Keystone user (or DOMAIN/USER) "
            "whose token its syncs must carry (default quota-NAME of domain Default)."
        ),
    ],
    port: Annotated[int, typer.Option(help="Kingbird's port by default.")] = 8118,
    database: Database = "sqlite:///wanstack-quota-coordinator.db",
    mode: Annotated[str, typer.Option(help="escrow, lease or escrow-epsilon.")] = "escrow",
    rebalance_s: Annotated[
        float, typer.Option(help="How often each region syncs (in every sync's answer: regions follow it).")
    ] = 10.0,
    term_s: Annotated[float, typer.Option(help="lease: a share's term without a sync.")] = 60.0,
    skew_s: Annotated[
        float, typer.Option(help="lease: the most a region's clock may lag over a term.")
    ] = 1.0,
    allowance_share: Annotated[
        float,
        typer.Option(
            help="lease: how far a region's usage may rise per renewal, × an even share (net of releases)."
        ),
    ] = 1.0,
    epsilon: Annotated[float, typer.Option(help="escrow-epsilon: the slack, × the limit.")] = 0.05,
    listening: Listening = Listening(),
) -> None:
    """The coordinator: global limits (Kingbird's os-quota-sets API), the pool, the regions' syncs."""
    need_extra("bench", "wanstack quota serve coordinator")
    from wanstack.api.quota import SERVICE_MODES, listen, service_policy, start_coordinator

    if mode not in SERVICE_MODES:
        fail(f"--mode {mode}: the service runs escrow, lease or escrow-epsilon")
    policy = service_policy(
        mode,
        rebalance_s=rebalance_s,
        term_s=term_s,
        skew_s=skew_s,
        allowance_share=allowance_share,
        epsilon=epsilon,
    )
    _, check = listening.auth()
    named = [r.partition("=") for r in _regions(regions)]
    users = {region: user for region, _, user in named if user}
    service = start_coordinator([region for region, _, _ in named], database, policy, users)
    _run(listen(service, check, listening.host, port), f"quota coordinator ({mode})", service)


@serve.command()
@grouped(listening=Listening)
def region(
    name: Annotated[str, typer.Argument(help="The region's name, as the coordinator knows it.")],
    coordinator_url: Annotated[str, typer.Option("--coordinator", help="The coordinator's URL.")],
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8119,
    database: Database = "",
    rebalance_s: Annotated[
        float, typer.Option(help="How often to sync with the coordinator until it says otherwise.")
    ] = 10.0,
    claim_grace_s: Annotated[
        float, typer.Option(min=1.0, help="Seconds a claim may stay unconfirmed before it is released.")
    ] = 86400.0,
    listening: Listening = Listening(),
) -> None:
    """A region's service: claims and releases against its shares, synced every --rebalance-s."""
    need_extra("bench", "wanstack quota serve region")
    from wanstack.api.quota import listen, start_region

    credentials, check = listening.auth()
    service = start_region(name, coordinator_url, credentials, rebalance_s, database, grace_s=claim_grace_s)
    _run(listen(service, check, listening.host, port), f"quota service of region {name}", service)
