"""Tests of essim's Python SDK (sdk/python/essim.py), standard library only:

    python3 -m unittest discover -s sdk/python/tests -v     # from the repository root

Most tests drive sample_domain.py in-process through essim.Session, the
way essim would (requests go through JSON first). A few start processes:
the sample domain over pipes and over TCP, the bank example, and each
broken process in broken/.
"""

import contextlib
import dataclasses
import io
import json
import os
import pathlib
import runpy
import socket
import subprocess
import sys
import unittest

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import essim  # noqa: E402
import sample_domain  # noqa: E402

PROCESS_TIMEOUT_S = 20


def words(seed):
    """Four well-mixed 32-bit words, as essim draws them (splitmix64 here)."""
    out = []
    for i in range(2):
        z = (seed * 2 + i + 1) * 0x9E3779B97F4A7C15 % 2**64
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9 % 2**64
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB % 2**64
        z ^= z >> 31
        out += [z >> 32, z & 0xFFFFFFFF]
    return out


def event(type_, payload, stream="c-1", version=1, position=1, schema_version=None):
    latest = {"Added": 2}.get(type_, 1)
    return {"id": f"{position:016x}", "stream": stream, "version": version, "position": position,
            "type": type_, "schema_version": schema_version or latest, "payload": payload}


def command(kind, stream="c-1", **payload):
    return {"kind": kind, "stream": stream, "payload": payload}


class Driver:
    """Plays essim's side of the protocol in-process: ids, JSON round trips,
    and read models kept on essim's side, checked against what `apply` read."""

    def __init__(self, domain=sample_domain.sample, greet=True, offer=None, serve=None):
        self.session = essim.Session(domain, capabilities=serve)
        self.next_id = 0
        self.loads = 0
        if greet:
            self.hello = (self.ok("hello", protocol=1) if offer is None
                          else self.ok("hello", protocol=1, capabilities=offer))

    def request(self, call, **args):
        self.next_id += 1
        request = json.loads(json.dumps({"id": self.next_id, "call": call, **args}))
        response = json.loads(json.dumps(self.session.handle(request)))
        assert response["id"] == self.next_id, response
        return response

    def ok(self, call, **args):
        response = self.request(call, **args)
        assert "ok" in response, response
        return response["ok"]

    def apply(self, handler, handle, model, e):
        """Applies `e` to essim's copy `model` as essim does: apply, and when
        the process read other values than `model` holds, load and again."""
        changes = self.ok("apply", handler=handler, model=handle, event=e)
        if not self.saw(changes, model):
            self.loads += 1
            self.ok("load", handler=handler, model=handle, value=model)
            changes = self.ok("apply", handler=handler, model=handle, event=e)
            assert self.saw(changes, model), changes
        model.update(changes["writes"])
        for key in changes["deletes"]:
            del model[key]
        return changes

    @staticmethod
    def saw(changes, model):
        return (all(model.get(k, KeyError) == v for k, v in changes["reads"].items())
                and not any(k in model for k in changes["absent"]))


class RngTest(unittest.TestCase):
    def test_matches_the_reference_xoshiro128starstar(self):
        # From Blackman and Vigna's C code, seeded with the same state.
        rng = essim.Rng([1, 2, 3, 4])
        self.assertEqual([rng.next32() for _ in range(6)],
                         [11520, 0, 5927040, 70819200, 2031721883, 1637235492])
        rng = essim.Rng([0xDEADBEEF, 0xFFFFFFFF, 0, 12345])
        self.assertEqual([rng.next32() for _ in range(4)],
                         [4294962679, 3132615403, 3203060203, 3557413085])

    def test_bounded_draws_stay_in_bounds_and_repeat(self):
        draws = []
        for seed in range(200):
            rng = essim.Rng(words(seed))
            draws.append((rng.below(10), rng.between(-5, 5), rng.below(2**40),
                          rng.chance(1, 3), rng.pick("abc")))
        self.assertTrue(all(0 <= b < 10 and -5 <= c <= 5 and 0 <= d < 2**40
                            for b, c, d, _, _ in draws))
        self.assertEqual({b for b, *_ in draws}, set(range(10)))
        self.assertEqual({c for _, c, *_ in draws}, set(range(-5, 6)))
        again = essim.Rng(words(3))
        self.assertEqual((again.below(10), again.between(-5, 5), again.below(2**40),
                          again.chance(1, 3), again.pick("abc")), draws[3])

    def test_chance_draws_nothing_at_zero_and_one_and_refuses_floats(self):
        rng, fresh = essim.Rng([1, 2, 3, 4]), essim.Rng([1, 2, 3, 4])
        self.assertFalse(rng.chance(0, 5))
        self.assertTrue(rng.chance(5, 5))
        self.assertEqual(rng.next32(), fresh.next32())
        with self.assertRaises(TypeError):
            rng.chance(0.5)
        with self.assertRaises(ValueError):
            rng.chance(4, 3)

    def test_four_zero_words_still_draw(self):
        rng = essim.Rng([0, 0, 0, 0])
        self.assertNotEqual([rng.next32() for _ in range(4)], [0, 0, 0, 0])

    def test_refuses_bad_seeds_and_bounds(self):
        for bad in ([1, 2, 3], [1, 2, 3, 2**32], [-1, 0, 0, 0]):
            with self.assertRaises(ValueError):
                essim.Rng(bad)
        with self.assertRaises(ValueError):
            essim.Rng([1, 2, 3, 4]).below(0)


class HandshakeTest(unittest.TestCase):
    def test_hello_declares_the_domain(self):
        hello = Driver().hello
        self.assertEqual(hello["protocol"], 1)
        self.assertEqual(hello["domain"], "sample")
        self.assertEqual(hello["events"], [
            {"type": "Added", "version": 2, "old_writers": [1]},
            {"type": "Taken", "version": 1}, {"type": "Noted", "version": 1}])
        self.assertEqual(hello["evolve"], {"handles": ["Added", "Taken"], "ignores": ["Noted"]})
        handlers = {h["name"]: h for h in hello["handlers"]}
        self.assertEqual(handlers["totals"]["reads"], "keys")
        self.assertTrue(handlers["totals"]["reference"])
        self.assertEqual(handlers["latest"]["reads"], "all")
        self.assertFalse(handlers["latest"]["reference"])
        self.assertEqual(hello["invariants"][0], {"name": "never_negative", "description":
                                                  "a counter never goes below zero",
                                                  "stream_prefix": "c-"})
        self.assertEqual(hello["log_invariants"][0]["at_end"], True)
        self.assertEqual(hello["read_model_invariants"][0]["handler"], "totals")
        self.assertEqual(hello["work"], [{"kind": "add", "weight": 3}, {"kind": "take", "weight": 1},
                                         {"kind": "move", "weight": 1}])
        self.assertEqual(hello["decision_model"], {"kinds": ["add", "take"]})
        self.assertTrue(hello["sagas"])

    def test_hello_comes_first(self):
        driver = Driver(greet=False)
        self.assertIn("hello", driver.request("initial")["protocol_error"])
        driver.ok("hello", protocol=1)
        self.assertEqual(driver.ok("initial"), {"total": 0})

    def test_a_domain_without_work_cannot_declare_itself(self):
        empty = essim.Domain("empty")
        self.assertIn("no aggregate", Driver(empty, greet=False).request("hello")["protocol_error"])

    def test_registration_refuses_bad_names_and_twins(self):
        with self.assertRaises(ValueError):
            essim.Domain("bad name")
        domain = essim.Domain("d")
        domain.invariant("rule")(lambda s: True)
        with self.assertRaises(ValueError):
            domain.log_invariant("rule")
        with self.assertRaises(ValueError):
            domain.work("w", weight=-1)


class DeciderTest(unittest.TestCase):
    def setUp(self):
        self.d = Driver()

    def test_decide_and_evolve(self):
        decided = self.d.ok("decide", state={"total": 0}, command=command("add", n=5))
        self.assertEqual(decided, {"events": [
            {"type": "Added", "schema_version": 2, "payload": {"n": 5, "note": ""}}]})
        state = self.d.ok("evolve", state={"total": 0},
                          event=event("Added", decided["events"][0]["payload"]))
        self.assertEqual(state, {"total": 5})
        self.assertEqual(self.d.ok("evolve", state=state, event=event("Taken", {"n": 2})),
                         {"total": 3})

    def test_refusals_raised_or_returned(self):
        self.assertEqual(self.d.ok("decide", state={"total": 1}, command=command("take", n=5)),
                         {"refused": "not enough"})
        self.assertEqual(self.d.ok("decide", state={"total": 1}, command=command("fly")),
                         {"refused": "no command fly"})
        self.assertEqual(self.d.ok("decide", state={"total": 1}, command=command("nothing")),
                         {"events": []})

    def test_probes_travel_with_the_answer_and_are_declared(self):
        domain = essim.Domain("probed")

        @domain.aggregate
        class Agg(essim.Aggregate):
            initial = {}

            def decide(self, state, command):
                essim.probe("probed.decided")
                if command.kind == "boom":
                    essim.probe("probed.boom")
                    raise RuntimeError("boom")
                return []

            def evolve(self, state, event):
                return state

        @domain.work("w")
        def w(rng):
            return essim.Command("w", "s")

        domain.declare_probe("probed.decided", "decide ran")
        with self.assertRaises(essim.ProtocolError):
            domain.declare_probe("probed.decided", "again")
        with self.assertRaises(essim.ProtocolError):
            domain.declare_probe("probed.quiet", "")
        with self.assertRaises(essim.ProtocolError):
            domain.declare_probe("has space", "x")
        d = Driver(domain)
        self.assertEqual(d.hello["probes"], [{"name": "probed.decided", "description": "decide ran"}])
        response = d.request("decide", state={}, command=command("w"))
        self.assertEqual(response["probes"], ["probed.decided"])
        response = d.request("decide", state={}, command=command("boom"))
        self.assertIn("error", response)
        self.assertEqual(response["probes"], ["probed.decided", "probed.boom"])
        self.assertNotIn("probes", d.request("initial"))
        with self.assertRaises(ValueError):
            essim.probe("not a name")
        essim.probe("outside.a-call")  # does nothing

    def test_rules(self):
        self.assertIs(self.d.ok("invariant", name="never_negative", state={"total": -1}), False)
        step = self.d.ok("log_step", name="takes_bounded", memory=None, event=event("Taken", {"n": 1}))
        self.assertEqual(step, {"memory": {"added": 0, "taken": 1},
                                "broken": "taken more than added"})
        self.assertEqual(self.d.ok("log_end", name="takes_bounded", memory=step["memory"]),
                         "unbalanced")
        self.assertEqual(self.d.ok("read_model_check", name="totals_not_negative",
                                   model={"c-1": {"total": -2, "version": 1}}), "c-1")
        error = self.d.request("invariant", name="not_a_bool", state={"total": 0})["error"]
        self.assertIn("not True or False", error["message"])

    def test_decision_model(self):
        self.assertIs(self.d.ok("model_accepts", state=None, command=command("take", n=1)), False)
        self.assertEqual(self.d.ok("model_apply", state=None, command=command("add", n=4)), 4)

    def test_sagas(self):
        saga = self.d.ok("generate", kind="move", words=[1, 2, 3, 4])["saga"]
        self.assertEqual(len(saga["steps"]), 1)
        self.assertEqual(saga["steps"][0]["action"]["kind"], "take")
        done = [{"events": [{"type": "Taken", "schema_version": 1, "payload": {"n": 3}}]}]
        step = self.d.ok("next_step", saga=saga, done=done)
        self.assertEqual(step, {"action": command("add", "c-0", n=3), "compensation": None})
        saga["steps"].append(step)
        self.assertIsNone(self.d.ok("next_step", saga=saga, done=done * 2))


class GenerateTest(unittest.TestCase):
    def test_the_same_words_give_the_same_work(self):
        d = Driver()
        for seed in range(20):
            for kind in ("add", "take", "move"):
                first = d.ok("generate", kind=kind, words=words(seed))
                self.assertEqual(Driver().ok("generate", kind=kind, words=words(seed)), first)
        works = {json.dumps(d.ok("generate", kind="add", words=words(w))) for w in range(50)}
        self.assertGreater(len(works), 25)

    def test_bad_words_or_kind_are_protocol_errors(self):
        d = Driver()
        self.assertIn("four ints", d.request("generate", kind="add", words=[1, 2, 3])["protocol_error"])
        self.assertIn("no kind of work", d.request("generate", kind="fly",
                                                   words=[1, 2, 3, 4])["protocol_error"])


class ApplyTest(unittest.TestCase):
    def setUp(self):
        self.d = Driver()

    def scratch(self, handle, **payload):
        return self.d.ok("apply", handler="scratch", model=handle,
                         event=event("Noted", payload))

    def test_change_sets_name_reads_absences_writes_and_deletes(self):
        self.d.ok("load", handler="scratch", model=1, value={"a": [1], "b": 2, "c": 3})
        self.assertEqual(self.scratch(1, read="a", set="z", to=9),
                         {"reads": {"a": [1]}, "absent": [], "writes": {"z": 9}, "deletes": []})
        self.assertEqual(self.scratch(1, read="nope"),
                         {"reads": {}, "absent": ["nope"], "writes": {}, "deletes": []})
        self.assertEqual(self.scratch(1, append="a", to=2),
                         {"reads": {"a": [1]}, "absent": [], "writes": {"a": [1, 2]}, "deletes": []})
        self.assertEqual(self.scratch(1, delete="b"),
                         {"reads": {"b": 2}, "absent": [], "writes": {}, "deletes": ["b"]})
        # a write of the value already there changes nothing
        self.assertEqual(self.scratch(1, set="c", to=3)["writes"], {})
        # True is not 1
        self.assertEqual(self.scratch(1, set="c", to=True)["writes"], {"c": True})

    def test_a_stale_handle_is_loaded_again_by_the_caller(self):
        essim_side = {}
        for version in (1, 2, 3):
            self.d.apply("totals", 5, essim_side, event("Added", {"n": 10, "note": ""},
                                                        version=version, position=version))
        self.assertEqual(self.d.loads, 0)
        # essim restores an older read model (a crash): the cached copy is stale
        essim_side = {"c-1": {"total": 10, "version": 1}}
        changes = self.d.apply("totals", 5, essim_side, event("Added", {"n": 1, "note": ""},
                                                              version=2, position=2))
        self.assertEqual(self.d.loads, 1)
        self.assertEqual(changes["reads"], {"c-1": {"total": 10, "version": 1}})
        self.assertEqual(essim_side, {"c-1": {"total": 11, "version": 2}})

    def test_handles_are_kept_apart_and_the_oldest_dropped(self):
        for handle in range(essim.HANDLES_MAX + 1):
            self.d.ok("load", handler="scratch", model=handle, value={"k": handle})
        self.assertEqual(self.scratch(essim.HANDLES_MAX, read="k")["reads"], {"k": essim.HANDLES_MAX})
        self.assertEqual(self.scratch(1, read="k")["reads"], {"k": 1})
        self.assertEqual(self.scratch(0, read="k")["absent"], ["k"])  # dropped: essim reloads

    def test_a_handler_that_raises_leaves_no_cached_copy(self):
        self.d.ok("load", handler="scratch", model=2, value={"k": 1})
        error = self.d.request("apply", handler="scratch", model=2,
                               event=event("Noted", {"set": "k", "to": 2, "fail": True}))["error"]
        self.assertEqual(error["type"], "RuntimeError")
        self.assertEqual(self.scratch(2, read="k")["absent"], ["k"])

    def test_iterating_needs_reads_all(self):
        self.d.ok("load", handler="scratch", model=3, value={"k": 1})
        error = self.d.request("apply", handler="scratch", model=3,
                               event=event("Noted", {"iterate": True}))["error"]
        self.assertEqual(error["type"], "ReadsAllRequired")
        self.assertIn('reads="all"', error["message"])

    def test_a_reads_all_handler_reports_writes_and_deletes(self):
        self.d.ok("load", handler="latest", model=4, value={"c-1": 1, "c-2": 4})
        changes = self.d.ok("apply", handler="latest", model=4, event=event("Noted", {}, "c-3", 7))
        self.assertEqual(changes, {"reads": {}, "absent": [], "writes": {"c-3": 7},
                                   "deletes": ["c-1", "c-2"]})

    def test_the_reference_sees_the_whole_log(self):
        log = [event("Added", {"n": 5, "note": ""}, version=1, position=1),
               event("Taken", {"n": 2}, version=2, position=2),
               event("Added", {"n": 1, "note": ""}, "c-2", 1, 3)]
        self.assertEqual(self.d.ok("reference", handler="totals", log=log),
                         {"c-1": {"total": 3, "version": 2}, "c-2": {"total": 1, "version": 1}})
        self.assertIn("no reference", self.d.request("reference", handler="latest",
                                                     log=log)["protocol_error"])


class CapabilitiesTest(unittest.TestCase):
    """fold and apply_many (protocol.md, "Capabilities"): served when essim
    offers them, and the same as the calls they stand for."""

    def setUp(self):
        self.d = Driver(offer=["fold", "apply_many"])

    def test_hello_serves_what_is_offered_and_known(self):
        self.assertEqual(Driver(offer=["apply_many", "teleport", "fold"]).hello["capabilities"],
                         ["fold", "apply_many"])
        self.assertNotIn("capabilities", Driver().hello)  # an essim that offers none
        self.assertNotIn("capabilities", Driver(offer=["fold"], serve=[]).hello)
        self.assertEqual(Driver(offer=["fold", "apply_many"], serve=["fold"]).hello["capabilities"],
                         ["fold"])
        bad = Driver(greet=False).request("hello", protocol=1, capabilities="fold")
        self.assertIn("capabilities are a list of names", bad["protocol_error"])

    def test_optional_calls_are_unknown_unless_agreed(self):
        d = Driver(offer=["apply_many"])
        self.assertIn('unknown call "fold"',
                      d.request("fold", state={"total": 0}, events=[])["protocol_error"])

    def test_fold_is_evolve_event_by_event_then_the_call_on_its_state(self):
        events = [event("Added", {"n": 5, "note": ""}, version=1, position=1),
                  event("Taken", {"n": 2}, version=2, position=2),
                  event("Noted", {"value": 1}, version=3, position=3),
                  event("Added", {"n": 4, "note": ""}, version=4, position=4)]
        state = {"total": 1}
        for e in events:
            state = self.d.ok("evolve", state=state, event=e)
        self.assertEqual(self.d.ok("fold", state={"total": 1}, events=events), {"state": state})
        take = command("take", n=8)
        folded = self.d.ok("fold", state={"total": 1}, events=events,
                           then={"call": "decide", "command": take})
        self.assertEqual(folded, {"state": state,
                                  "then": self.d.ok("decide", state=state, command=take)})
        self.assertEqual(folded["then"]["events"][0]["type"], "Taken")
        self.assertEqual(self.d.ok("fold", state={"total": 0}, events=events[1:2],
                                   then={"call": "invariant", "name": "never_negative"}),
                         {"state": {"total": -2}, "then": False})
        self.assertIn("then is a decide or an invariant",
                      self.d.request("fold", state={}, events=[], then={"call": "apply"})
                      ["protocol_error"])

    def test_what_then_does_to_the_state_stays_out_of_the_answer(self):
        domain = essim.Domain("meddling")

        @domain.event()
        @dataclasses.dataclass
        class Bumped:
            n: int

        @domain.aggregate
        class Agg(essim.Aggregate):
            initial = {"n": 0}

            def decide(self, state, command):
                state["n"] = -100
                return [Bumped(1)]

            def evolve(self, state, event):
                state["n"] += event.data.n
                return state

        @domain.work("bump")
        def bump(rng):
            return essim.Command("bump", "b-1", {})

        d = Driver(domain, offer=["fold"])
        bumped = event("Bumped", {"n": 3}, stream="b-1")
        self.assertEqual(d.ok("fold", state={"n": 1}, events=[bumped, bumped],
                              then={"call": "decide", "command": command("bump", "b-1")})["state"],
                         {"n": 7})

    def test_an_evolve_that_raises_fails_the_whole_fold(self):
        error = self.d.request("fold", state={"total": 0},
                               events=[event("Added", {"n": 1, "note": ""}),
                                       event("Added", {"oops": 1}, version=2, position=2)])
        self.assertEqual(error["error"]["type"], "TypeError")
        self.assertIn("does not decode into Added", error["error"]["message"])

    def test_apply_many_is_one_change_set_for_apply_event_by_event(self):
        start = {"a": [1], "b": 2, "c": 3, "d": {"x": 1}}
        payloads = [{"read": "a", "set": "z", "to": 9}, {"append": "a", "to": 2},
                    {"delete": "b"}, {"set": "b", "to": 5}, {"read": "nope"},
                    {"set": "c", "to": 3}, {"delete": "d"}, {"set": "e", "to": 1},
                    {"delete": "e"}, {"append": "a", "to": 3}]
        events = [event("Noted", p, version=i + 1, position=i + 1) for i, p in enumerate(payloads)]
        one_by_one = dict(start)
        self.d.ok("load", handler="scratch", model=1, value=start)
        for e in events:
            self.d.apply("scratch", 1, one_by_one, e)
        self.d.ok("load", handler="scratch", model=2, value=start)
        changes = self.d.ok("apply_many", handler="scratch", model=2, events=events)
        self.assertEqual(changes, {"reads": {"a": [1], "b": 2, "d": {"x": 1}}, "absent": ["nope"],
                                   "writes": {"z": 9, "a": [1, 2, 3], "b": 5},
                                   "deletes": ["d"]})
        many = dict(start)
        many.update(changes["writes"])
        for key in changes["deletes"]:
            del many[key]
        self.assertEqual(many, one_by_one)
        # the cached copy went on as essim's did
        self.assertEqual(self.d.ok("apply", handler="scratch", model=2,
                                   event=event("Noted", {"read": "z"}))["reads"], {"z": 9})

    def test_apply_many_that_raises_leaves_no_cached_copy(self):
        self.d.ok("load", handler="scratch", model=3, value={"k": 1})
        error = self.d.request("apply_many", handler="scratch", model=3, events=[
            event("Noted", {"set": "k", "to": 2}),
            event("Noted", {"fail": True}, version=2, position=2)])["error"]
        self.assertEqual(error["type"], "RuntimeError")
        self.assertEqual(self.d.ok("apply", handler="scratch", model=3,
                                   event=event("Noted", {"read": "k"}))["absent"], ["k"])


    def test_apply_many_names_what_is_not_an_event(self):
        bad = event("Noted", {"set": "k", "to": 2}, version=2, position=2)
        del bad["stream"]
        for events, named in (([event("Noted", {}), 5], "events[1]"),
                              ([event("Noted", {}), bad], "events[1] has no str stream")):
            refused = self.d.request("apply_many", handler="scratch", model=4, events=events)
            self.assertIn(named, refused["protocol_error"])

    def test_a_key_that_is_not_a_str_is_refused_even_unhashable(self):
        class LikeA:  # equal to "a", with its hash: still not a str
            def __eq__(self, other):
                return other == "a"

            def __hash__(self):
                return hash("a")

        for key in (1, ["a"], None):
            with self.assertRaisesRegex(TypeError, "read-model keys are strs"):
                essim.ReadModel({}, "h").get(key)
        model = essim.ReadModel({"a": 1}, "h")
        self.assertEqual(model.get("a"), 1)
        self.assertEqual(model.get("a"), 1)  # touched before: still read
        with self.assertRaisesRegex(TypeError, "read-model keys are strs"):
            model.get(LikeA())  # after "a" was touched too
        model["b"] = 2
        self.assertEqual(model.changes()["writes"], {"b": 2})

    def test_reference_names_what_in_the_log_is_not_an_event(self):
        refused = self.d.request("reference", handler="totals", log=[event("Noted", {}), 7])
        self.assertIn("log[1]", refused["protocol_error"])

class WalksTest(unittest.TestCase):
    """model_walk, invariant_walk and log_walk (protocol.md, "Capabilities"):
    the calls a checker makes one at a time, made in one request, stopping
    where the checker stops, each seeing what a request of its own shows."""

    WALKS = ["model_walk", "invariant_walk", "log_walk"]

    def setUp(self):
        self.d = Driver(offer=["fold"] + self.WALKS)

    def test_hello_serves_the_walks_when_offered(self):
        self.assertEqual(self.d.hello["capabilities"], ["fold"] + self.WALKS)
        self.assertIn('unknown call "log_walk"',
                      Driver(offer=["fold"]).request("log_walk", name="takes_bounded",
                                                     memory=None, events=[])["protocol_error"])

    def one_step_at_a_time(self, steps):
        """What essim's decisions_match_model does without model_walk."""
        state = None
        for i, step in enumerate(steps):
            accepted = self.d.ok("model_accepts", state=state, command=step["command"])
            if accepted != step["accepted"]:
                return {"agreed": i, "state": state}
            if step["apply"] and accepted:
                state = self.d.ok("model_apply", state=state, command=step["command"])
        return {"agreed": len(steps), "state": state}

    def test_model_walk_is_accepts_and_apply_one_step_at_a_time(self):
        import random
        rng = random.Random(11)
        for _ in range(300):
            steps = [{"command": command(rng.choice(["add", "take"]), n=rng.randint(0, 9)),
                      "accepted": rng.random() < 0.9, "apply": rng.random() < 0.8}
                     for _ in range(rng.randint(0, 12))]
            walked = self.d.ok("model_walk", state=None, steps=steps)
            self.assertEqual(walked, self.one_step_at_a_time(steps), steps)
        # from a state essim carried over from an earlier walk
        self.assertEqual(self.d.ok("model_walk", state=5, steps=[
            {"command": command("take", n=5), "accepted": True, "apply": True},
            {"command": command("take", n=1), "accepted": True, "apply": True}]),
            {"agreed": 1, "state": 0})

    def test_invariant_walk_is_evolve_then_the_invariant_event_by_event(self):
        events = [event("Added", {"n": 3, "note": ""}), event("Taken", {"n": 2}, version=2),
                  event("Taken", {"n": 4}, version=3), event("Added", {"n": 9, "note": ""},
                                                                version=4)]
        self.assertEqual(self.d.ok("invariant_walk", name="never_negative", state={"total": 0},
                                   events=events), {"state": {"total": -3}, "at": 2})
        self.assertEqual(self.d.ok("invariant_walk", name="never_negative", state={"total": 5},
                                   events=events), {"state": {"total": 11}, "at": 4})
        self.assertEqual(self.d.ok("invariant_walk", name="never_negative", state={"total": 0},
                                   events=[]), {"state": {"total": 0}, "at": 0})
        state = {"total": 0}
        for i, e in enumerate(events):  # one at a time, as essim does without the walk
            folded = self.d.ok("fold", state=state, events=[e],
                               then={"call": "invariant", "name": "never_negative"})
            state = folded["state"]
            if not folded["then"]:
                break
        self.assertEqual((state, i), ({"total": -3}, 2))
        error = self.d.request("invariant_walk", name="not_a_bool", state={"total": 0},
                               events=events)["error"]
        self.assertEqual(error["type"], "NotAValue")

    def test_log_walk_is_log_step_event_by_event(self):
        events = [event("Added", {"n": 3, "note": ""}), event("Taken", {"n": 2}, version=2),
                  event("Taken", {"n": 4}, version=3), event("Added", {"n": 9, "note": ""},
                                                                version=4)]
        memory, broken = None, ""
        for i, e in enumerate(events):
            stepped = self.d.ok("log_step", name="takes_bounded", memory=memory, event=e)
            memory, broken = stepped["memory"], stepped["broken"]
            if broken:
                break
        self.assertEqual(self.d.ok("log_walk", name="takes_bounded", memory=None, events=events),
                         {"memory": memory, "at": i, "broken": broken})
        self.assertEqual(i, 2)
        self.assertEqual(self.d.ok("log_walk", name="takes_bounded",
                                   memory={"added": 10, "taken": 0}, events=events),
                         {"memory": {"added": 22, "taken": 6}, "at": 4, "broken": ""})

    def test_each_call_sees_what_a_request_of_its_own_shows(self):
        domain = essim.Domain("ordering")

        @domain.event()
        @dataclasses.dataclass
        class Keyed:
            key: str

        @domain.aggregate
        class Keys(essim.Aggregate):
            initial = {}
            handles = [Keyed]

            def decide(self, state, command):
                return []

            def evolve(self, state, event):  # each key added last
                state[event.data.key] = len(state)
                return state

        def in_order(value):  # as essim sends every object: keys in byte order
            return list(value) == sorted(value)

        @domain.invariant("keys_in_order", "the state's keys come in the order essim sends them")
        def keys_in_order(state):
            ordered = in_order(state)
            state.clear()  # what a call does to its state stays in it
            return ordered

        @domain.decision_model
        class Meddler(essim.DecisionModel):
            def accepts(self, state, command):
                state = state or {}
                ordered = in_order(state)
                state["0-meddled"] = 1
                command.payload.pop("key")  # apply's command is its own
                return ordered

            def apply(self, state, command):
                state = dict(state or {})
                state[command.payload["key"]] = 1
                return state

        @domain.log_invariant("memory_in_order", "the memory's keys come in order", initial={})
        def memory_in_order(memory, event):
            ordered = in_order(memory)
            memory[event.data.key] = event.position
            return "" if ordered else "keys out of order"

        @domain.work("touch")
        def touch(rng):
            return essim.Command("touch", "t-1", {})

        d = Driver(domain, offer=self.WALKS)
        keyed = [event("Keyed", {"key": k}, stream="t-1", version=i + 1, position=i + 1)
                 for i, k in enumerate(["z", "a", "m", "b"])]
        self.assertEqual(d.ok("invariant_walk", name="keys_in_order", state={}, events=keyed),
                         {"state": {"a": 1, "b": 3, "m": 2, "z": 0}, "at": 4})
        steps = [{"command": command("touch", "t-1", key=k), "accepted": True, "apply": True}
                 for k in ("z", "a", "b", "c")]
        self.assertEqual(d.ok("model_walk", state=None, steps=steps),
                         {"agreed": 4, "state": {"a": 1, "b": 1, "c": 1, "z": 1}})
        self.assertEqual(d.ok("log_walk", name="memory_in_order", memory=None, events=keyed),
                         {"memory": {"a": 2, "b": 4, "m": 3, "z": 1}, "at": 4, "broken": ""})

    def test_walks_refuse_what_is_not_a_walk(self):
        for call, args, named in (
                ("model_walk", {"state": None, "steps": {}}, "steps are a list"),
                ("model_walk", {"state": None, "steps": [5]}, "steps[0] is an object"),
                ("model_walk", {"state": None, "steps": [{"command": command("add", n=1),
                                                          "accepted": 1, "apply": True}]},
                 "true or false"),
                ("model_walk", {"state": None, "steps": [{"command": 3, "accepted": True,
                                                          "apply": True}]}, "steps[0].command"),
                ("invariant_walk", {"name": "nope", "state": {}, "events": []}, "no invariant"),
                ("invariant_walk", {"name": "never_negative", "state": {"total": 0},
                                    "events": [event(
                    "Added", {"n": 1, "note": ""}), 7]}, "events[1]"),
                ("log_walk", {"name": "takes_bounded", "memory": None, "events": "x"},
                 "events are a list"),
                ("log_walk", {"name": "nope", "memory": None, "events": []}, "no log invariant")):
            refused = self.d.request(call, **args)
            self.assertIn(named, refused.get("protocol_error", ""), (call, args, refused))

    def test_a_walk_that_raises_answers_error(self):
        error = self.d.request("invariant_walk", name="never_negative", state={"total": 0},
                               events=[event("Added", {"n": 1, "note": ""}),
                                       event("Added", {"oops": 1}, version=2)])["error"]
        self.assertIn("does not decode into Added", error["message"])
        error = self.d.request("log_walk", name="takes_bounded", memory=None,
                               events=[event("Added", {"oops": 1})])["error"]
        self.assertEqual(error["type"], "KeyError")


class SchemaTest(unittest.TestCase):
    def setUp(self):
        self.d = Driver()

    def test_upcast_chains_to_the_latest_version(self):
        old = event("Added", {"n": 4}, schema_version=1)
        self.assertEqual(self.d.ok("upcast", event=old),
                         {"schema_version": 2, "payload": {"n": 4, "note": ""}})

    def test_write_as_writes_the_old_schema_or_null(self):
        self.assertEqual(self.d.ok("write_as", version=1, event=event("Added", {"n": 4, "note": ""})),
                         {"n": 4})
        self.assertIsNone(self.d.ok("write_as", version=1,
                                    event=event("Added", {"n": 4, "note": "v1 had no notes"})))
        self.assertIn("no old writer", self.d.request("write_as", version=1,
                                                      event=event("Taken", {"n": 1}))["protocol_error"])

    def test_a_payload_that_does_not_decode_is_an_error(self):
        error = self.d.request("upcast", event=event("Added", {"m": 4}, schema_version=1))["error"]
        self.assertEqual(error["type"], "TypeError")
        self.assertIn("does not decode into AddedV1", error["message"])


class FailureTest(unittest.TestCase):
    def setUp(self):
        self.d = Driver()

    def test_a_user_exception_is_an_error_with_its_traceback(self):
        response = self.d.request("decide", state={"total": 0}, command=command("boom", n=7))
        self.assertEqual(set(response), {"id", "error"})
        error = response["error"]
        self.assertEqual((error["type"], error["message"]), ("ValueError", "boom with 7"))
        tb = error["traceback"]
        self.assertTrue(tb.startswith("Traceback (most recent call last):"), tb)
        self.assertIn("sample_domain.py", tb)
        self.assertIn("in explode", tb)
        self.assertNotIn("essim.py", tb.splitlines()[1])  # starts at the domain's own code

    def test_unknown_calls_names_and_malformed_requests_are_protocol_errors(self):
        self.assertIn("unknown call", self.d.request("fly")["protocol_error"])
        self.assertIn("no handler", self.d.request("apply", handler="nope", model=1,
                                                   event=event("Added", {}))["protocol_error"])
        self.assertIn("no invariant", self.d.request("invariant", name="nope",
                                                     state={})["protocol_error"])
        self.assertIn("has no 'state'", self.d.request("decide", command=command("add"))["protocol_error"])
        self.assertIn("not an event", self.d.request("evolve", state={}, event=[1])["protocol_error"])
        session = self.d.session
        self.assertEqual(session.handle({"call": "initial"})["id"], None)
        self.assertIn("number id", session.handle({"call": "initial"})["protocol_error"])
        self.assertIn("object", session.handle([3])[0]["protocol_error"])
        for line, says in ((b"{not json\n", "not JSON"), (b"\xff\n", "not JSON"),
                           (b'{"id": 1, "call": "initial", "x": 1.5}\n', "no floats")):
            answer = json.loads(session.handle_line(line))
            self.assertEqual(answer["id"], None)
            self.assertIn(says, answer["protocol_error"])

    def test_a_float_from_the_domain_is_an_error_naming_it(self):
        error = self.d.request("decide", state={"total": 0}, command=command("float", n=1))["error"]
        self.assertEqual(error["type"], "NotAValue")
        self.assertIn("decide's events[0] (Noted).payload['value']['ratio']", error["message"])
        self.assertIn("float 0.333", error["message"])
        error = self.d.request("evolve", state={"total": 0.5},
                               event=event("Noted", {"value": 1}))["error"]
        self.assertIn("evolve's state['total'] is the float 0.5", error["message"])

    def test_print_in_user_code_goes_to_stderr(self):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            line = self.d.session.handle_line(json.dumps(
                {"id": 1, "call": "decide", "state": {"total": 0}, "command": command("chatty")}))
        self.assertEqual(out.getvalue(), "")
        self.assertIn("chatty decide says hello", err.getvalue())
        self.assertEqual(json.loads(line)["ok"]["events"][0]["payload"], {"value": "chatty"})


class ProcessTest(unittest.TestCase):
    """The SDK as essim meets it: a process, over pipes or TCP."""

    def run_lines(self, script, lines):
        result = subprocess.run([sys.executable, str(script)], input="".join(lines),
                                capture_output=True, text=True, timeout=PROCESS_TIMEOUT_S)
        return result, [json.loads(line) for line in result.stdout.splitlines()]

    def test_a_batch_over_pipes_then_eof(self):
        batch = [{"id": 1, "call": "initial"},
                 {"id": 2, "call": "decide", "state": {"total": 0}, "command": command("chatty")},
                 {"id": 3, "call": "load", "handler": "totals", "model": 1, "value": {}},
                 {"id": 4, "call": "apply", "handler": "totals", "model": 1,
                  "event": event("Added", {"n": 2, "note": ""})},
                 {"id": 5, "call": "apply", "handler": "totals", "model": 1,
                  "event": event("Added", {"n": 3, "note": ""}, version=2, position=2)},
                 {"id": 6, "call": "fly"}]
        result, answers = self.run_lines(HERE / "sample_domain.py", [
            json.dumps({"id": 0, "call": "hello", "protocol": 1}) + "\n",
            json.dumps(batch) + "\n"])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(len(answers), 2)  # print() reached stderr, not stdout
        self.assertIn("chatty decide says hello", result.stderr)
        self.assertEqual([a["id"] for a in answers[1]], [1, 2, 3, 4, 5, 6])
        self.assertEqual(answers[1][4]["ok"]["reads"], {"c-1": {"total": 2, "version": 1}})
        self.assertEqual(answers[1][4]["ok"]["writes"], {"c-1": {"total": 5, "version": 2}})
        self.assertIn("protocol_error", answers[1][5])

    def test_bye_ends_the_process(self):
        result, answers = self.run_lines(HERE / "sample_domain.py", [
            '{"id": 0, "call": "hello", "protocol": 1}\n', '{"id": 1, "call": "bye"}\n',
            '{"id": 2, "call": "initial"}\n'])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(answers[1], {"id": 1, "ok": None})
        self.assertEqual(len(answers), 2)

    def test_listen_serves_tcp_connections_each_with_its_session(self):
        process = subprocess.Popen([sys.executable, str(HERE / "sample_domain.py"),
                                    "--listen", "127.0.0.1:0"],
                                   stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        try:
            banner = process.stderr.readline()
            port = int(banner.rsplit(":", 1)[1])
            first = socket.create_connection(("127.0.0.1", port), timeout=PROCESS_TIMEOUT_S)
            second = socket.create_connection(("127.0.0.1", port), timeout=PROCESS_TIMEOUT_S)
            with first, second:
                for s in (second, first):  # both open at once, answered in any order
                    s.sendall(b'{"id": 0, "call": "hello", "protocol": 1}\n'
                              b'[{"id": 1, "call": "initial"}, {"id": 2, "call": "bye"}]\n')
                    reader = s.makefile("rb")
                    self.assertEqual(json.loads(reader.readline())["ok"]["domain"], "sample")
                    self.assertEqual(json.loads(reader.readline()),
                                     [{"id": 1, "ok": {"total": 0}}, {"id": 2, "ok": None}])
            self.assertIsNone(process.poll())  # a server: it waits for more
        finally:
            process.kill()
            process.wait()
            process.stderr.close()

    def test_the_bank_runs_from_anywhere(self):
        result = subprocess.run([sys.executable, str(ROOT / "examples/python-bank/bank.py")],
                                input='{"id": 0, "call": "hello", "protocol": 1}\n',
                                capture_output=True, text=True, timeout=PROCESS_TIMEOUT_S,
                                cwd="/")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout)["ok"]["domain"], "bank-py")


class BankTest(unittest.TestCase):
    """examples/python-bank: the idempotent handler equals its reference
    under redelivery; its buggy twin does not."""

    @classmethod
    def setUpClass(cls):
        cls.bank = runpy.run_path(str(ROOT / "examples/python-bank/bank.py"))["bank"]

    def history(self, works=300):
        """Commands generated and decided in order, as essim's clients do."""
        d = Driver(self.bank)
        states, log = {}, []
        for i in range(works):
            kind = ("open", "deposit", "deposit", "withdraw")[i % 4]
            c = d.ok("generate", kind=kind, words=words(i))["command"]
            state = states.get(c["stream"]) or d.ok("initial")
            decided = d.ok("decide", state=state, command=c)
            for e in decided.get("events", []):
                stored = dict(e, id=f"{len(log):016x}", stream=c["stream"],
                              version=sum(x["stream"] == c["stream"] for x in log) + 1,
                              position=len(log) + 1)
                state = d.ok("evolve", state=state, event=stored)
                self.assertTrue(d.ok("invariant", name="no_overdraft", state=state))
                log.append(stored)
            states[c["stream"]] = state
        return d, log

    def replay(self, d, handler, log, redeliver_every):
        model = {}
        for i, e in enumerate(log):
            d.apply(handler, 1, model, e)
            if i % redeliver_every == 0:
                d.apply(handler, 1, model, e)
        return model

    def test_balances_equals_its_reference_under_redelivery(self):
        d, log = self.history()
        self.assertGreater(len(log), 100)
        model = self.replay(d, "balances", log, redeliver_every=3)
        self.assertEqual(model, d.ok("reference", handler="balances", log=log))
        self.assertEqual(d.ok("read_model_check", name="balances_not_negative", model=model), "")

    def test_balances_buggy_counts_redeliveries_twice(self):
        d, log = self.history()
        model = self.replay(d, "balances-buggy", log, redeliver_every=3)
        self.assertNotEqual(model, d.ok("reference", handler="balances-buggy", log=log))
        once = self.replay(d, "balances-buggy", log, redeliver_every=len(log) + 1)
        self.assertEqual(once, d.ok("reference", handler="balances-buggy", log=log))

    def test_v1_deposits_written_by_the_old_writer_upcast_back(self):
        d, log = self.history()
        deposits = [e for e in log if e["type"] == "FundsDeposited"]
        for e in deposits:
            v1 = d.ok("write_as", version=1, event=e)
            if e["payload"]["currency"] != "USD":
                self.assertIsNone(v1)
                continue
            up = d.ok("upcast", event=dict(e, schema_version=1, payload=v1))
            self.assertEqual(up, {"schema_version": 2, "payload": e["payload"]})


class BrokenProcessTest(unittest.TestCase):
    """Each process in broken/ is broken the one way it says."""

    HELLO = '{"id": 0, "call": "hello", "protocol": 1}\n'
    DECIDE = ('{"id": 1, "call": "decide", "state": {"total": 0}, '
              '"command": {"kind": "add", "stream": "c-1", "payload": {"n": %d}}}\n')

    def run_broken(self, name, lines, timeout_s=PROCESS_TIMEOUT_S):
        return subprocess.run([sys.executable, str(HERE / "broken" / name)],
                              input="".join(lines), capture_output=True, text=True,
                              timeout=timeout_s)

    def test_exits_midway(self):
        result = self.run_broken("exits_midway.py", [self.HELLO, self.DECIDE % 1])
        self.assertEqual(result.returncode, 3)
        self.assertEqual(len(result.stdout.splitlines()), 1)
        self.assertIn("exiting in the middle of decide", result.stderr)

    def test_hangs(self):
        with self.assertRaises(subprocess.TimeoutExpired) as caught:
            self.run_broken("hangs.py", [self.HELLO, self.DECIDE % 1], timeout_s=2)
        self.assertEqual(len((caught.exception.stdout or b"").splitlines()), 1)

    def test_garbage(self):
        result = self.run_broken("garbage.py", [self.HELLO, self.DECIDE % 1])
        lines = result.stdout.splitlines()
        json.loads(lines[0])
        with self.assertRaises(ValueError):
            json.loads(lines[1])

    def test_wrong_version(self):
        result = self.run_broken("wrong_version.py", [self.HELLO])
        self.assertEqual(json.loads(result.stdout)["ok"]["protocol"], 2)

    def test_raises(self):
        result = self.run_broken("raises.py", [self.HELLO, self.DECIDE % 5])
        error = json.loads(result.stdout.splitlines()[1])["error"]
        self.assertEqual(error["type"], "ValueError")
        self.assertIn("in check_amount", error["traceback"])
        result = self.run_broken("raises.py", [self.HELLO, self.DECIDE % 4])
        self.assertIn("ok", json.loads(result.stdout.splitlines()[1]))

    def test_unknown_handler(self):
        apply = {"id": 1, "call": "apply", "handler": "totals", "model": 1,
                 "event": event("Added", {"n": 1}, schema_version=1)}
        result = self.run_broken("unknown_handler.py", [self.HELLO, json.dumps([apply]) + "\n"])
        hello, answers = map(json.loads, result.stdout.splitlines())
        self.assertEqual(hello["ok"]["handlers"][0]["name"], "totals")
        self.assertIn("no handler 'totals'", answers[0]["protocol_error"])


if __name__ == "__main__":
    unittest.main()
