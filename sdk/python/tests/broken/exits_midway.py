"""Broken: answers the handshake (and `initial`), then exits with status 3
in the middle of its first `decide`, without answering it."""

import sys

from common import tiny


def exit_now(state, command):
    print("exits_midway: exiting in the middle of decide", file=sys.stderr, flush=True)
    sys.exit(3)


if __name__ == "__main__":
    tiny(before_decide=exit_now).serve()
