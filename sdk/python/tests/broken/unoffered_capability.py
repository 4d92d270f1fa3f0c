"""Broken: its handshake claims a capability essim did not offer."""

from common import serve_patched, tiny


def claims_teleport(session, request):
    if request.get("call") != "hello":
        return None
    response = session.handle(request)
    response["ok"]["capabilities"] = ["fold", "teleport"]
    return response


if __name__ == "__main__":
    serve_patched(tiny(), claims_teleport)
