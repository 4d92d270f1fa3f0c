"""The floor under every call essim makes to an external domain: a pipe
round trip of one 200-byte line between two Python processes, as essim's
lockstep exchange makes them. Prints microseconds per round trip.

    python3 bench/pipe_round_trip.py               # free to use every core
    taskset -c 0 python3 bench/pipe_round_trip.py  # both on one core
"""

import subprocess
import sys
import time

ROUND_TRIPS = 5000
LINE = b"x" * 200 + b"\n"


def echo() -> None:
    for line in sys.stdin.buffer:
        sys.stdout.buffer.write(line)
        sys.stdout.buffer.flush()


def main() -> None:
    child = subprocess.Popen([sys.executable, __file__, "echo"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE)
    start = time.perf_counter()
    for _ in range(ROUND_TRIPS):
        child.stdin.write(LINE)
        child.stdin.flush()
        child.stdout.readline()
    elapsed = time.perf_counter() - start
    child.stdin.close()
    child.wait()
    print(f"{elapsed / ROUND_TRIPS * 1e6:.1f} us per round trip ({ROUND_TRIPS} of "
          f"{len(LINE)} bytes)")


if __name__ == "__main__":
    echo() if sys.argv[1:] == ["echo"] else main()
