"""The quota service's state in a database (SQLAlchemy Core: SQLite by default, any URL such as
postgresql://…): a region's shares and claims, the coordinator's books. Each operation is one
transaction that loads the records `rules.py` works on and writes them back.

One process serves a region (or the coordinator) and serialises its writes with a lock: SQLite
serialises writers anyway, and a claim is a few row reads and writes (well under a millisecond with
SQLite's write-ahead log). Rows are also read `FOR UPDATE`, which servers such as PostgreSQL honour.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Float,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    event,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Engine

from wanstack.multiregion.service.bounds import MAX_USAGE
from wanstack.multiregion.service.rules import (
    Book,
    Grant,
    Instruction,
    Op,
    Policy,
    RegionShare,
    Report,
    apply,
)

RESOURCES = ("instances", "cores", "ram_mb")

metadata = MetaData()


def _limit_key() -> tuple[Column[str], Column[str]]:
    """The key of what a limit is about (a project's resource), which every table of shares, books
    and grants starts with (new columns each time: a column belongs to one table)."""
    return Column("project", String(64), primary_key=True), Column("resource", String(32), primary_key=True)


# What a region holds of each limit, as the coordinator left it (its usage is the sum of its live
# claims: a claim is one row written, nothing else).
region_shares = Table(
    "region_shares",
    metadata,
    *_limit_key(),
    Column("share", BigInteger, nullable=True),
    Column("slack", BigInteger, nullable=False, default=0),
    Column("applied_seq", BigInteger, nullable=False, default=0),
    Column("lease_base", BigInteger, nullable=False, default=0),
    Column("allowance", BigInteger, nullable=True),
)
SHARE_COLUMNS = ("share", "slack", "applied_seq", "lease_base", "allowance")
region_claims = Table(
    "region_claims",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("project", String(64), nullable=False, index=True),
    *(Column(r, BigInteger, nullable=False, default=0) for r in RESOURCES),
    Column("created_at", Float, nullable=False),  # wall clock: when it was granted
    Column("released_at", Float, nullable=True),
    # The client's Idempotency-Key (a retried POST whose answer was lost gets the same claim back).
    Column("idempotency_key", String(255), nullable=True),
    # When the claim was confirmed (its server exists); an unconfirmed one is released after a grace.
    Column("confirmed_at", Float, nullable=True),
)
region_meta = Table(
    "region_meta",
    metadata,
    Column("key", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
)
books = Table(
    "books",
    metadata,
    *_limit_key(),
    Column("limit", BigInteger, nullable=False),
    Column("pool", BigInteger, nullable=False),
    Column("created_at", Float, nullable=False),
)
grants = Table(
    "grants",
    metadata,
    *_limit_key(),
    Column("region", String(64), primary_key=True),
    Column("granted", BigInteger, nullable=False, default=0),
    Column("reported_share", BigInteger, nullable=True),
    Column("reported_used", BigInteger, nullable=False, default=0),
    Column("heard_at", Float, nullable=True),
    Column("issued_seq", BigInteger, nullable=False, default=0),
    Column("op", String(16), nullable=False, default=Op.NONE.value),
    Column("value", BigInteger, nullable=False, default=0),
    Column("sync_no", BigInteger, nullable=False, default=0),
)
REGION_TABLES = [region_shares, region_claims, region_meta]
COORDINATOR_TABLES = [books, grants]

# The statements of a claim and a release, built once (building one costs more than running it).
_INSERT_CLAIM = region_claims.insert()
_UPDATE_CLAIM = region_claims.update().where(region_claims.c.id == bindparam("i"))
_UPDATE_SHARE = region_shares.update().where(
    region_shares.c.project == bindparam("b_p"), region_shares.c.resource == bindparam("b_r")
)


def engine(url: str) -> Engine:
    """An SQLAlchemy engine on `url`; on SQLite, with the write-ahead log and NORMAL sync."""
    made = create_engine(url)
    if made.dialect.name == "sqlite":

        @event.listens_for(made, "connect")
        def _wal(dbapi_connection: Any, _: object) -> None:
            # The write-ahead log with NORMAL sync: a commit is durable against a crash of the
            # process, and does not wait for the disk (SQLite's documented pairing for WAL).
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

    return made


class _Store:
    def __init__(self, url: str, tables: list[Table]) -> None:
        self.engine = engine(url)
        metadata.create_all(self.engine, tables=tables)
        _add_missing_columns(self.engine, tables)
        self.lock = threading.Lock()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.lock, self.engine.begin() as conn:
            yield conn


def _add_missing_columns(made: Engine, tables: list[Table]) -> None:
    """Columns added since a database was made (nullable ones only), added to it: a region's or the
    coordinator's database of an earlier version keeps working."""
    found = inspect(made)
    with made.begin() as conn:
        for table in tables:
            have = {c["name"] for c in found.get_columns(table.name)}
            for column in table.columns:
                if column.name not in have and column.nullable:
                    kind = column.type.compile(dialect=made.dialect)
                    conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))


@dataclass
class LiveClaim:
    """A claim not released: its project, amounts, when it was made (wall clock), whether it was
    confirmed, and the client's idempotency key."""

    id: str
    project: str
    amounts: dict[str, int]
    created_at: float
    confirmed: bool = False
    key: str | None = None

    def public(self) -> dict[str, Any]:
        """As the API shows it."""
        return {
            "id": self.id,
            "project": self.project,
            "resources": self.amounts,
            "created_at": self.created_at,
            "confirmed": self.confirmed,
            "idempotency_key": self.key,
        }


@dataclass(frozen=True)
class ClaimOutcome:
    """What a claim came to: the claim (None: refused, `why` says why), and whether it is one made
    before under the same idempotency key (nothing new taken)."""

    claim: LiveClaim | None
    why: str = ""
    replayed: bool = False


class RegionStore(_Store):
    """A region's shares of every project's limits, and the claims made against them.

    The process serving the region is the only writer: it keeps every share with its usage in
    memory, decides there, and writes one row per claim (one update per release) before it answers.
    Usage is never stored, only summed from the claims when the process starts, so the two cannot
    disagree after a crash."""

    def __init__(self, url: str) -> None:
        super().__init__(url, REGION_TABLES)
        self.rows: dict[tuple[str, str], RegionShare] = {}
        self.live: dict[str, LiveClaim] = {}
        self.keys: dict[tuple[str, str], tuple[str, dict[str, int]]] = {}  # (project, key) -> id, amounts
        # Claims and releases go through one connection kept open (under the lock): no pool to
        # check out on the claim's path.
        self.writer = self.engine.connect()
        with self.transaction() as conn:
            for r in conn.execute(select(region_shares)):
                # Leases are on this process's monotonic clock: none is valid until the coordinator
                # is heard from again.
                self.rows[r.project, r.resource] = RegionShare(**{c: getattr(r, c) for c in SHARE_COLUMNS})
            for c in conn.execute(select(region_claims)):
                amounts = {r: getattr(c, r) for r in RESOURCES if getattr(c, r)}
                for resource, amount in amounts.items():
                    row = self.rows.setdefault((c.project, resource), RegionShare())
                    row.claimed_total += amount
                    if c.released_at is None:
                        row.used += amount
                if c.idempotency_key is not None:
                    self.keys[c.project, c.idempotency_key] = (c.id, amounts)
                if c.released_at is None:
                    self.live[c.id] = LiveClaim(
                        c.id, c.project, amounts, c.created_at, c.confirmed_at is not None, c.idempotency_key
                    )
            standing = conn.execute(
                select(region_meta.c.value).where(region_meta.c.key == "accepted")
            ).scalar()
        # Whether the coordinator has accepted this region's syncs (its last answer that was one): a
        # region it has never accepted, or has refused since, grants nothing (fail closed).
        self.accepted = bool(standing)

    def set_accepted(self, accepted: bool) -> None:
        """Record the coordinator's last word on this region: its sync accepted, or refused (401/403)."""
        with self.transaction() as conn:
            conn.execute(region_meta.delete().where(region_meta.c.key == "accepted"))
            conn.execute(region_meta.insert().values(key="accepted", value=int(accepted)))
            self.accepted = accepted

    def claim(
        self, project: str, amounts: dict[str, int], now: float, key: str | None = None
    ) -> ClaimOutcome:
        """The claim when every amount fits (or the one made before under the same idempotency `key`),
        else why not, and nothing changes."""
        with self.lock:
            if key is not None and (project, key) in self.keys:
                claim_id, before = self.keys[project, key]
                if before != amounts:
                    why = f"idempotency key {key!r} was used for another claim ({before})"
                    return ClaimOutcome(None, why, replayed=True)
                found = self.live.get(claim_id)
                return ClaimOutcome(
                    found or LiveClaim(claim_id, project, before, 0.0), "" if found else "released", True
                )
            if not self.accepted:
                return ClaimOutcome(None, "the coordinator has not accepted this region (fail closed)")
            rows = {r: self.rows.get((project, r)) or RegionShare() for r in amounts}
            for resource, amount in amounts.items():
                if rows[resource].used + amount > MAX_USAGE:
                    return ClaimOutcome(None, f"{resource}: usage would pass {MAX_USAGE}")
                why = rows[resource].why_not(amount, now)
                if why:
                    return ClaimOutcome(None, f"{resource}: {why}")
            made = LiveClaim(str(uuid.uuid4()), project, dict(amounts), time.time(), key=key)
            record = {
                "id": made.id,
                "project": project,
                "created_at": made.created_at,
                "idempotency_key": key,
            }
            with self.writer.begin():
                self.writer.execute(_INSERT_CLAIM, {**record, **{r: amounts.get(r, 0) for r in RESOURCES}})
            for resource, amount in amounts.items():
                rows[resource].take(amount)
                self.rows[project, resource] = rows[resource]
            self.live[made.id] = made
            if key is not None:
                self.keys[project, key] = (made.id, dict(amounts))
            return ClaimOutcome(made)

    def release(self, claim_id: str) -> str | None:
        """The released claim's project, or None if there is no such live claim."""
        with self.lock:
            found = self.live.get(claim_id)
            if found is None:
                return None
            with self.writer.begin():
                self.writer.execute(_UPDATE_CLAIM, {"i": claim_id, "released_at": time.time()})
            del self.live[claim_id]
            for resource, amount in found.amounts.items():
                self.rows[found.project, resource].give_back(amount)
            return found.project

    def confirm(self, claim_id: str) -> LiveClaim | None:
        """Mark a live claim confirmed (its server exists: it is never released by `expire`); None if
        there is no such live claim."""
        with self.lock:
            found = self.live.get(claim_id)
            if found is None:
                return None
            if not found.confirmed:
                with self.writer.begin():
                    self.writer.execute(_UPDATE_CLAIM, {"i": claim_id, "confirmed_at": time.time()})
                found.confirmed = True
            return found

    def expire(self, grace_s: float, now: float | None = None) -> list[str]:
        """Release every claim left unconfirmed `grace_s` after it was made (wall clock): the ids."""
        cutoff = (time.time() if now is None else now) - grace_s
        stale = [c.id for c in list(self.live.values()) if not c.confirmed and c.created_at < cutoff]
        return [claim_id for claim_id in stale if self.release(claim_id) is not None]

    def claims(self, project: str | None = None) -> list[LiveClaim]:
        """The live claims (of `project`), oldest first."""
        with self.lock:
            found = [c for c in self.live.values() if project is None or c.project == project]
        return sorted(found, key=lambda c: c.created_at)

    def shares(self) -> list[dict[str, Any]]:
        with self.lock:
            return [{"project": p, "resource": r, **asdict(row)} for (p, r), row in self.rows.items()]

    # --- the sync with the coordinator ------------------------------------------------------------
    def report(self) -> tuple[int, list[dict[str, Any]], dict[tuple[str, str], int]]:
        """What the next sync sends: its number, every row, and the claims made so far per row."""
        with self.transaction() as conn:
            no = conn.execute(select(region_meta.c.value).where(region_meta.c.key == "sync_no")).scalar()
            sync_no = (no or 0) + 1
            if no is None:
                conn.execute(region_meta.insert().values(key="sync_no", value=sync_no))
            else:
                conn.execute(region_meta.update().where(region_meta.c.key == "sync_no").values(value=sync_no))
            sent = [
                {
                    "project": p,
                    "resource": r,
                    "share": row.share,
                    "used": row.used,
                    "applied_seq": row.applied_seq,
                }
                for (p, r), row in self.rows.items()
            ]
            claimed = {key: row.used for key, row in self.rows.items()}
        return sync_no, sent, claimed

    def apply(
        self,
        answers: list[dict[str, Any]],
        *,
        sent_at: float,
        used_at_send: dict[tuple[str, str], int],
        term_s: float | None,
    ) -> None:
        with self.transaction() as conn:
            for a in answers:
                key = (a["project"], a["resource"])
                new = key not in self.rows
                row = self.rows.get(key) or RegionShare()
                answer = Instruction(a["seq"], Op(a["op"]), a["value"], a["slack"], a["allowance"])
                apply(row, answer, sent_at=sent_at, used_at_send=used_at_send.get(key, 0), term_s=term_s)
                stored = {c: getattr(row, c) for c in SHARE_COLUMNS}
                if new:
                    conn.execute(region_shares.insert(), {"project": key[0], "resource": key[1], **stored})
                else:
                    conn.execute(_UPDATE_SHARE, {"b_p": key[0], "b_r": key[1], **stored})
                self.rows[key] = row


class CoordinatorStore(_Store):
    """Every project's global limits and what each region is granted of them."""

    def __init__(self, url: str, regions: list[str]) -> None:
        super().__init__(url, COORDINATOR_TABLES)
        self.regions = regions
        now = time.monotonic()
        with self.transaction() as conn:
            # Times are on this process's monotonic clock: after a restart, count every region as
            # heard from now (a reclaim waits a full term more, never less).
            conn.execute(grants.update().where(grants.c.heard_at.is_not(None)).values(heard_at=now))
            conn.execute(books.update().values(created_at=now))

    def _book(self, conn: Connection, project: str, resource: str) -> Book | None:
        row = conn.execute(
            select(books).where(books.c.project == project, books.c.resource == resource).with_for_update()
        ).first()
        if row is None:
            return None
        found: dict[str, Grant] = {r: Grant() for r in self.regions}
        for g in conn.execute(
            select(grants).where(grants.c.project == project, grants.c.resource == resource)
        ):
            found[g.region] = Grant(
                granted=g.granted,
                reported_share=g.reported_share,
                reported_used=g.reported_used,
                heard_at=g.heard_at,
                issued_seq=g.issued_seq,
                outstanding=Instruction(g.issued_seq, Op(g.op), g.value),
                sync_no=g.sync_no,
            )
        return Book(row.limit, row.pool, found, row.created_at)

    @staticmethod
    def _write(conn: Connection, project: str, resource: str, book: Book) -> None:
        key = (books.c.project == project, books.c.resource == resource)
        conn.execute(books.update().where(*key).values(limit=book.limit, pool=book.pool))
        conn.execute(grants.delete().where(grants.c.project == project, grants.c.resource == resource))
        for region, g in book.grants.items():
            conn.execute(
                grants.insert().values(
                    project=project,
                    resource=resource,
                    region=region,
                    granted=g.granted,
                    reported_share=g.reported_share,
                    reported_used=g.reported_used,
                    heard_at=g.heard_at,
                    issued_seq=g.issued_seq,
                    op=g.outstanding.op.value,
                    value=g.outstanding.value,
                    sync_no=g.sync_no,
                )
            )

    def limits(self, project: str) -> dict[str, int]:
        with self.transaction() as conn:
            rows = conn.execute(select(books.c.resource, books.c.limit).where(books.c.project == project))
            return {r.resource: r.limit for r in rows}

    def set_limits(self, project: str, limits: dict[str, int]) -> None:
        now = time.monotonic()
        with self.transaction() as conn:
            for resource, limit in limits.items():
                book = self._book(conn, project, resource)
                if book is None:
                    conn.execute(
                        books.insert().values(
                            project=project, resource=resource, limit=limit, pool=limit, created_at=now
                        )
                    )
                    book = Book.new(limit, self.regions, now)
                else:
                    book.set_limit(limit)
                self._write(conn, project, resource, book)

    def delete_limits(self, project: str, resources: list[str] | None = None) -> list[str]:
        with self.transaction() as conn:
            query = books.delete().where(books.c.project == project)
            gone = grants.delete().where(grants.c.project == project)
            if resources is not None:
                query = query.where(books.c.resource.in_(resources))
                gone = gone.where(grants.c.resource.in_(resources))
            deleted = [
                r.resource
                for r in conn.execute(select(books.c.resource).where(books.c.project == project))
                if resources is None or r.resource in resources
            ]
            conn.execute(query)
            conn.execute(gone)
            return deleted

    def sync(
        self, region: str, sync_no: int, rows: list[dict[str, Any]], policy: Policy
    ) -> list[dict[str, Any]]:
        """The answer to a region's sync: an instruction per limited (project, resource), and
        `unlimited` for a share the region holds of a limit that no longer exists."""
        now = time.monotonic()
        reported = {(r["project"], r["resource"]): r for r in rows}
        answers = []
        with self.transaction() as conn:
            keys = [(b.project, b.resource) for b in conn.execute(select(books.c.project, books.c.resource))]
            for project, resource in keys:
                book = self._book(conn, project, resource)
                assert book is not None
                r = reported.get((project, resource))
                report = Report(
                    r["share"] if r else None, r["used"] if r else 0, r["applied_seq"] if r else 0, sync_no
                )
                answer = book.sync(region, report, now, policy)
                book.reclaim(now, policy)
                self._write(conn, project, resource, book)
                answers.append({"project": project, "resource": resource, **asdict(answer)})
            for (project, resource), r in reported.items():
                if (project, resource) not in keys and r["share"] is not None:
                    answers.append(
                        {
                            "project": project,
                            "resource": resource,
                            "seq": r["applied_seq"] + 1,
                            "op": Op.UNLIMITED.value,
                            "value": 0,
                            "slack": 0,
                            "allowance": None,
                        }
                    )
        return answers

    def reclaim(self, policy: Policy) -> None:
        now = time.monotonic()
        with self.transaction() as conn:
            for b in conn.execute(select(books.c.project, books.c.resource)).all():
                book = self._book(conn, b.project, b.resource)
                assert book is not None
                before = (book.pool, [g.granted for g in book.grants.values()])
                book.reclaim(now, policy)
                if (book.pool, [g.granted for g in book.grants.values()]) != before:
                    self._write(conn, b.project, b.resource, book)

    def books(self, policy: Policy) -> list[dict[str, Any]]:
        now = time.monotonic()
        with self.transaction() as conn:
            out = []
            for b in conn.execute(select(books.c.project, books.c.resource)).all():
                book = self._book(conn, b.project, b.resource)
                assert book is not None
                out.append(
                    {
                        "project": b.project,
                        "resource": b.resource,
                        "limit": book.limit,
                        "pool": book.pool,
                        "stranded": book.stranded(now, policy),
                        "regions": {
                            region: {
                                "granted": g.granted,
                                "used": g.reported_used,
                                "heard_s_ago": None if g.heard_at is None else round(now - g.heard_at, 3),
                            }
                            for region, g in book.grants.items()
                        },
                    }
                )
            return out
