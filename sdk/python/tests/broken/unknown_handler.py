"""Broken: declares the handler `totals` in its handshake, then answers
every `apply` (and `load`) with a protocol_error, as a process that lost
the handler would."""

from common import serve_patched, tiny


def no_totals(session, request):
    if request.get("call") not in ("apply", "load"):
        return None
    return {"id": request["id"], "protocol_error": f"no handler {request.get('handler')!r}"}


if __name__ == "__main__":
    serve_patched(tiny(), no_totals)
