"""Broken in its schema evolution: Added v2 (n, note) was Added v1 (n). The
upcaster gets an add of 4 wrong (5) and raises on a (rare) 10; the old
writer raises on a (rare) 11. decide still writes an add of 2 at v1, so
the log holds old events; an invariant raises after the third of them. upcast_equivalence must find the same whether essim
writes, upcasts and decides one call at a time or several in one request
(protocol.md, "Batches")."""

from dataclasses import dataclass

from common import essim, record_calls

domain = essim.Domain("upcasts", "counters whose Added changed schema, broken (tests/broken)")


@domain.event("Added", version=2)
@dataclass(frozen=True)
class Added:
    n: int
    note: str


@domain.event("Added", version=1)
@dataclass(frozen=True)
class AddedV1:
    n: int


@domain.upcaster(AddedV1)
def to_v2(old: AddedV1) -> Added:
    if old.n == 10:
        raise ValueError("a 10 does not upcast")
    return Added(5 if old.n == 4 else old.n, "")


@domain.old_writer(AddedV1)
def write_v1(added: Added) -> AddedV1:
    if added.n == 11:
        raise OverflowError("v1 wrote no 11")
    return AddedV1(added.n)


@domain.aggregate
class Counter(essim.Aggregate):
    initial = {"total": 0, "twos": 0}
    handles = [Added]

    def decide(self, state, command):
        n = command.payload["n"]
        if state["total"] + n > 60:
            raise essim.Refused(f"{state['total']} + {n} is past 60")
        if n == 2:
            return [AddedV1(n)]  # an old writer still at work
        return [Added(n, f"from {state['total']}")]

    def evolve(self, state, event):
        return {"total": state["total"] + event.data.n,
                "twos": state["twos"] + (event.data.n == 2)}


@domain.invariant("few_twos", "judged until a counter's third add of 2", stream_prefix="c-")
def few_twos(state):
    if state["twos"] == 3:
        raise ValueError("a third 2 is not judged")
    return True


@domain.work("add")
def add(rng):
    rare = rng.below(80)
    n = 10 if rare == 0 else 11 if rare == 1 else rng.between(1, 9)
    return essim.Command("add", f"c-{rng.below(3)}", {"n": n})


if __name__ == "__main__":
    record_calls()
    domain.serve()
