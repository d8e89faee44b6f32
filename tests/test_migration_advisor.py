"""The advisor's decision follows the criteria: it flips when the link, the guest or the destination
changes the way an operator would expect."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from wanstack.migration.advisor import LinkState, SiteState, VmState, advise
from wanstack.migration.cost import Guest


def situation(
    memory_mb: float, dirty: float, src_load: float, dst_load: float, gbits: float
) -> tuple[VmState, dict[str, SiteState], dict[str, LinkState]]:
    vm = VmState("vm-1", "a", Guest(memory_mb, dirty), 4, {"a": 5.0, "b": 5.0})
    sites = {
        "a": SiteState("a", src_load, 0.0, 0, ram_mb=1e7),
        "b": SiteState("b", dst_load, 1e6, 1000, ram_mb=1e7),
    }
    return vm, sites, {"b": LinkState(gbits * 1000, 10.0)}


favourable = {
    "memory_mb": st.floats(512, 16_384),
    "dirty": st.floats(0.0, 50.0),  # MB/s, well under a 1 Gbit/s link
    "src_load": st.floats(0.85, 0.98),
    "dst_load": st.floats(0.0, 0.5),
    "gbits": st.floats(1.0, 10.0),
}


@given(**favourable)
def test_a_busy_site_sheds_a_vm_to_an_idle_one_over_a_fast_link(**kw: float) -> None:
    assert advise(*situation(**kw)).move_to == "b"


@given(**favourable)
def test_no_move_when_the_link_is_slower_than_the_guest_dirties_memory(**kw: float) -> None:
    kw["dirty"] = max(kw["dirty"], 20.0)
    vm, sites, paths = situation(**kw)
    slow = {"b": replace(paths["b"], bandwidth_mbps=kw["dirty"] * 8 * 0.5)}  # half the dirty rate
    advice = advise(vm, sites, slow)
    assert advice.move_to is None
    assert "converge" in advice.candidates[0].why_not


@given(**favourable, hot=st.floats(150.0, 2000.0))
def test_no_move_when_the_dirty_rate_outruns_the_link(hot: float, **kw: float) -> None:
    kw["gbits"] = 1.0
    kw["dirty"] = hot  # MB/s, beyond 1 Gbit/s = 125 MB/s
    assert advise(*situation(**kw)).move_to is None


@given(**favourable, busier=st.floats(0.0, 0.5))
def test_a_busier_destination_scores_lower_and_one_as_busy_as_the_source_is_refused(
    busier: float, **kw: float
) -> None:
    low = advise(*situation(**kw)).candidates[0].score
    high = advise(*situation(**{**kw, "dst_load": kw["dst_load"] + busier + 1e-3})).candidates[0].score
    assert high < low
    assert advise(*situation(**{**kw, "dst_load": kw["src_load"]})).move_to is None


def test_constraints_capacity_anti_affinity_downtime_and_users() -> None:
    vm, sites, paths = situation(4096, 10.0, 0.95, 0.2, 10.0)
    assert advise(vm, sites, paths).move_to == "b"
    full = {**sites, "b": replace(sites["b"], free_ram_mb=1000.0)}
    assert "RAM" in advise(vm, full, paths).candidates[0].why_not
    grouped = replace(vm, group="db")
    taken = {**sites, "b": replace(sites["b"], groups=frozenset({"db"}))}
    assert "anti-affinity" in advise(grouped, taken, paths).candidates[0].why_not
    strict = replace(vm, max_downtime_ms=1.0)
    assert "downtime" in advise(strict, sites, paths).candidates[0].why_not
    far_users = replace(vm, users_rtt_ms={"a": 5.0, "b": 80.0}, max_users_rtt_ms=50.0)
    assert "users" in advise(far_users, sites, paths).candidates[0].why_not
    terms = advise(vm, sites, paths).candidates[0].terms
    assert set(terms) == {"gain", "transfer", "downtime", "latency", "congestion", "distance"}
