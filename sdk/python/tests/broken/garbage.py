"""Broken: answers a line holding a `decide` with a line that is not JSON."""

from common import GARBAGE, serve_patched, tiny


def garbage_for_decide(session, request):
    return GARBAGE if request.get("call") == "decide" else None


if __name__ == "__main__":
    serve_patched(tiny(), garbage_for_decide)
