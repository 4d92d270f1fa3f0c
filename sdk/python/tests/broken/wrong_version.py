"""Broken: its handshake says protocol 2 (essim speaks 1)."""

from common import serve_patched, tiny


def says_protocol_2(session, request):
    if request.get("call") != "hello":
        return None
    response = session.handle(request)
    response["ok"]["protocol"] = 2
    return response


if __name__ == "__main__":
    serve_patched(tiny(), says_protocol_2)
