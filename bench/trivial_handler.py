"""The trivial handler bench/external_bench.cc drives over pipes: one event
type, one counter per stream. Run by the benchmark, not by hand."""
import os
import sys
from dataclasses import dataclass

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sdk", "python"))
import essim  # noqa: E402

trivial = essim.Domain("trivial", "one counter per stream")


@trivial.event()
@dataclass
class Ticked:
    n: int


@trivial.aggregate
class Clock(essim.Aggregate):
    initial = {"ticks": 0}

    def decide(self, state, command):
        return [Ticked(1)]

    def evolve(self, state, event):
        return {"ticks": state["ticks"] + event.data.n}


@trivial.handler("ticks", handles=[Ticked])
def ticks(model, event):
    model[event.stream] = model.get(event.stream, 0) + event.data.n


@trivial.work("tick", weight=1)
def tick(rng):
    return essim.Command("tick", f"s-{rng.below(8)}", {"n": 1})


if __name__ == "__main__":
    trivial.serve()
