"""The Python SDK's side of a batch alone: a 512-event `apply_many` request
line (as essim writes it) answered by bench/trivial_handler.py's session in
this process, no pipes, no essim. Prints the best of 7 rounds of 20 lines.

    python3 bench/python_apply_many.py [ROOT]

ROOT is a checkout whose sdk/python and bench/trivial_handler.py are used
(default: this one), so two checkouts can be compared."""
import json
import os
import runpy
import sys
import time

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
sys.path.insert(0, os.path.join(ROOT, "sdk", "python"))
handler = runpy.run_path(os.path.join(ROOT, "bench", "trivial_handler.py"), run_name="bench")
essim = sys.modules["essim"]

session = essim.Session(handler["trivial"])
session.handle_line(json.dumps({"id": 0, "call": "hello", "protocol": 1,
                                "capabilities": ["fold", "apply_many"]}).encode())
events = [{"id": f"{i:032x}", "payload": {"n": 1}, "position": i + 1, "schema_version": 1,
           "stream": f"s-{i % 8}", "type": "Ticked", "version": i // 8 + 1} for i in range(512)]
line = json.dumps([{"events": events, "call": "apply_many", "handler": "ticks", "id": 1,
                    "model": 3}], separators=(",", ":")).encode()
answer = json.loads(session.handle_line(line))
if "ok" not in answer[0]:
    sys.exit(f"apply_many was not answered: {answer}")
best = 0.0
for _ in range(7):
    start = time.perf_counter()
    for _ in range(20):
        session.handle_line(line)
    best = max(best, 20 * len(events) / (time.perf_counter() - start))
print(f"{os.path.abspath(ROOT)}: {best / 1000:.0f} k events/s (best of 7)")
