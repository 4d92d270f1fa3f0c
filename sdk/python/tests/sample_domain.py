"""A small domain touching every part of the SDK, for test_essim.py: the
tests drive it in-process through essim.Session, and as a process
(`python3 sample_domain.py`, or `--listen HOST:PORT`).

Counters ("c-N") are added to and taken from. Some commands misbehave on
purpose: "boom" raises, "chatty" prints, "float" decides a float payload.
"""

import pathlib
import sys
from dataclasses import dataclass

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import essim  # noqa: E402

sample = essim.Domain("sample", "counters, for the SDK's tests")


@sample.event(version=2)
@dataclass(frozen=True)
class Added:
    n: int
    note: str


@sample.event("Added", version=1)
@dataclass(frozen=True)
class AddedV1:
    n: int


@sample.event
class Taken:  # not declared a dataclass: @event makes it one
    n: int


@sample.event("Noted")
@dataclass(frozen=True)
class Noted:
    value: object


@sample.upcaster(AddedV1)
def added_v1_to_v2(old):
    return Added(old.n, "")


@sample.old_writer(AddedV1)
def write_added_v1(new):
    return AddedV1(new.n) if new.note == "" else None


def explode(n):
    raise ValueError(f"boom with {n}")


@sample.aggregate
class Counter(essim.Aggregate):
    initial = {"total": 0}
    handles = [Added, Taken]
    ignores = ["Noted"]

    def decide(self, state, command):
        n = command.payload.get("n", 0)
        match command.kind:
            case "add":
                return [Added(n, command.payload.get("note", ""))]
            case "take":
                if n > state["total"]:
                    raise essim.Refused("not enough")
                return [Taken(n)]
            case "boom":
                return explode(n)
            case "chatty":
                print("chatty decide says hello on stdout")
                return [Noted("chatty")]
            case "float":
                return [Noted({"ratio": n / 3})]
            case "nothing":
                return []
        return essim.Refused(f"no command {command.kind}")

    def evolve(self, state, event):
        match event.data:
            case Added(n=n):
                return {"total": state["total"] + n}
            case Taken(n=n):
                return {"total": state["total"] - n}
        return state


@sample.decision_model
class Rules(essim.DecisionModel):
    kinds = ["add", "take"]

    def accepts(self, state, command):
        return command.kind == "add" or command.payload["n"] <= (state or 0)

    def apply(self, state, command):
        sign = 1 if command.kind == "add" else -1
        return (state or 0) + sign * command.payload["n"]


@sample.invariant("never_negative", "a counter never goes below zero", stream_prefix="c-")
def never_negative(state):
    return state["total"] >= 0


@sample.invariant("not_a_bool", "answers 1 instead of True")
def not_a_bool(state):
    return 1


@sample.log_invariant("takes_bounded", "no counter was ever taken more than added",
                      initial={"added": 0, "taken": 0})
def takes_bounded(memory, event):
    if event.type == "Added":
        memory["added"] += event.payload["n"]
    if event.type == "Taken":
        memory["taken"] += event.payload["n"]
    return "taken more than added" if memory["taken"] > memory["added"] else ""


@takes_bounded.at_end
def takes_bounded_at_end(memory):
    return "" if memory["added"] >= memory["taken"] else "unbalanced"


@sample.handler("totals", "counter -> total and last version", handles=[Added, Taken],
                ignores=[Noted])
def totals(model, event):
    row = model.get(event.stream)
    if row is not None and event.version <= row["version"]:
        return
    row = row or {"total": 0, "version": 0}
    sign = {"Added": 1, "Taken": -1}.get(event.type, 0)
    row["total"] += sign * event.payload.get("n", 0)
    row["version"] = event.version
    model[event.stream] = row


@totals.reference
def totals_reference(log):
    model = {}
    for e in log:
        row = model.setdefault(e.stream, {"total": 0, "version": 0})
        row["version"] = e.version
        row["total"] += {"Added": 1, "Taken": -1}.get(e.type, 0) * e.payload.get("n", 0)
    return model


@sample.handler("latest", "keeps the last event's stream only, deleting the others",
                reads="all")
def latest(model, event):
    for stream in [s for s in model if s != event.stream]:
        del model[stream]
    model[event.stream] = event.version


@sample.handler("scratch", "does whatever the event's payload says to its read model")
def scratch(model, event):
    p = event.payload
    if "read" in p:
        model.get(p["read"])
    if "set" in p:
        model[p["set"]] = p["to"]
    if "append" in p:
        model[p["append"]].append(p["to"])  # changed in place
    if "delete" in p:
        del model[p["delete"]]
    if "iterate" in p:
        list(model)
    if "fail" in p:
        raise RuntimeError("scratch failed on purpose")


@sample.read_model_invariant("totals_not_negative", "no total in the read model is negative",
                             handler="totals")
def totals_not_negative(model):
    return ", ".join(s for s, row in sorted(model.items()) if row["total"] < 0)


@sample.work("add", weight=3)
def add(rng):
    return essim.Command("add", f"c-{rng.below(4)}", {"n": rng.between(1, 100)})


@sample.work("take", weight=1)
def take(rng):
    return essim.Command("take", f"c-{rng.below(4)}", {"n": rng.between(1, 100)})


@sample.work("move", weight=1)
def move(rng):
    n = rng.between(1, 10)
    source, target = f"c-{rng.below(4)}", f"c-{rng.below(4)}"
    return essim.Saga(f"move-{rng.next64():016x}", [
        essim.Step(essim.Command("take", source, {"n": n}),
                   essim.Command("add", source, {"n": n}))])


@sample.next_step
def plan(saga, done):
    if len(saga.steps) > 1:
        return None
    taken = done[0][0]
    return essim.Step(essim.Command("add", "c-0", {"n": taken.n}))


if __name__ == "__main__":
    sample.serve()
