"""Broken in the checkers' calls: a decision model, invariants and a log
invariant that disagree with the decider, fail, and raise at different
points of a run, and reach probes on the way. essim must find the same
whether it asks them one call at a time or walks them in one request
(protocol.md, "Capabilities": model_walk, invariant_walk, log_walk)."""

import os

from common import essim, serve_patched, tiny

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
    # With WALKS_CALLS set, the names of the calls essim made are appended
    # to that file at the end: a test can tell that the walks were used.
    calls = set()

    def record(session, request):
        calls.add(request.get("call"))

    serve_patched(domain, record)
    if os.environ.get("WALKS_CALLS"):
        with open(os.environ["WALKS_CALLS"], "a", encoding="utf-8") as out:
            out.write(" ".join(sorted(c for c in calls if isinstance(c, str))) + "\n")
