"""The minimal domain every broken process is built on, and a serving loop
that lets a script break the protocol itself.

The domain, "broken": counters ("c-0".."c-2") that Added events raise; a
handler `totals`, an invariant `never_negative`, one kind of work `add`.
"""

import atexit
import json
import os
import pathlib
import sys
from dataclasses import dataclass

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))

import essim  # noqa: E402

GARBAGE = object()  # what a patch returns to answer a line with garbage


def tiny(before_decide=lambda state, command: None,
         before_evolve=lambda state, event: None) -> essim.Domain:
    """The domain, calling `before_decide(state, command)` in every decide
    and `before_evolve(state, event)` in every evolve."""
    domain = essim.Domain("broken", "counters, broken one way (sdk/python/tests/broken)")

    @domain.event()
    @dataclass(frozen=True)
    class Added:
        n: int

    @domain.aggregate
    class Counter(essim.Aggregate):
        initial = {"total": 0}
        handles = [Added]

        def decide(self, state, command):
            before_decide(state, command)
            return [Added(command.payload["n"])]

        def evolve(self, state, event):
            before_evolve(state, event)
            return {"total": state["total"] + event.data.n}

    @domain.handler("totals", "counter -> total", handles=[Added])
    def totals(model, event):
        row = model.get(event.stream, {"total": 0, "version": 0})
        if event.version > row["version"]:
            model[event.stream] = {"total": row["total"] + event.data.n, "version": event.version}

    @domain.invariant("never_negative", "a counter never goes below zero", stream_prefix="c-")
    def never_negative(state):
        return state["total"] >= 0

    @domain.work("add")
    def add(rng):
        return essim.Command("add", f"c-{rng.below(3)}", {"n": rng.between(1, 10)})

    return domain


def serve_patched(domain: essim.Domain, patch) -> None:
    """Serves `domain` on stdin and stdout, but asks `patch(session, request)`
    first for each request: a response to send instead, GARBAGE to answer
    the whole line with a line that is not JSON, or None for the SDK's."""
    session = essim.Session(domain)
    for line in sys.stdin.buffer:
        request = json.loads(line)
        requests = request if isinstance(request, list) else [request]
        answers = [patch(session, r) or session.handle(r) for r in requests]
        if any(a is GARBAGE for a in answers):
            out = "this is not json\n"
        else:
            out = json.dumps(answers if isinstance(request, list) else answers[0]) + "\n"
        sys.stdout.write(out)
        sys.stdout.flush()
        if session.finished:
            return


def record_calls() -> None:
    """With ESSIM_TEST_CALLS set, appends the names of the calls essim made
    to that file when the process ends, those it sent in a batch of more
    than one request as NAME[], a fold's `then` as fold+NAME: a test can
    tell which ways were used."""
    path = os.environ.get("ESSIM_TEST_CALLS")
    if not path:
        return
    seen = set()
    handle = essim.Session.handle

    def recording(session, request):
        requests = request if isinstance(request, list) else [request]
        for r in requests:
            call = r.get("call") if isinstance(r, dict) else None
            then = r.get("then") if isinstance(r, dict) else None
            if isinstance(then, dict) and isinstance(then.get("call"), str):
                call = f"{call}+{then['call']}"
            if isinstance(call, str):
                seen.add(call + ("[]" if len(requests) > 1 else ""))
        return handle(session, request)

    essim.Session.handle = recording

    def write():
        with open(path, "a", encoding="utf-8") as out:
            out.write(" ".join(sorted(seen)) + "\n")

    atexit.register(write)
