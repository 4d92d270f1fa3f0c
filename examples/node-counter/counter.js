// node-counter: a tiny domain speaking essim's process protocol, version 1
// (docs/protocol.md), in plain Node.js 20 with no packages. Counters
// ("ctr-0".."ctr-3") are added to and taken from, never below zero; the
// `totals` projection keeps each counter's total and the last version
// applied, so a redelivered event changes nothing.
//
//   node examples/node-counter/counter.js     # requests on stdin, answers on stdout
'use strict';

const readline = require('node:readline');

const HELLO = {
  protocol: 1,
  domain: 'node-counter',
  description: 'counters that are added to and taken from, never below zero',
  events: [{ type: 'Added', version: 1 }, { type: 'Taken', version: 1 }],
  evolve: { handles: ['Added', 'Taken'], ignores: [] },
  handlers: [{ name: 'totals', description: 'counter -> total and last version',
               handles: ['Added', 'Taken'], ignores: [], reads: 'keys', reference: true }],
  invariants: [{ name: 'never_negative', description: 'a counter never goes below zero',
                 stream_prefix: 'ctr-' }],
  work: [{ kind: 'add', weight: 3 }, { kind: 'take', weight: 2 }],
};

// xoshiro128** over the four words essim sends, as they are (see Rng in
// sdk/python/essim.py): one step is
//   result = rotl(s1 * 5, 7) * 9;  t = s1 << 9;
//   s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 11)
// all modulo 2^32. below() is Lemire's method, exact in BigInt.
function rngOf(words) {
  const s = Uint32Array.from(words);
  if (s.every((w) => w === 0)) s[0] = 0x9e3779b9;
  const rotl = (x, k) => ((x << k) | (x >>> (32 - k))) >>> 0;
  const next = () => {
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  };
  const below = (bound) => {  // uniform in [0, bound), 1 <= bound <= 2^32
    const draw = () => BigInt(next()) * BigInt(bound);
    let m = draw();
    if (Number(m & 0xffffffffn) < bound) {
      const threshold = (2 ** 32 - bound) % bound;
      while (Number(m & 0xffffffffn) < threshold) m = draw();
    }
    return Number(m >> 32n);
  };
  return { next, below, between: (low, high) => low + below(high - low + 1) };
}

const delta = (event) => (event.type === 'Added' ? 1 : -1) * event.payload.n;

// The totals handler on a cached read model: what it read, found absent and wrote.
function applyTotals(model, event) {
  const changes = { reads: {}, absent: [], writes: {}, deletes: [] };
  const key = event.stream;
  const row = model[key];
  if (row === undefined) changes.absent.push(key);
  else changes.reads[key] = row;
  if (row !== undefined && event.version <= row.version) return changes;  // a redelivery
  model[key] = { total: (row ? row.total : 0) + delta(event), version: event.version };
  changes.writes[key] = model[key];
  return changes;
}

// Read models cached under essim's handles; at most HANDLES_MAX, oldest dropped.
const HANDLES_MAX = 64;
const models = new Map();
function cached(handle, value) {
  const model = value !== undefined ? value : (models.get(handle) || {});
  models.delete(handle);
  models.set(handle, model);
  if (models.size > HANDLES_MAX) models.delete(models.keys().next().value);
  return model;
}

class ProtocolError extends Error {}

const calls = {
  hello: () => HELLO,
  initial: () => ({ total: 0 }),
  decide: ({ state, command }) => {
    const n = command.payload.n;
    if (command.kind === 'add') return { events: [{ type: 'Added', schema_version: 1, payload: { n } }] };
    if (command.kind !== 'take') throw new Error(`unknown command ${command.kind}`);
    if (n > state.total) return { refused: 'not enough' };
    return { events: [{ type: 'Taken', schema_version: 1, payload: { n } }] };
  },
  evolve: ({ state, event }) => ({ total: state.total + delta(event) }),
  apply: ({ handler, model, event }) => {
    if (handler !== 'totals') throw new ProtocolError(`no handler ${handler}`);
    // Rows are replaced, never changed in place: the change set stays as it is
    // while later requests of the same batch apply to the same copy.
    return applyTotals(cached(model), event);
  },
  load: ({ handler, model, value }) => {
    if (handler !== 'totals') throw new ProtocolError(`no handler ${handler}`);
    cached(model, value);
    return null;
  },
  reference: ({ handler, log }) => {  // sums over the whole log
    if (handler !== 'totals') throw new ProtocolError(`no handler ${handler}`);
    const out = {};
    for (const e of log) out[e.stream] = { total: (out[e.stream]?.total ?? 0) + delta(e), version: e.version };
    return out;
  },
  invariant: ({ name, state }) => {
    if (name !== 'never_negative') throw new ProtocolError(`no invariant ${name}`);
    return state.total >= 0;
  },
  generate: ({ kind, words }) => {
    const rng = rngOf(words);
    if (kind !== 'add' && kind !== 'take') throw new ProtocolError(`no kind of work ${kind}`);
    return { command: { kind, stream: `ctr-${rng.below(4)}`, payload: { n: rng.between(1, 20) } } };
  },
  bye: () => null,
};

function answer(request) {
  const id = request && typeof request === 'object' ? request.id ?? null : null;
  const call = calls[request?.call];
  if (call === undefined) return { id, protocol_error: `unknown call ${JSON.stringify(request?.call)}` };
  try {
    return { id, ok: call(request) };
  } catch (e) {
    if (e instanceof ProtocolError) return { id, protocol_error: e.message };
    return { id, error: { type: e.name, message: e.message, traceback: e.stack } };
  }
}

let finished = false;  // after bye: lines already buffered go unanswered
const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on('line', (line) => {
  if (finished || line.trim() === '') return;
  let request;
  try {
    request = JSON.parse(line);
  } catch (e) {
    process.stdout.write(JSON.stringify({ id: null, protocol_error: `not JSON: ${e.message}` }) + '\n');
    return;
  }
  const response = Array.isArray(request) ? request.map(answer) : answer(request);
  finished = [request].flat().some((r) => r?.call === 'bye');
  process.stdout.write(JSON.stringify(response) + '\n', () => { if (finished) process.exit(0); });
});
lines.on('close', () => process.exit(0));
