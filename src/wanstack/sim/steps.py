"""The one interpreter of the workflow language (`workflows.Step`): how a sequence of steps, a call's
inner steps and parallel branches compose, with each kind of step handed to an engine's handler.

Every engine walks workflows through `walk` with a handler of its own: the simulator
(`operations.Runner`: messages in simulated time), the crossing counter (`crossings`: a sum along the
critical path) and the real replay (`bench.replay`: real traffic, blocking). A handler is written in
continuation-passing style — each method does its step from a context `ctx` and calls `then` with
the context after it — so one walker serves an event-driven engine and a blocking one alike.

`step` matches over the whole `Step` union and ends with `assert_never`: a new kind of step that is
not handled here fails mypy, and so does a handler without a method for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Protocol, TypeVar, assert_never

from wanstack.sim import workflows as wf
from wanstack.sim.workflows import Role, Step

C = TypeVar("C")
Then = Callable[[C], None]
# A sequence of steps, ready to run from a context and then continue: a call's inner steps, a branch.
Steps = Callable[[C, Then[C]], None]


class StepHandler(Protocol[C]):
    """One engine's meaning of each kind of step."""

    def stopped(self, ctx: C) -> bool:
        """Whether the walk ends here (the operation has failed or timed out): checked before every
        step and before a sequence continues."""
        ...

    def http(self, step: wf.Http, ctx: C, then: Then[C]) -> None: ...

    def db(self, step: wf.Db, ctx: C, then: Then[C]) -> None: ...

    def call(self, step: wf.Call, ctx: C, inner: Steps[C], then: Then[C]) -> None:
        """`inner` runs the call's inner steps: the server does them before it replies."""
        ...

    def cast(self, step: wf.Cast, ctx: C, then: Then[C]) -> None: ...

    def notify(self, step: wf.Notify, ctx: C, then: Then[C]) -> None: ...

    def local(self, step: wf.Local, ctx: C, then: Then[C]) -> None: ...

    def authenticate(self, step: wf.Authenticate, ctx: C, then: Then[C]) -> None: ...

    def validate_token(self, step: wf.ValidateToken, ctx: C, then: Then[C]) -> None: ...

    def select_host(self, step: wf.SelectHost, ctx: C, then: Then[C]) -> None: ...

    def fetch_image(self, step: wf.FetchImage, ctx: C, then: Then[C]) -> None: ...

    def migrate_memory(self, step: wf.MigrateMemory, ctx: C, then: Then[C]) -> None: ...

    def fork(self, step: wf.Parallel, branches: Sequence[Steps[C]], ctx: C, then: Then[C]) -> None:
        """Run every branch from `ctx`; continue once all are done (`then` with the joined context)."""
        ...

    def hold(self, step: wf.Hold, inner: Steps[C], ctx: C, then: Then[C]) -> None:
        """`inner` runs the held steps once the lock is had; the lock is let go after them."""
        ...

    def quota(self, step: wf.Quota, ctx: C, then: Then[C]) -> None:
        """A quota claim or release, as the scenario's quotas enforce it."""
        ...

    def respond(self, step: wf.Respond, ctx: C, then: Then[C]) -> None:
        """The answer to the request made `answered_later` leaves; the walk goes on at once."""
        ...

    def visible(self, step: wf.Visible, ctx: C, then: Then[C]) -> None:
        """The operation is done as its client sees it; the walk goes on with the steps after."""
        ...


def walk(steps: Sequence[Step], handler: StepHandler[C], ctx: C, then: Then[C], i: int = 0) -> None:
    """Run `steps[i:]` one after the other, then `then`."""
    if handler.stopped(ctx):
        return
    if i == len(steps):
        then(ctx)
        return
    step(steps[i], handler, ctx, lambda after: walk(steps, handler, after, then, i + 1))


def steps_of(steps: Sequence[Step], handler: StepHandler[C]) -> Steps[C]:
    """`steps` as one runnable sequence."""
    return lambda ctx, then: walk(steps, handler, ctx, then)


def step(s: Step, handler: StepHandler[C], ctx: C, then: Then[C]) -> None:
    """Run one step."""
    match s:
        case wf.Http():
            handler.http(s, ctx, then)
        case wf.Db():
            handler.db(s, ctx, then)
        case wf.Call():
            handler.call(s, ctx, steps_of(s.inner, handler), then)
        case wf.Cast():
            handler.cast(s, ctx, then)
        case wf.Notify():
            handler.notify(s, ctx, then)
        case wf.Local():
            handler.local(s, ctx, then)
        case wf.Authenticate():
            handler.authenticate(s, ctx, then)
        case wf.ValidateToken():
            handler.validate_token(s, ctx, then)
        case wf.SelectHost():
            handler.select_host(s, ctx, then)
        case wf.FetchImage():
            handler.fetch_image(s, ctx, then)
        case wf.MigrateMemory():
            handler.migrate_memory(s, ctx, then)
        case wf.Parallel():
            handler.fork(s, [steps_of(b, handler) for b in s.branches], ctx, then)
        case wf.Hold():
            handler.hold(s, steps_of(s.steps, handler), ctx, then)
        case wf.Quota():
            handler.quota(s, ctx, then)
        case wf.Respond():
            handler.respond(s, ctx, then)
        case wf.Visible():
            handler.visible(s, ctx, then)
        case _:
            assert_never(s)


def every_step(steps: Sequence[Step]) -> Iterator[Step]:
    """Every step of a workflow, nested ones (a call's inner steps, parallel branches) included."""
    for s in steps:
        yield s
        if isinstance(s, wf.Call):
            yield from every_step(s.inner)
        elif isinstance(s, wf.Hold):
            yield from every_step(s.steps)
        elif isinstance(s, wf.Parallel):
            for branch in s.branches:
                yield from every_step(branch)


def roles_of(s: Step) -> tuple[Role, ...]:
    """The roles a step names: who talks to whom."""
    match s:
        case wf.Http() | wf.Call() | wf.Cast():
            return (s.client, s.server)
        case wf.Db():
            return (s.client, s.db)
        case wf.Notify():
            return (s.sender,)
        case wf.Local():
            return (s.role,)
        case wf.ValidateToken():
            return (s.server,)
        case (
            wf.Authenticate()
            | wf.SelectHost()
            | wf.MigrateMemory()
            | wf.Parallel()
            | wf.Hold()
            | wf.Respond()
            | wf.Visible()
        ):
            return ()
        case wf.Quota():
            return ()
        case wf.FetchImage():
            return (Role.GLANCE, Role.IMAGE_STORE)
        case _:
            assert_never(s)
