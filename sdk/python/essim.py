"""essim's Python SDK: a domain written in Python, tested by essim.

essim drives the domain as a process, over the process protocol version 1
(docs/protocol.md), with its optional calls (fold, apply_many and the
walks of the checkers): one JSON
request per line on stdin, one JSON answer per line on stdout, in lockstep
with the simulation. This module is the Python
side of that protocol; a domain declares itself with it and calls serve().
Python 3.11, standard library only.

    from dataclasses import dataclass
    import essim

    tally = essim.Domain("tally", "counters that never go below zero")

    @tally.event()
    @dataclass
    class Added:
        n: int

    @tally.aggregate
    class Counter(essim.Aggregate):
        initial = {"total": 0}

        def decide(self, state, command):
            return [Added(command.payload["n"])]

        def evolve(self, state, event):
            return {"total": state["total"] + event.data.n}

    @tally.handler("totals", handles=[Added])
    def totals(model, event):  # idempotent: keeps the last version applied
        row = model.get(event.stream, {"total": 0, "version": 0})
        if event.version > row["version"]:
            model[event.stream] = {"total": row["total"] + event.data.n,
                                   "version": event.version}

    @tally.invariant("never_negative", stream_prefix="c-")
    def never_negative(state):
        return state["total"] >= 0

    @tally.work("add", weight=1)
    def add(rng):
        return essim.Command("add", f"c-{rng.below(3)}", {"n": rng.between(1, 10)})

    if __name__ == "__main__":
        tally.serve()

A scenario starts it with `external: {command: [python3, tally.py]}`;
`python3 tally.py --listen 127.0.0.1:7000` serves TCP connections
instead, for `external: {connect: 127.0.0.1:7000}`.

Everything essim exchanges is JSON: states, payloads, read models and
memories are None, bools, ints (64-bit), strs, lists and dicts with str
keys. Floats are refused (keep money in cents). The domain's answers must
depend on its requests only: no clock, no `random`; a work generator draws
from the Rng it is given. Print freely: while the domain serves, stdout is
stderr, and only protocol lines reach essim. Do not print at import time,
before serve() starts.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import re
import socket
import sys
import threading
import traceback
from collections import OrderedDict
from collections.abc import Callable, Iterable, MutableMapping
from fractions import Fraction
from typing import Any

__all__ = [
    "PROTOCOL", "Domain", "Session", "Aggregate", "DecisionModel", "Command", "Saga", "Step",
    "Refused", "Recorded", "ReadModel", "Handler", "LogInvariant", "Rng", "NotAValue",
    "ReadsAllRequired", "probe",
]

PROTOCOL = 1
# The optional calls this SDK serves when essim offers them (protocol.md,
# "Capabilities"). ESSIM_SDK_CAPABILITIES (names, comma-separated; "" for
# none) narrows them, to test an essim against a process that lacks some.
CAPABILITIES = ("fold", "apply_many", "model_walk", "invariant_walk", "log_walk")
HANDLES_MAX = 64  # read models cached per session; any handle may be dropped (protocol.md)
WEIGHT_MAX = 1_000_000
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
_NAME = re.compile(r"[A-Za-z0-9_-]+")
_PROBE = re.compile(r"[A-Za-z0-9._-]{1,64}")
_calls_in_progress = threading.local()  # .probes: the probes the call under way reached
_ABSENT = object()


# ---------------------------------------------------------------- errors

class ProtocolError(Exception):
    """A request that cannot be answered as asked: essim stops (exit 3)."""


class NotAValue(TypeError):
    """The domain's code returned something essim cannot hold: a float, an
    int past 64 bits, a dict key that is not a str, a set, an object..."""


class ReadsAllRequired(TypeError):
    """A handler declared reads="keys" looked at the whole read model."""


class _UserCodeFailed(Exception):
    """The domain's own code raised `__cause__`."""


class Refused(Exception):
    """A command the aggregate refuses: `raise Refused("why")` or
    `return Refused("why")` from decide."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# ---------------------------------------------------------------- values

class _NotPlain(Exception):
    """_plain() met something it leaves to _checked_slowly()."""


def _plain(value: Any) -> Any:
    """_checked() for values of the exact builtin types, the common case,
    without naming paths; anything else raises _NotPlain."""
    t = type(value)
    if t is str:
        if not value.isascii():
            value.encode("utf-8")  # a lone surrogate raises (UnicodeEncodeError is no _NotPlain)
        return value
    if t is int:
        if INT_MIN <= value <= INT_MAX:
            return value
        raise _NotPlain()
    if t is dict:
        out = {}
        for key, item in value.items():
            if type(key) is not str:
                raise _NotPlain()
            out[key] = _plain(item)
        return out
    if t is list or t is tuple:
        return [_plain(item) for item in value]
    if value is None or t is bool:
        return value
    raise _NotPlain()


def _checked(value: Any, what: str) -> Any:
    """A copy of `value` as essim holds it (tuples become lists), or
    NotAValue naming the part of `what` that is not a value."""
    try:
        return _plain(value)
    except (_NotPlain, UnicodeEncodeError):
        return _checked_slowly(value, what)


def _checked_slowly(value: Any, what: str) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if not INT_MIN <= value <= INT_MAX:
            raise NotAValue(f"{what} is {value}, past a 64-bit integer")
        return int(value)
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise NotAValue(f"{what} is a str that is not valid UTF-8: {value!r}") from None
        return value
    if isinstance(value, float):
        raise NotAValue(f"{what} is the float {value!r}: essim refuses floats "
                        "(keep amounts in whole numbers, such as cents)")
    if isinstance(value, (list, tuple)):
        return [_checked_slowly(item, f"{what}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise NotAValue(f"{what} has the key {key!r}, not a str")
            out[key] = _checked_slowly(item, f"{what}[{key!r}]")
        return out
    raise NotAValue(f"{what} is {type(value).__name__} {_short(value)}, not a JSON value "
                    "(None, bool, int, str, list or dict)")


def _copy(value: Any) -> Any:
    """A deep copy of a value that came from JSON."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _held(value: Any) -> Any:
    """A checked value as essim holds it and sends it back: objects with
    their keys in byte order (a str's code-point order is its UTF-8 byte
    order), so that a call within a fold or a walk sees what it would see
    in a request of its own."""
    if type(value) is dict:
        return {key: _held(value[key]) for key in sorted(value)}
    if type(value) is list:
        return [_held(item) for item in value]
    return value


def _same(a: Any, b: Any) -> bool:
    """Equality as essim sees it: True is not 1."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[key], b[key]) for key in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def _short(value: Any, limit: int = 200) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _check_name(name: Any, what: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"{what} {name!r}: a name is letters, digits, '_' and '-'")
    return name


# ---------------------------------------------------------------- randomness

class Rng:
    """The generator a work generator draws from, seeded by essim.

    xoshiro128** (Blackman and Vigna) over four 32-bit words s0..s3, which
    are the four words of the `generate` request, in order. One step:

        result = rotl32(s1 * 5, 7) * 9      (all arithmetic modulo 2^32)
        t  = s1 << 9
        s2 ^= s0;  s3 ^= s1;  s1 ^= s2;  s0 ^= s3;  s2 ^= t
        s3 = rotl32(s3, 11)

    Four zero words (a state xoshiro never leaves) start as
    (0x9E3779B9, 0, 0, 0) instead. essim draws the words from its own seeded
    generator, so they are uniformly random and seed the state as they are
    (with hand-picked words, beware: the first output depends on s1 alone).
    Bounded draws use integers only (Lemire's method with rejection), so the
    same words give the same work on every machine and Python version.
    """

    def __init__(self, words: Iterable[int]):
        state = [int(w) for w in words]
        if len(state) != 4 or any(not 0 <= w <= 0xFFFFFFFF for w in state):
            raise ValueError(f"an Rng is seeded with four 32-bit words, not {state}")
        if state == [0, 0, 0, 0]:
            state[0] = 0x9E3779B9
        self._s = state

    def next32(self) -> int:
        """The next raw output, 0 to 2^32 - 1."""
        s = self._s
        result = (_rotl32((s[1] * 5) & 0xFFFFFFFF, 7) * 9) & 0xFFFFFFFF
        t = (s[1] << 9) & 0xFFFFFFFF
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = _rotl32(s[3], 11)
        return result

    def next64(self) -> int:
        """Two outputs as one 64-bit number, the first one high."""
        high = self.next32()
        return (high << 32) | self.next32()

    def below(self, bound: int) -> int:
        """Uniform in [0, bound). 1 <= bound <= 2^64; one 32-bit draw (more on
        the rare rejection) up to 2^32, 64-bit draws above."""
        if not isinstance(bound, int) or not 1 <= bound <= 2**64:
            raise ValueError(f"Rng.below({bound!r}): the bound is an int from 1 to 2^64")
        bits, draw = (32, self.next32) if bound <= 2**32 else (64, self.next64)
        mask = (1 << bits) - 1
        product = draw() * bound
        if product & mask < bound:
            threshold = ((1 << bits) - bound) % bound
            while product & mask < threshold:
                product = draw() * bound
        return product >> bits

    def between(self, low: int, high: int) -> int:
        """Uniform in [low, high], both included."""
        if not isinstance(low, int) or not isinstance(high, int) or low > high:
            raise ValueError(f"Rng.between({low!r}, {high!r}): two ints, low <= high")
        return low + self.below(high - low + 1)

    def chance(self, numerator: int | Fraction, denominator: int | None = None) -> bool:
        """True with probability numerator/denominator: chance(1, 4), or
        chance(Fraction(1, 4)). Draws nothing when it is 0 or 1. Floats are
        refused: a probability is a ratio of integers here."""
        if type(numerator) is int and type(denominator) is int and denominator > 0:
            # Fraction's lowest terms, without making one (the common case, and hot).
            g = math.gcd(numerator, denominator)
            numerator, denominator = numerator // g, denominator // g
            if not 0 <= numerator <= denominator:
                raise ValueError(f"Rng.chance({numerator}/{denominator}): a probability from 0 to 1")
            if numerator in (0, denominator):
                return numerator == denominator
            return self.below(denominator) < numerator
        if isinstance(numerator, float) or isinstance(denominator, float):
            raise TypeError("Rng.chance takes integers (chance(1, 4)), not floats")
        p = Fraction(numerator) if denominator is None else Fraction(numerator, denominator)
        if not 0 <= p <= 1:
            raise ValueError(f"Rng.chance({p}): a probability from 0 to 1")
        if p in (0, 1):
            return p == 1
        return self.below(p.denominator) < p.numerator

    def pick(self, choices):
        """One of `choices` (a non-empty sequence), uniformly."""
        if not choices:
            raise ValueError("Rng.pick of an empty sequence")
        return choices[self.below(len(choices))]


def _rotl32(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & 0xFFFFFFFF


# ---------------------------------------------------------------- what the domain sees

@dataclasses.dataclass
class Command:
    """What a client asks an aggregate: `kind` ("deposit"), the `stream` it
    addresses ("acct-1"), and a JSON `payload`."""
    kind: str
    stream: str
    payload: Any = dataclasses.field(default_factory=dict)

    def to_json(self, what: str) -> dict:
        if not isinstance(self.kind, str) or not isinstance(self.stream, str):
            raise NotAValue(f"{what}: a command's kind and stream are strs")
        return {"kind": self.kind, "stream": self.stream,
                "payload": _checked(self.payload, f"{what}.payload")}


@dataclasses.dataclass
class Step:
    """A saga step: its action and, unless it is a pivot, its compensation."""
    action: Command
    compensation: Command | None = None

    def to_json(self, what: str) -> dict:
        if not isinstance(self.action, Command):
            raise NotAValue(f"{what}.action is not a Command: {self.action!r}")
        if self.compensation is not None and not isinstance(self.compensation, Command):
            raise NotAValue(f"{what}.compensation is not a Command: {self.compensation!r}")
        return {"action": self.action.to_json(f"{what}.action"),
                "compensation": None if self.compensation is None
                else self.compensation.to_json(f"{what}.compensation")}


@dataclasses.dataclass
class Saga:
    """A process across aggregates: steps run in order; when one fails for
    good, the compensations of those done run in reverse order."""
    id: str
    steps: list[Step]

    def to_json(self, what: str) -> dict:
        if not isinstance(self.id, str) or not self.steps:
            raise NotAValue(f"{what}: a saga has a str id and at least one step")
        return {"id": self.id,
                "steps": [s.to_json(f"{what}.steps[{i}]") for i, s in enumerate(self.steps)]}


class Recorded:
    """An event as essim stored it, upcast to its type's latest schema.

    `stream` ("acct-1"), `version` (its place in the stream, from 1),
    `position` (its place in the whole log), `id`, `type`, `schema_version`,
    `payload` (the JSON object) and `data`: the payload as the dataclass
    registered for this type and version (None for a type the domain did not
    register). Match on it: `match event.data: case FundsDeposited(amount=a): ...`
    """

    __slots__ = ("id", "stream", "version", "position", "type", "schema_version", "payload",
                 "_cls", "_data")

    def __init__(self, fields: dict, cls: type | None):
        self.id = fields["id"]
        self.stream = fields["stream"]
        self.version = fields["version"]
        self.position = fields["position"]
        self.type = fields["type"]
        self.schema_version = fields["schema_version"]
        self.payload = fields["payload"]
        self._cls = cls
        self._data = _ABSENT

    @property
    def data(self) -> Any:
        if self._data is _ABSENT:
            self._data = None if self._cls is None else _decode(self._cls, self.payload, self.type)
        return self._data

    def __repr__(self) -> str:
        return (f"<{self.stream}@{self.version} (#{self.position}) {self.type} "
                f"v{self.schema_version}: {_short(self.payload, 80)}>")


def _decode(cls: type, payload: Any, type_name: str) -> Any:
    if not isinstance(payload, dict):
        raise TypeError(f"{type_name}'s payload {_short(payload)} is not an object")
    try:
        return cls(**payload)
    except TypeError as e:
        raise TypeError(f"{type_name}'s payload {_short(payload)} does not decode into "
                        f"{cls.__name__}: {e}") from None


class Aggregate:
    """Base class of the domain's aggregate (register it with @domain.aggregate).

    `initial` is a new aggregate's state (a JSON value); `decide` answers a
    command with a list of events (registered dataclass instances) or a
    Refused; `evolve` returns the state after an event (a Recorded). States
    travel with each call: keep them small. `handles` and `ignores` (event
    classes or type names) declare which events evolve handles, for
    `handlers_exhaustive`.
    """

    initial: Any = None
    handles: Iterable = ()
    ignores: Iterable = ()

    def decide(self, state: Any, command: Command) -> list | Refused:
        raise NotImplementedError("Aggregate.decide")

    def evolve(self, state: Any, event: Recorded) -> Any:
        raise NotImplementedError("Aggregate.evolve")


class DecisionModel:
    """Base class of a reference model of the decider (@domain.decision_model),
    written apart from decide and evolve: an abstract state per aggregate
    (None before its first command), whether a command should be accepted on
    it, and the abstract state after an accepted one. `kinds`: the command
    kinds it explains (empty: every kind)."""

    kinds: Iterable[str] = ()

    def accepts(self, state: Any, command: Command) -> bool:
        raise NotImplementedError("DecisionModel.accepts")

    def apply(self, state: Any, command: Command) -> Any:
        raise NotImplementedError("DecisionModel.apply")


class ReadModel(MutableMapping):
    """A read model as a reads="keys" handler sees it: a dict of top-level
    keys whose use is recorded for the change set essim applies to its own
    copy. Read, test, write and delete keys freely (nested values may be
    changed in place); iterating it, or asking its size, needs reads="all".
    """

    def __init__(self, data: dict, handler: str):
        self._data = data
        self._handler = handler
        self._first: dict[str, tuple[Any, bool]] = {}  # key -> (value before, read first)

    def _touch(self, key: Any, reading: bool) -> None:
        first = self._first
        if type(key) is str and key in first:  # checked when first touched
            return
        if not isinstance(key, str):
            raise TypeError(f"read-model keys are strs, not {key!r}")
        before = _copy(self._data[key]) if key in self._data else _ABSENT
        first[key] = (before, reading)

    def __getitem__(self, key):
        self._touch(key, True)
        return self._data[key]

    def __contains__(self, key) -> bool:
        self._touch(key, True)
        return key in self._data

    def get(self, key, default=None):
        self._touch(key, True)
        return self._data.get(key, default)

    def __setitem__(self, key, value) -> None:
        self._touch(key, False)
        self._data[key] = value

    def __delitem__(self, key) -> None:
        self._touch(key, True)  # whether it raises KeyError tells what was there
        del self._data[key]

    def __iter__(self):
        raise ReadsAllRequired(f"handler {self._handler} iterates over its read model; "
                               "declare it with reads=\"all\"")

    def __len__(self) -> int:
        raise ReadsAllRequired(f"handler {self._handler} asks its read model's size; "
                               "declare it with reads=\"all\"")

    def changes(self) -> dict:
        """The change set of protocol.md's `apply`: what was read (with its
        value before), looked up and absent, written (changed) and deleted."""
        reads, absent, writes, deletes = {}, [], {}, []
        for key, (before, read_first) in self._first.items():
            if read_first and before is _ABSENT:
                absent.append(key)
            elif read_first:
                reads[key] = before
            if key in self._data:
                after = _checked(self._data[key], f"handler {self._handler}'s model[{key!r}]")
                if before is _ABSENT or not _same(before, after):
                    writes[key] = after
            elif before is not _ABSENT:
                deletes.append(key)
        return {"reads": reads, "absent": absent, "writes": writes, "deletes": deletes}


def _whole_changes(before: dict, after: dict, handler: str) -> dict:
    """The change set of a reads="all" handler, from the whole model before
    and after (essim loaded the model just before, so nothing was stale)."""
    writes = {}
    for key, value in after.items():
        if not isinstance(key, str):
            raise NotAValue(f"handler {handler}'s model has the key {key!r}, not a str")
        value = _checked(value, f"handler {handler}'s model[{key!r}]")
        if key not in before or not _same(before[key], value):
            writes[key] = value
    deletes = [key for key in before if key not in after]
    return {"reads": {}, "absent": [], "writes": writes, "deletes": deletes}


# ---------------------------------------------------------------- registered pieces

class Handler:
    """A projection handler, `fn(model, event)`, registered with
    @domain.handler. Give it a reference projection with @handler.reference."""

    def __init__(self, name, description, fn, handles, ignores, reads):
        if reads not in ("keys", "all"):
            raise ValueError(f"handler {name}: reads is \"keys\" or \"all\", not {reads!r}")
        self.name = name
        self.description = description
        self.fn = fn
        self.handles = handles
        self.ignores = ignores
        self.reads = reads
        self.reference_fn: Callable | None = None

    def reference(self, fn: Callable[[list[Recorded]], dict]) -> Callable:
        """Registers `fn(log) -> read model`: the read model the handler must
        arrive at, computed plainly from the whole log (every event, in
        position order, upcast). Write it differently from the handler."""
        self.reference_fn = fn
        return fn

    def __call__(self, model, event):
        return self.fn(model, event)


class LogInvariant:
    """A rule over the whole log, `step(memory, event) -> "" or what is
    wrong`, registered with @domain.log_invariant. `memory` is a dict (a
    copy of `initial` at first) the step updates in place; an optional
    @rule.at_end sees it once the run settled."""

    def __init__(self, name, description, step, initial):
        self.name = name
        self.description = description
        self.step = step
        self.initial = initial
        self.at_end_fn: Callable | None = None

    def at_end(self, fn: Callable[[Any], str]) -> Callable:
        self.at_end_fn = fn
        return fn

    def __call__(self, memory, event):
        return self.step(memory, event)


@dataclasses.dataclass
class _Rule:
    name: str
    description: str
    fn: Callable
    about: str = ""  # a stream prefix, or a handler's name
    flag: bool = False  # at_checkpoints


@dataclasses.dataclass
class _Work:
    kind: str
    weight: int
    fn: Callable


# ---------------------------------------------------------------- coverage probes

def probe(name: str) -> None:
    """Marks a rare path your code took in the call under way: essim counts
    it per seed and across a sweep (report.json), lists the probes no seed
    reached (summary.md), and a scenario can require it (require_probes).
    Declare it with Domain.declare_probe so that one never reached is
    reported too. Outside a call from essim it does nothing."""
    if not isinstance(name, str) or not _PROBE.fullmatch(name):
        raise ValueError(f"a probe's name is 1 to 64 letters, digits, '.', '_' or '-', "
                         f"not {_short(name)}")
    hits = getattr(_calls_in_progress, "probes", None)
    if hits is not None:
        hits.append(name)


# ---------------------------------------------------------------- the domain

class Domain:
    """A domain: its events, its aggregate, its handlers, its rules and its
    workload, declared with this object's decorators; serve() answers essim."""

    def __init__(self, name: str, description: str = ""):
        self.name = _check_name(name, "domain")
        self.description = description
        self._classes: dict[tuple[str, int], type] = {}   # (type, version) -> dataclass
        self._meta: dict[type, tuple[str, int]] = {}       # dataclass -> (type, version)
        self._latest: dict[str, int] = {}                  # type -> latest version
        self._upcasters: dict[tuple[str, int], Callable] = {}
        self._old_writers: dict[tuple[str, int], Callable] = {}
        self._aggregate: Aggregate | None = None
        self._model: DecisionModel | None = None
        self._handlers: dict[str, Handler] = {}
        self._rules: set[str] = set()
        self._invariants: dict[str, _Rule] = {}
        self._log_invariants: dict[str, LogInvariant] = {}
        self._read_model_invariants: dict[str, _Rule] = {}
        self._work: dict[str, _Work] = {}
        self._next_step: Callable | None = None
        self._probes: dict[str, str] = {}

    # ---- declaring

    def declare_probe(self, name: str, description: str) -> None:
        """Declares a coverage probe your code hits with essim.probe(name), and
        what reaching it means (reports show it)."""
        if not isinstance(name, str) or not _PROBE.fullmatch(name):
            raise ProtocolError(f"a probe's name is 1 to 64 letters, digits, '.', '_' or '-', "
                                f"not {_short(name)}")
        if not isinstance(description, str) or not description:
            raise ProtocolError(f"probe {name} needs a description: what reaching it means")
        if name in self._probes:
            raise ProtocolError(f"probe {name} is declared twice")
        self._probes[name] = description

    def event(self, type_name: str | type | None = None, *, version: int = 1):
        """Class decorator: an event type at one schema version. The payload
        is the dataclass's fields as a JSON object; a class that is not a
        dataclass is made a frozen one.

            @bank.event("FundsDeposited", version=2)
            @dataclass
            class FundsDeposited: ...

        `@bank.event()` and `@bank.event` name the type after the class."""
        if isinstance(type_name, type):
            return self.event()(type_name)

        def register(cls: type) -> type:
            name = _check_name(type_name or cls.__name__, "event type")
            if not isinstance(version, int) or isinstance(version, bool) or version < 1:
                raise ValueError(f"event {name}: a schema version is an int from 1")
            if (name, version) in self._classes:
                raise ValueError(f"event {name} v{version} is registered twice")
            if not dataclasses.is_dataclass(cls):
                cls = dataclasses.dataclass(frozen=True)(cls)
            self._classes[name, version] = cls
            self._meta[cls] = (name, version)
            self._latest[name] = max(version, self._latest.get(name, 0))
            return cls
        return register

    def aggregate(self, cls: type[Aggregate]) -> type[Aggregate]:
        """Class decorator: the domain's aggregate (an Aggregate subclass,
        instantiated once). Protocol 1 has one `initial` state per domain,
        so a domain has one aggregate; its decide may serve several
        kinds of stream."""
        if self._aggregate is not None:
            raise ValueError(f"domain {self.name} already has an aggregate")
        instance = cls()
        _checked(instance.initial, f"{cls.__name__}.initial")
        self._type_names(instance.handles, f"{cls.__name__}.handles")
        self._type_names(instance.ignores, f"{cls.__name__}.ignores")
        self._aggregate = instance
        return cls

    def decision_model(self, cls: type[DecisionModel]) -> type[DecisionModel]:
        """Class decorator: the reference model of the decider."""
        if self._model is not None:
            raise ValueError(f"domain {self.name} already has a decision model")
        self._model = cls()
        return cls

    def handler(self, name: str, description: str = "", *, handles: Iterable = (),
                ignores: Iterable = (), reads: str = "keys"):
        """Decorator: a projection handler `fn(model, event)`, applying one
        event (a Recorded) to its read model. With reads="keys" (the default)
        the model is a ReadModel that records each top-level key used; a
        handler that iterates the model declares reads="all" and gets a
        plain dict (essim then sends the whole model before every event).
        Returns a Handler, whose .reference registers the reference."""
        _check_name(name, "handler")
        if name in self._handlers:
            raise ValueError(f"handler {name} is registered twice")

        def register(fn: Callable) -> Handler:
            handler = Handler(name, description, fn, self._type_names(handles, name + ".handles"),
                              self._type_names(ignores, name + ".ignores"), reads)
            self._handlers[name] = handler
            return handler
        return register

    def invariant(self, name: str, description: str = "", *, stream_prefix: str = ""):
        """Decorator: a rule of one aggregate, `fn(state) -> bool`, checked
        after every event of each stream starting with `stream_prefix`."""
        self._new_rule(name)

        def register(fn: Callable) -> Callable:
            self._invariants[name] = _Rule(name, description, fn, stream_prefix)
            return fn
        return register

    def log_invariant(self, name: str, description: str = "", *, initial: Any = None):
        """Decorator: a rule over the whole log, `fn(memory, event) -> "" or
        what is wrong`, seeing every event of every stream in position order.
        `memory` starts as a copy of `initial` (default: {}) and is updated
        in place. Returns a LogInvariant, whose .at_end registers the check
        once the run settled."""
        self._new_rule(name)

        def register(fn: Callable) -> LogInvariant:
            rule = LogInvariant(name, description, fn, {} if initial is None else initial)
            _checked(rule.initial, f"{name}'s initial memory")
            self._log_invariants[name] = rule
            return rule
        return register

    def read_model_invariant(self, name: str, description: str = "", *, handler: str,
                             at_checkpoints: bool = False):
        """Decorator: a rule of a handler's read model, `fn(model) -> "" or
        what is wrong`, on its final read model (and every one it makes
        durable with at_checkpoints)."""
        self._new_rule(name)

        def register(fn: Callable) -> Callable:
            self._read_model_invariants[name] = _Rule(name, description, fn, handler,
                                                      at_checkpoints)
            return fn
        return register

    def upcaster(self, old: type):
        """Decorator: `fn(old_event) -> event at a later version` of the same
        type, for the registered dataclass `old`. Chained up to the latest."""
        key = self._meta_of(old, "@upcaster")

        def register(fn: Callable) -> Callable:
            self._upcasters[key] = fn
            return fn
        return register

    def old_writer(self, old: type):
        """Decorator: how the writer of the older schema `old` (a registered
        dataclass) wrote an event: `fn(latest_event) -> old_event`, or None
        when that version could not hold it. essim's upcast_equivalence
        writes the run's history again with it and reads it back upcast."""
        key = self._meta_of(old, "@old_writer")

        def register(fn: Callable) -> Callable:
            self._old_writers[key] = fn
            return fn
        return register

    def work(self, kind: str, *, weight: int = 1):
        """Decorator: a kind of work, `fn(rng) -> Command or Saga`, drawn
        from `rng` only. `weight`: how often clients draw it (0..1000000)."""
        _check_name(kind, "work kind")
        if kind in self._work:
            raise ValueError(f"work {kind} is registered twice")
        if not isinstance(weight, int) or not 0 <= weight <= WEIGHT_MAX:
            raise ValueError(f"work {kind}: a weight is an int from 0 to {WEIGHT_MAX}")

        def register(fn: Callable) -> Callable:
            self._work[kind] = _Work(kind, weight, fn)
            return fn
        return register

    def next_step(self, fn: Callable) -> Callable:
        """Decorator: `fn(saga, done) -> Step or None`, a saga's next step
        once its listed steps are done; `done` holds, per step, the events
        its decider appended (dataclass instances when registered)."""
        self._next_step = fn
        return fn

    # ---- serving

    def serve(self, argv: list[str] | None = None) -> None:
        """Answers essim: over stdin and stdout (returns at end of input or
        after `bye`), or with `--listen HOST:PORT` over TCP connections
        (until killed)."""
        parser = argparse.ArgumentParser(description=f"the essim domain {self.name}")
        parser.add_argument("--listen", metavar="HOST:PORT",
                            help="serve TCP connections (external.connect) instead of pipes")
        args, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
        if args.listen:
            host, _, port = args.listen.rpartition(":")
            if not host or not port.isdigit():
                parser.error(f"--listen {args.listen}: not HOST:PORT")
            self.listen(host.strip("[]"), int(port))
        else:
            self.serve_pipes()

    def serve_pipes(self) -> None:
        """Answers requests on stdin, on stdout. Anything else written to
        stdout, by print() or by a child process, goes to stderr."""
        sys.stdout.flush()
        protocol_out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

        def send(data: bytes) -> None:
            protocol_out.write(data)
            protocol_out.flush()
        try:
            _exchange(Session(self), sys.stdin.buffer.readline, send)
        except BrokenPipeError:
            pass  # essim is gone

    def listen(self, host: str, port: int) -> None:
        """Accepts TCP connections on host:port (0: any free port; the one
        bound is printed to stderr) until killed, and answers each in its
        own thread with its own session: essim connects once per sweep
        thread, again after a failure, and again for a determinism check."""
        import threading

        def answer(connection: socket.socket) -> None:
            with connection, connection.makefile("rb") as reader:
                try:
                    _exchange(Session(self), reader.readline, connection.sendall)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.create_server((host, port), family=family) as server:
            bound = server.getsockname()
            print(f"essim: domain {self.name} listening on {host}:{bound[1]}",
                  file=sys.stderr, flush=True)
            while True:
                connection, _ = server.accept()
                threading.Thread(target=answer, args=(connection,), daemon=True).start()

    # ---- what essim is told

    def declaration(self) -> dict:
        """The `hello` result: what this domain has. Raises ProtocolError
        when its pieces do not fit together."""
        if self._aggregate is None:
            raise ProtocolError(f"domain {self.name} has no aggregate (@{self.name}.aggregate)")
        if not self._work:
            raise ProtocolError(f"domain {self.name} has no kind of work (@{self.name}.work)")
        for (type_name, version) in self._classes:
            latest = self._latest[type_name]
            if version < latest and (type_name, version) not in self._upcasters:
                raise ProtocolError(f"event {type_name} v{version} has no upcaster to v{latest}")
        for name, rule in self._read_model_invariants.items():
            if rule.about not in self._handlers:
                raise ProtocolError(f"read-model invariant {name} is about handler {rule.about}, "
                                    "which the domain does not have")
        agg = self._aggregate
        hello = {"protocol": PROTOCOL, "domain": self.name, "description": self.description,
                 "events": [self._event_declaration(t) for t in self._latest],
                 "evolve": {"handles": self._type_names(agg.handles, "handles"),
                            "ignores": self._type_names(agg.ignores, "ignores")},
                 "handlers": [{"name": h.name, "description": h.description,
                               "handles": h.handles, "ignores": h.ignores, "reads": h.reads,
                               "reference": h.reference_fn is not None}
                              for h in self._handlers.values()],
                 "invariants": [{"name": r.name, "description": r.description,
                                 "stream_prefix": r.about} for r in self._invariants.values()],
                 "log_invariants": [{"name": r.name, "description": r.description,
                                     "at_end": r.at_end_fn is not None}
                                    for r in self._log_invariants.values()],
                 "read_model_invariants": [{"name": r.name, "description": r.description,
                                            "handler": r.about, "at_checkpoints": r.flag}
                                           for r in self._read_model_invariants.values()],
                 "work": [{"kind": w.kind, "weight": w.weight} for w in self._work.values()],
                 "decision_model": None if self._model is None
                 else {"kinds": [_check_name(k, "decision-model kind") for k in self._model.kinds]},
                 "sagas": self._next_step is not None,
                 "probes": [{"name": n, "description": d} for n, d in self._probes.items()]}
        return hello

    def _event_declaration(self, type_name: str) -> dict:
        latest = self._latest[type_name]
        out = {"type": type_name, "version": latest}
        writers = sorted(v for (t, v) in self._old_writers if t == type_name)
        if writers:
            if writers[-1] >= latest:
                raise ProtocolError(f"event {type_name} has an old writer for v{writers[-1]}, "
                                    f"which is not older than v{latest}")
            out["old_writers"] = writers
        return out

    # ---- helpers

    def _new_rule(self, name: str) -> None:
        _check_name(name, "rule")
        if name in self._rules:
            raise ValueError(f"rule {name} is registered twice")
        self._rules.add(name)

    def _meta_of(self, cls: type, what: str) -> tuple[str, int]:
        if cls not in self._meta:
            raise ValueError(f"{what}({cls!r}): register the class with @{self.name}.event first")
        return self._meta[cls]

    def _type_names(self, types: Iterable, what: str) -> list[str]:
        names = []
        for t in types:
            names.append(self._meta_of(t, what)[0] if isinstance(t, type) else
                         _check_name(t, f"{what}: event type"))
        return names

    def _new_event(self, event: Any, what: str) -> dict:
        """{"type", "schema_version", "payload"} of a registered event."""
        meta = self._meta.get(type(event))
        if meta is None:
            raise NotAValue(f"{what} is {event!r}, not an instance of a class registered with "
                            f"@{self.name}.event")
        return {"type": meta[0], "schema_version": meta[1],
                "payload": _checked(dataclasses.asdict(event), f"{what} ({meta[0]}).payload")}


# ---------------------------------------------------------------- answering

class Session:
    """One conversation with essim: the handshake, the cached read models,
    bye. handle() answers a parsed request (or batch); handle_line() a line.
    """

    def __init__(self, domain: Domain, handles_max: int = HANDLES_MAX,
                 capabilities: Iterable[str] | None = None):
        assert handles_max >= 1
        if capabilities is None:
            served = os.environ.get("ESSIM_SDK_CAPABILITIES")
            capabilities = CAPABILITIES if served is None else served.split(",")
        self.capabilities = [c for c in CAPABILITIES if c in capabilities]
        self.domain = domain
        self.finished = False  # after bye
        self._greeted = False
        self._handles_max = handles_max
        self._models: OrderedDict[tuple[str, int], dict] = OrderedDict()  # LRU
        self._calls = {
            "hello": self._hello, "initial": self._initial, "decide": self._decide,
            "evolve": self._evolve, "apply": self._apply, "load": self._load,
            "reference": self._reference, "invariant": self._invariant,
            "log_step": self._log_step, "log_end": self._log_end,
            "read_model_check": self._read_model_check, "generate": self._generate,
            "next_step": self._next_step, "upcast": self._upcast, "write_as": self._write_as,
            "model_accepts": self._model_accepts, "model_apply": self._model_apply,
            "bye": self._bye,
        }
        self._optional = {"fold": self._fold, "apply_many": self._apply_many,
                          "model_walk": self._model_walk,
                          "invariant_walk": self._invariant_walk, "log_walk": self._log_walk}

    def handle_line(self, line: bytes | str) -> bytes:
        """The answer line (newline included) to one request line."""
        try:
            text = line.decode("utf-8") if isinstance(line, bytes) else line
            request = _DECODER.decode(text)
        except ProtocolError as e:
            return _encode({"id": None, "protocol_error": str(e)})
        except ValueError as e:  # UnicodeDecodeError and json.JSONDecodeError
            return _encode({"id": None, "protocol_error": f"a line that is not JSON: {e}"})
        return _encode(self.handle(request))

    def handle(self, request: Any) -> Any:
        """The response to a request (a dict), or the list of responses to a
        batch (a list), in order. What the domain's code prints goes to
        stderr meanwhile: stdout may be the protocol's."""
        stdout, sys.stdout = sys.stdout, sys.stderr
        try:
            if isinstance(request, list):
                return [self._answer(r) for r in request]
            return self._answer(request)
        finally:
            sys.stdout = stdout

    def _answer(self, request: Any) -> dict:
        _calls_in_progress.probes = []
        try:
            response = self._respond(request)
        finally:
            hits, _calls_in_progress.probes = _calls_in_progress.probes, None
        if hits:
            response["probes"] = hits
        return response

    def _respond(self, request: Any) -> dict:
        rid = request.get("id") if isinstance(request, dict) else None
        try:
            if not isinstance(request, dict):
                raise ProtocolError(f"a request is an object, not {_short(request)}")
            if not isinstance(rid, int) or isinstance(rid, bool):
                raise ProtocolError(f"a request has a number id: {_short(request)}")
            call = request.get("call")
            answer = self._calls.get(call) if isinstance(call, str) else None
            if answer is None:
                raise ProtocolError(f"unknown call {_short(call)}; this SDK answers "
                                    + ", ".join(self._calls))
            if not self._greeted and call != "hello":
                raise ProtocolError(f"{call} before hello: the first call is hello")
            return {"id": rid, "ok": answer(request)}
        except ProtocolError as e:
            return {"id": rid, "protocol_error": str(e)}
        except NotAValue as e:
            return {"id": rid, "error": {"type": "NotAValue", "message": str(e), "traceback": ""}}
        except _UserCodeFailed as e:
            return {"id": rid, "error": _error_of(e.__cause__)}
        except Exception as e:  # a bug of this SDK, not of the domain
            traceback.print_exc(file=sys.stderr)
            return {"id": rid, "protocol_error": f"essim.py failed: {type(e).__name__}: {e}"}

    # ---- the calls (protocol.md, "The calls")

    def _hello(self, req):
        hello = self.domain.declaration()
        offered = req.get("capabilities", [])
        if not isinstance(offered, list) or not all(isinstance(c, str) for c in offered):
            raise ProtocolError(f"hello: capabilities are a list of names, not {_short(offered)}")
        served = [c for c in self.capabilities if c in offered]
        for c in served:
            self._calls[c] = self._optional[c]
        if served:  # else as an SDK without capabilities answers
            hello["capabilities"] = served
        self._greeted = True
        return hello

    def _initial(self, req):
        return _checked(self._aggregate().initial, "the initial state")

    def _decide(self, req):
        state, command = _arg(req, "state"), self._command(_arg(req, "command"), "command")
        try:
            decided = _user(self._aggregate().decide, state, command)
        except _UserCodeFailed as e:
            if not isinstance(e.__cause__, Refused):
                raise
            decided = e.__cause__
        if isinstance(decided, Refused):
            return {"refused": str(decided.reason)}
        if not isinstance(decided, (list, tuple)):
            raise NotAValue(f"decide returned {decided!r}: a list of events, or a Refused")
        return {"events": [self.domain._new_event(e, f"decide's events[{i}]")
                           for i, e in enumerate(decided)]}

    def _evolve(self, req):
        state, event = _arg(req, "state"), self._event(_arg(req, "event"), "event")
        return _checked(_user(self._aggregate().evolve, state, event), "evolve's state")

    def _fold(self, req):
        """evolve over each of `events` in turn, then `then` on the state."""
        state, events = _arg(req, "state"), _arg(req, "events")
        if not isinstance(events, list):
            raise ProtocolError(f"fold: events are a list, not {_short(events)}")
        evolve = self._aggregate().evolve
        for i, e in enumerate(events):
            # Checked (and so copied) after each event, as `evolve` answers it.
            state = _held(_checked(_user(evolve, state, self._event(e, f"events[{i}]")),
                                   "evolve's state"))
        answer = {"state": state}
        then = req.get("then")
        if then is not None:
            call = then.get("call") if isinstance(then, dict) else None
            if call not in ("decide", "invariant"):
                raise ProtocolError(f"fold: then is a decide or an invariant, not {_short(then)}")
            then = dict(then)
            then["state"] = _copy(state)  # what it does to it stays out of the answer
            answer["then"] = self._calls[call](then)
        return answer

    # The walks: a checker's calls one after another, in one request. Each
    # makes exactly the calls essim would make one at a time and stops where
    # essim would stop; each call sees the value it would see in a request
    # of its own (a copy, keys in order), so a deterministic domain answers
    # the same either way.

    def _list(self, req, key: str, call: str) -> list:
        items = _arg(req, key)
        if not isinstance(items, list):
            raise ProtocolError(f"{call}: {key} are a list, not {_short(items)}")
        return items

    def _model_walk(self, req):
        """model_accepts on each step's command (then model_apply when the
        step says so) until an answer differs from the decider's."""
        model = self._decision_model()
        state, steps = _arg(req, "state"), self._list(req, "steps", "model_walk")
        for i, step in enumerate(steps):
            if not isinstance(step, dict):
                raise ProtocolError(f"model_walk: steps[{i}] is an object, not {_short(step)}")
            raw = _arg(step, "command")
            command = self._command(_copy(raw), f"steps[{i}].command")  # its own copy
            expected, apply = _arg(step, "accepted"), _arg(step, "apply")
            if type(expected) is not bool or type(apply) is not bool:
                raise ProtocolError(f"model_walk: steps[{i}].accepted and .apply are true "
                                    "or false")
            accepted = _user(model.accepts, _copy(state), command)
            if not isinstance(accepted, bool):
                raise NotAValue(f"the decision model's accepts returned {_short(accepted)}, "
                                "not True or False")
            if accepted != expected:
                return {"agreed": i, "state": state}
            if apply and accepted:  # with its own command, as a request of its own
                command = self._command(raw, f"steps[{i}].command")
                state = _held(_checked(_user(model.apply, state, command),
                                       "the decision model's state"))
        return {"agreed": len(steps), "state": state}

    def _invariant_walk(self, req):
        """evolve with each event, then the invariant, until it does not hold."""
        rule = _named(self.domain._invariants, req, "invariant")
        state, events = _arg(req, "state"), self._list(req, "events", "invariant_walk")
        evolve = self._aggregate().evolve
        for i, e in enumerate(events):
            state = _held(_checked(_user(evolve, state, self._event(e, f"events[{i}]")),
                                   "evolve's state"))
            holds = _user(rule.fn, _copy(state))
            if not isinstance(holds, bool):
                raise NotAValue(f"invariant {rule.name} returned {_short(holds)}, "
                                "not True or False")
            if not holds:
                return {"state": state, "at": i}
        return {"state": state, "at": len(events)}

    def _log_walk(self, req):
        """log_step over each event until one breaks the rule."""
        rule = _named(self.domain._log_invariants, req, "log invariant")
        memory, events = _arg(req, "memory"), self._list(req, "events", "log_walk")
        for i, e in enumerate(events):
            memory = _copy(rule.initial) if memory is None else memory
            broken = _user(rule.step, memory, self._event(e, f"events[{i}]"))
            memory = _held(_checked(memory, f"{rule.name}'s memory"))
            broken = _verdict(broken, f"log invariant {rule.name}")
            if broken:
                return {"memory": memory, "at": i, "broken": broken}
        return {"memory": memory, "at": len(events), "broken": ""}

    def _apply_many(self, req):
        """apply over each of `events` in turn: one change set for them all."""
        handler, key = self._handler(req), _handle(req)
        events = _arg(req, "events")
        if not isinstance(events, list):
            raise ProtocolError(f"apply_many: events are a list, not {_short(events)}")
        events = self._events(events, "events")
        model = self._models.pop(key, None)
        model = {} if model is None else model
        fn = handler.fn
        if handler.reads == "all":
            before = _copy(model)
            _user_over(fn, model, events)
            changes = _whole_changes(before, model, handler.name)
        else:
            tracked = ReadModel(model, handler.name)
            _user_over(fn, tracked, events)
            changes = tracked.changes()
        self._keep(key, model)  # only after success, as apply
        return changes

    def _apply(self, req):
        handler, key = self._handler(req), _handle(req)
        event = self._event(_arg(req, "event"), "event")
        model = self._models.pop(key, None)
        model = {} if model is None else model  # a new handle, or one dropped: essim reloads
        if handler.reads == "all":
            before = _copy(model)
            _user(handler.fn, model, event)
            changes = _whole_changes(before, model, handler.name)
        else:
            tracked = ReadModel(model, handler.name)
            _user(handler.fn, tracked, event)
            changes = tracked.changes()
        self._keep(key, model)  # only after success: a handler that raised leaves no copy
        return changes

    def _load(self, req):
        handler, key = self._handler(req), _handle(req)
        value = _arg(req, "value")
        if not isinstance(value, dict):
            raise ProtocolError(f"load of {handler.name}: the value is an object, "
                                f"not {_short(value)}")
        self._models.pop(key, None)
        self._keep(key, value)
        return None

    def _reference(self, req):
        handler = self._handler(req)
        if handler.reference_fn is None:
            raise ProtocolError(f"handler {handler.name} has no reference")
        log = _arg(req, "log")
        if not isinstance(log, list):
            raise ProtocolError("reference: the log is a list of events")
        events = self._events(log, "log")
        model = _user(handler.reference_fn, events)
        if not isinstance(model, dict):
            raise NotAValue(f"reference {handler.name} returned {_short(model)}, not a dict")
        return _checked(model, f"reference {handler.name}'s model")

    def _invariant(self, req):
        rule = _named(self.domain._invariants, req, "invariant")
        holds = _user(rule.fn, _arg(req, "state"))
        if not isinstance(holds, bool):
            raise NotAValue(f"invariant {rule.name} returned {_short(holds)}, not True or False")
        return holds

    def _log_step(self, req):
        rule = _named(self.domain._log_invariants, req, "log invariant")
        memory = _arg(req, "memory")
        memory = _copy(rule.initial) if memory is None else memory
        broken = _user(rule.step, memory, self._event(_arg(req, "event"), "event"))
        return {"memory": _checked(memory, f"{rule.name}'s memory"),
                "broken": _verdict(broken, f"log invariant {rule.name}")}

    def _log_end(self, req):
        rule = _named(self.domain._log_invariants, req, "log invariant")
        if rule.at_end_fn is None:
            raise ProtocolError(f"log invariant {rule.name} has no at_end")
        memory = _arg(req, "memory")
        memory = _copy(rule.initial) if memory is None else memory
        return _verdict(_user(rule.at_end_fn, memory), f"{rule.name}'s at_end")

    def _read_model_check(self, req):
        rule = _named(self.domain._read_model_invariants, req, "read-model invariant")
        model = _arg(req, "model")
        if not isinstance(model, dict):
            raise ProtocolError(f"read_model_check {rule.name}: the model is an object")
        return _verdict(_user(rule.fn, model), f"read-model invariant {rule.name}")

    def _generate(self, req):
        kind = _arg(req, "kind")
        work = self.domain._work.get(kind) if isinstance(kind, str) else None
        if work is None:
            raise ProtocolError(f"no kind of work {_short(kind)}; the domain has "
                                + ", ".join(self.domain._work))
        words = _arg(req, "words")
        if (not isinstance(words, list) or len(words) != 4
                or any(type(w) is not int or not 0 <= w <= 0xFFFFFFFF for w in words)):
            raise ProtocolError(f"generate: words are four ints from 0 to 2^32 - 1, "
                                f"not {_short(words)}")
        drawn = _user(work.fn, Rng(words))
        if isinstance(drawn, Command):
            return {"command": drawn.to_json(f"generate({kind})")}
        if isinstance(drawn, Saga):
            return {"saga": drawn.to_json(f"generate({kind})")}
        raise NotAValue(f"generate({kind}) returned {drawn!r}, not a Command or a Saga")

    def _next_step(self, req):
        if self.domain._next_step is None:
            raise ProtocolError("next_step: the domain plans no saga steps (sagas: false)")
        saga = self._saga(_arg(req, "saga"))
        done = _arg(req, "done")
        if not isinstance(done, list):
            raise ProtocolError("next_step: done is a list of {events}")
        outcomes = [[self._new_event_of(e) for e in _arg(d, "events")] for d in done]
        step = _user(self.domain._next_step, saga, outcomes)
        if step is None:
            return None
        if not isinstance(step, Step):
            raise NotAValue(f"next_step returned {step!r}, not a Step or None")
        return step.to_json("next_step")

    def _upcast(self, req):
        event = self._event(_arg(req, "event"), "event")
        latest = self._latest(event.type)
        version = event.schema_version
        if event._cls is None:
            raise ProtocolError(f"upcast: {event.type} v{version} is not registered")
        data = _user(lambda: event.data)
        while version < latest:
            upcaster = self.domain._upcasters.get((event.type, version))
            if upcaster is None:
                raise ProtocolError(f"upcast: no upcaster from {event.type} v{version}")
            data = _user(upcaster, data)
            meta = self.domain._meta.get(type(data))
            if meta is None or meta[0] != event.type or meta[1] <= version:
                raise NotAValue(f"the upcaster from {event.type} v{version} returned {data!r}, "
                                f"not a later version of {event.type}")
            version = meta[1]
        return {"schema_version": version,
                "payload": _checked(dataclasses.asdict(data), f"upcast {event.type}'s payload")}

    def _write_as(self, req):
        version = _arg(req, "version")
        event = self._event(_arg(req, "event"), "event")
        writer = self.domain._old_writers.get((event.type, version))
        if writer is None:
            raise ProtocolError(f"write_as: no old writer of {event.type} v{_short(version)}")
        if event._cls is None:
            raise ProtocolError(f"write_as: {event.type} v{event.schema_version} "
                                "is not registered")
        old = _user(writer, _user(lambda: event.data))
        if old is None:
            return None
        if self.domain._meta.get(type(old)) != (event.type, version):
            raise NotAValue(f"the old writer of {event.type} v{version} returned {old!r}, "
                            f"not a {event.type} v{version}")
        return _checked(dataclasses.asdict(old), f"write_as {event.type} v{version}")

    def _model_accepts(self, req):
        model = self._decision_model()
        accepted = _user(model.accepts, _arg(req, "state"),
                         self._command(_arg(req, "command"), "command"))
        if not isinstance(accepted, bool):
            raise NotAValue(f"the decision model's accepts returned {_short(accepted)}, "
                            "not True or False")
        return accepted

    def _model_apply(self, req):
        model = self._decision_model()
        state = _user(model.apply, _arg(req, "state"),
                      self._command(_arg(req, "command"), "command"))
        return _checked(state, "the decision model's state")

    def _bye(self, req):
        self.finished = True
        return None

    # ---- reading requests

    def _aggregate(self) -> Aggregate:
        assert self.domain._aggregate is not None  # hello checked it
        return self.domain._aggregate

    def _decision_model(self) -> DecisionModel:
        if self.domain._model is None:
            raise ProtocolError("the domain has no decision model")
        return self.domain._model

    def _latest(self, type_name: str) -> int:
        if type_name not in self.domain._latest:
            raise ProtocolError(f"no event type {type_name!r} in the domain")
        return self.domain._latest[type_name]

    def _handler(self, req) -> Handler:
        return _named(self.domain._handlers, req, "handler", key="handler")

    def _keep(self, key: tuple[str, int], model: dict) -> None:
        self._models[key] = model
        while len(self._models) > self._handles_max:
            self._models.popitem(last=False)

    def _event(self, obj: Any, what: str) -> Recorded:
        if _is_wire_event(obj):
            return Recorded(obj, self.domain._classes.get((obj["type"], obj["schema_version"])))
        return self._event_slowly(obj, what)

    def _events(self, objs: list, what: str) -> list[Recorded]:
        """_event of each of `objs`, named `what`[i] when one is not an event
        (the message built only then)."""
        classes = self.domain._classes
        out = []
        for obj in objs:
            if _is_wire_event(obj):
                out.append(Recorded(obj, classes.get((obj["type"], obj["schema_version"]))))
            else:
                out.append(self._event_slowly(obj, f"{what}[{len(out)}]"))
        return out

    def _event_slowly(self, obj: Any, what: str) -> Recorded:
        if not isinstance(obj, dict):
            raise ProtocolError(f"{what} is not an event: {_short(obj)}")
        for key, kind in (("id", str), ("stream", str), ("version", int), ("position", int),
                          ("type", str), ("schema_version", int)):
            if not isinstance(obj.get(key), kind):
                raise ProtocolError(f"{what} has no {kind.__name__} {key}: {_short(obj)}")
        if "payload" not in obj:
            raise ProtocolError(f"{what} has no payload: {_short(obj)}")
        return Recorded(obj, self.domain._classes.get((obj["type"], obj["schema_version"])))

    def _new_event_of(self, obj: Any) -> Any:
        """A decided event of a saga step: the registered dataclass, or the
        raw {"type", "schema_version", "payload"} of a type not registered."""
        if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
            raise ProtocolError(f"next_step: not an event: {_short(obj)}")
        cls = self.domain._classes.get((obj["type"], obj.get("schema_version")))
        return obj if cls is None else _user(_decode, cls, obj.get("payload"), obj["type"])

    @staticmethod
    def _command(obj: Any, what: str) -> Command:
        if (not isinstance(obj, dict) or not isinstance(obj.get("kind"), str)
                or not isinstance(obj.get("stream"), str)):
            raise ProtocolError(f"{what} is not a command {{kind, stream, payload}}: "
                                f"{_short(obj)}")
        return Command(obj["kind"], obj["stream"], obj.get("payload"))

    def _saga(self, obj: Any) -> Saga:
        steps = _arg(obj, "steps") if isinstance(obj, dict) else None
        if not isinstance(steps, list) or not isinstance(obj.get("id"), str):
            raise ProtocolError(f"next_step: not a saga {{id, steps}}: {_short(obj)}")
        return Saga(obj["id"], [
            Step(self._command(_arg(s, "action"), "a saga's action"),
                 None if s.get("compensation") is None
                 else self._command(s["compensation"], "a saga's compensation"))
            for s in steps])


def _arg(req: Any, key: str) -> Any:
    if not isinstance(req, dict) or key not in req:
        raise ProtocolError(f"{_short(req)} has no {key!r}")
    return req[key]


def _handle(req: dict) -> tuple[str, int]:
    handle = _arg(req, "model")
    if type(handle) is not int:
        raise ProtocolError(f"a read model's handle is an int, not {_short(handle)}")
    return (req["handler"], handle)


def _named(table: dict, req: dict, what: str, key: str = "name"):
    name = _arg(req, key)
    if not isinstance(name, str) or name not in table:
        raise ProtocolError(f"no {what} {_short(name)}; the domain has "
                            + (", ".join(table) or "none"))
    return table[name]


def _verdict(broken: Any, what: str) -> str:
    """"" while a rule holds, else what is wrong (None counts as "")."""
    if broken is None:
        return ""
    if not isinstance(broken, str):
        raise NotAValue(f"{what} returned {_short(broken)}: \"\" while it holds, "
                        "else what is wrong")
    return broken


def _is_wire_event(obj: Any) -> bool:
    """Whether `obj` is an event as essim sends one (the common case, checked
    without building anything; _event_slowly says what is wrong otherwise)."""
    return (type(obj) is dict and type(obj.get("id")) is str and type(obj.get("stream")) is str
            and type(obj.get("version")) is int and type(obj.get("position")) is int
            and type(obj.get("type")) is str and type(obj.get("schema_version")) is int
            and "payload" in obj)


def _user(fn: Callable, *args):
    """Runs the domain's own code: whatever it raises is its finding."""
    try:
        return fn(*args)
    except Exception as e:
        raise _UserCodeFailed() from e


def _user_over(fn: Callable, model: Any, events: list) -> None:
    """_user(fn, model, event) for each of `events`, in one try."""
    try:
        for event in events:
            fn(model, event)
    except Exception as e:
        raise _UserCodeFailed() from e


def _error_of(exc: BaseException) -> dict:
    """{"type", "message", "traceback"}; the traceback starts at the
    domain's own code, not at this module's dispatch."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    lines = traceback.format_exception(type(exc), exc, tb or exc.__traceback__)
    return {"type": type(exc).__name__, "message": str(exc), "traceback": "".join(lines)}


def _refuse_float(text: str):
    raise ProtocolError(f"a request holds the number {text}: essim sends no floats")


# Made once: json.loads and json.dumps with arguments make a new one per call.
_DECODER = json.JSONDecoder(parse_float=_refuse_float, parse_constant=_refuse_float)
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _encode(response: Any) -> bytes:
    return (_ENCODER.encode(response) + "\n").encode("utf-8")


def _exchange(session: Session, readline: Callable[[], bytes],
              send: Callable[[bytes], Any]) -> None:
    """Answers line by line until end of input or bye."""
    while not session.finished:
        line = readline()
        if not line:
            return
        if line.strip():
            send(session.handle_line(line))
