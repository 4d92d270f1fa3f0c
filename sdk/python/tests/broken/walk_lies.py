"""Broken: answers a walk with what cannot be (WALK_LIE picks which):
`model` says more steps agreed than were sent, `invariant` an event past
the last, `log` a rule broken at an event with nothing said. essim stops
with exit 3, naming the call."""

import os

from common import serve_patched
from walks import domain

LIE = os.environ.get("WALK_LIE", "")


def lie(session, request):
    call = request.get("call")
    if call not in ("model_walk", "invariant_walk", "log_walk") or not call.startswith(LIE):
        return None
    response = session.handle(request)
    if "ok" not in response:
        return response
    if call == "model_walk":
        response["ok"]["agreed"] = len(request["steps"]) + 1
    elif call == "invariant_walk":
        response["ok"]["at"] = len(request["events"]) + 5
    elif request["events"]:
        response["ok"]["at"], response["ok"]["broken"] = 0, ""
    return response


if __name__ == "__main__":
    serve_patched(domain, lie)
