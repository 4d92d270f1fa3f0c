"""Broken: answers every call but `decide`, which never returns (until the
process is killed)."""

import sys
import threading

from common import tiny


def hang(state, command):
    print("hangs: decide will never answer", file=sys.stderr, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    tiny(before_decide=hang).serve()
