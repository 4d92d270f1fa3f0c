"""A tiny domain speaking the essim process protocol directly (no SDK):
counters that add and take away, never below zero. For essim's own tests
of the C++ side. TINY_BUG=... in the environment breaks it one way."""
import json
import os
import sys

BUG = os.environ.get("TINY_BUG", "")

HELLO = {
    "protocol": 1 if BUG != "wrong-version" else 2,
    "domain": "tiny",
    "description": "counters",
    "events": [{"type": "Added", "version": 1}, {"type": "Taken", "version": 1}],
    "evolve": {"handles": ["Added", "Taken"], "ignores": []},
    "handlers": [{"name": "totals", "description": "counter -> total",
                  "handles": ["Added", "Taken"], "ignores": [], "reference": True}],
    "invariants": [{"name": "never_negative", "description": "a counter never goes below zero",
                    "stream_prefix": "c-"}],
    "work": [{"kind": "add", "weight": 2}, {"kind": "take", "weight": 1}],
    "decision_model": {"kinds": []},
}


def words_rng(words):
    state = [w & 0xFFFFFFFF for w in words]

    def rotl(x, k):
        return ((x << k) | (x >> (32 - k))) & 0xFFFFFFFF

    def next32():
        result = (rotl((state[1] * 5) & 0xFFFFFFFF, 7) * 9) & 0xFFFFFFFF
        t = (state[1] << 9) & 0xFFFFFFFF
        state[2] ^= state[0]
        state[3] ^= state[1]
        state[1] ^= state[2]
        state[0] ^= state[3]
        state[2] ^= t
        state[3] = rotl(state[3], 11)
        return result

    return next32


models = {}


def answer(req):
    call = req["call"]
    if call == "hello":
        return HELLO
    if call == "initial":
        return {"total": 0}
    if call == "generate":
        rnd = words_rng(req["words"])
        n = rnd() % 10 + 1
        return {"command": {"kind": req["kind"], "stream": "c-%d" % (rnd() % 3), "payload": {"n": n}}}
    if call == "decide":
        c, s = req["command"], req["state"]
        n = c["payload"]["n"]
        if c["kind"] == "add":
            if BUG == "raise" and n == 7:
                raise ValueError("seven is not allowed")
            return {"events": [{"type": "Added", "schema_version": 1, "payload": {"n": n}}]}
        if n > s["total"] and BUG != "overdraw":
            return {"refused": "not enough"}
        return {"events": [{"type": "Taken", "schema_version": 1, "payload": {"n": n}}]}
    if call == "evolve":
        s, e = dict(req["state"]), req["event"]
        s["total"] += e["payload"]["n"] if e["type"] == "Added" else -e["payload"]["n"]
        return s
    if call in ("load", "apply"):
        h = req["model"]
        if call == "load":
            models[h] = dict(req["value"])
            return None
        model = models.setdefault(h, {})
        e = req["event"]
        k = e["stream"]
        change = {"reads": {}, "absent": [], "writes": {}, "deletes": []}
        if k in model:
            change["reads"][k] = model[k]
        else:
            change["absent"].append(k)
        delta = e["payload"]["n"] if e["type"] == "Added" else -e["payload"]["n"]
        model[k] = model.get(k, 0) + delta
        change["writes"][k] = model[k]
        if BUG == "hang" and e["position"] == 5:
            import time
            time.sleep(3600)
        if BUG == "exit" and e["position"] == 5:
            sys.stderr.write("tiny: giving up at position 5\n")
            sys.exit(4)
        return change
    if call == "reference":
        out = {}
        for e in req["log"]:
            out.setdefault(e["stream"], 0)
            out[e["stream"]] += e["payload"]["n"] if e["type"] == "Added" else -e["payload"]["n"]
        return out
    if call == "invariant":
        return req["state"]["total"] >= 0
    if call == "model_accepts":
        total = (req["state"] or {}).get("total", 0)
        c = req["command"]
        return c["kind"] == "add" or c["payload"]["n"] <= total
    if call == "model_apply":
        total = (req["state"] or {}).get("total", 0)
        c = req["command"]
        total += c["payload"]["n"] if c["kind"] == "add" else -c["payload"]["n"]
        return {"total": total}
    raise LookupError("no call " + call)


def respond(req):
    try:
        return {"id": req["id"], "ok": answer(req)}
    except LookupError as e:
        return {"id": req["id"], "protocol_error": str(e)}
    except Exception as e:  # the domain's own code raised
        import traceback
        return {"id": req["id"], "error": {"type": type(e).__name__, "message": str(e),
                                           "traceback": traceback.format_exc()}}


for line in sys.stdin:
    req = json.loads(line)
    if BUG == "garbage" and not isinstance(req, list) and req["call"] == "decide":
        sys.stdout.write("this is not json\n")
        sys.stdout.flush()
        continue
    out = [respond(r) for r in req] if isinstance(req, list) else respond(req)
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
