"""Broken in the checkers' calls: a decision model, invariants and a log
invariant that disagree with the decider, fail, and raise at different
points of a run, and reach probes on the way. essim must find the same
whether it asks them one call at a time or walks them in one request
(protocol.md, "Capabilities": model_walk, invariant_walk, log_walk)."""

from common import essim, record_calls, tiny

domain = tiny()
domain.declare_probe("walks.seven-judged", "the decision model judged an add of 7")
domain.declare_probe("walks.nine-counted", "the log invariant counted an add of 9")


@domain.decision_model
class Rules(essim.DecisionModel):
    """Agrees with the decider but for an add of 7 on an odd total, which it
    refuses; raises on an add of 9 past a total of 60."""

    def accepts(self, state, command):
        total = 0 if state is None else state["total"]
        n = command.payload["n"]
        if n == 7:
            essim.probe("walks.seven-judged")
            return total % 2 == 0
        if n == 9 and total > 60:
            raise RuntimeError(f"the model cannot judge a 9 on {total}")
        return True

    def apply(self, state, command):
        state = {"total": 0} if state is None else state
        state["total"] += command.payload["n"]
        return state


@domain.invariant("below_eighty", "a counter stays below 80", stream_prefix="c-")
def below_eighty(state):
    if state["total"] == 33:
        raise ValueError("33 is not judged")
    return state["total"] < 80


@domain.log_invariant("few_nines", "at most three adds of 9 in the whole log")
def few_nines(memory, event):
    if event.data.n != 9:
        return ""
    essim.probe("walks.nine-counted")
    memory["nines"] = memory.get("nines", 0) + 1
    if memory["nines"] == 3 and event.stream == "c-2":
        raise KeyError("a third nine on c-2")
    return f"{memory['nines']} adds of 9" if memory["nines"] > 3 else ""


if __name__ == "__main__":
    record_calls()
    domain.serve()
