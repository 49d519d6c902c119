/**
 * Every time read and timer in src/ goes through the injected Clock: a scan
 * for the wall clock (`Date.now`, `new Date()`), the monotonic clock
 * (`performance.now`) and the global timers (`setTimeout`, `setInterval`,
 * `setImmediate`, `queueMicrotask`) outside a `clock.` call. The few uses
 * that must stay are listed below, each with its reason; a listed use that
 * disappears fails too, so the list never outlives its reasons.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sourceFiles } from './import-graph.js';

const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));

/** What a use is: which clock or timer it reaches without going through an injected Clock. */
type Kind = 'Date.now' | 'new Date()' | 'performance.now' | 'setTimeout' | 'setInterval' | 'setImmediate' | 'queueMicrotask';

interface TimeUse {
  readonly file: string;
  readonly line: number;
  readonly kind: Kind;
  readonly text: string;
}

/**
 * The allowed uses: `file` -> kinds allowed there, with the reason. Keep it
 * short: a new entry needs a reason no injected clock can answer.
 */
const ALLOWED: Readonly<Record<string, { readonly kinds: readonly Kind[]; readonly reason: string }>> = {
  'core/clock.ts': {
    kinds: ['Date.now', 'performance.now', 'setTimeout', 'setImmediate'],
    reason: 'systemClock is the real clock, and wallClockNow falls back to Date.now() for a custom clock without wallNow',
  },
  'testing/virtual-clock.ts': {
    kinds: ['setImmediate'],
    reason: 'a test clock lets the real event loop turn (promise reactions settle between virtual timers; defer takes no virtual time)',
  },
  'sim/event-loop.ts': {
    kinds: ['setImmediate'],
    reason: 'the simulator captures the real setImmediate when it loads, to yield to Node between virtual instants',
  },
  'sim/cli.ts': {
    kinds: ['performance.now'],
    reason: 'meshkit-sim prints the wall time a run took (the simulated/wall ratio); it is never part of a report',
  },
  ...Object.fromEntries(['sim/backend.ts', 'sim/backend-body.ts', 'sim/backend-handler.ts', 'sim/transport.ts'].map((file) => [file, {
    kinds: ['queueMicrotask'] as const,
    reason: 'a microtask, not a timer: a simulated socket delivers off the caller\'s stack, as a real one does, in no virtual time and in a fixed order',
  }])),
  'status/page-script.ts': {
    kinds: ['setTimeout'],
    reason: 'the status page\'s script runs in the browser, not in the service',
  },
  'grpc/metadata.ts': {
    kinds: ['Date.now'],
    reason: 'grpc-js takes deadlines as wall-clock Dates and checks them against its own Date.now(): grpcWallNow is the one read',
  },
  'etcd/connect.ts': {
    kinds: ['Date.now'],
    reason: 'etcd3 hands unary deadlines to grpc-js, which takes wall-clock Dates and times them itself',
  },
  'transports/body-watch.ts': {
    kinds: ['queueMicrotask'],
    reason: 'a microtask, not a timer: reports a dispatch error off the caller\'s stack, as undici does, and takes no time',
  },
  'dispatcher/exchange.ts': {
    kinds: ['queueMicrotask'],
    reason: 'a microtask, not a timer: rethrows a handler\'s own exception outside the promise chain, and takes no time',
  },
};

const PATTERNS: readonly { readonly kind: Kind; readonly pattern: RegExp }[] = [
  // References too (`const now = Date.now`), not only calls: an alias would hide the call.
  { kind: 'Date.now', pattern: /\bDate\s*\.\s*now\b/g },
  { kind: 'performance.now', pattern: /\bperformance\s*\.\s*now\b/g },
  { kind: 'new Date()', pattern: /\bnew\s+Date\s*(\(\s*\)|(?!\s*\())/g },
  // A bare call, or the global read off globalThis: not `clock.setTimeout(`, not `#clock.setTimeout(`.
  ...(['setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask'] as const).map((kind) => ({
    kind,
    pattern: new RegExp(`(?<![\\w$#.])${kind}\\s*\\(|\\bglobalThis\\s*\\.\\s*${kind}\\b`, 'g'),
  })),
];

/** A method named like a timer (`setTimeout(callback: () => void, ms: number): TimerHandle {`): a Clock's definition, not a call. */
const METHOD_DEFINITION = /^\s*(?:async\s+)?(?:setTimeout|setInterval|setImmediate|queueMicrotask)\s*\([^)]*(?:\([^)]*\)[^)]*)*\)\s*(?::[^={]+)?\{\s*$/;

/** `text` with comments blanked out (line breaks kept, so line numbers hold); strings stay, and are scanned. */
function withoutComments(text: string): string {
  let out = '';
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quote !== undefined) {
      out += char;
      if (char === '\\') out += text[++i] ?? '';
      else if (char === quote) quote = undefined;
      continue;
    }
    if (char === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
      continue;
    }
    if (char === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end === -1 ? text.length : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop - 1;
      continue;
    }
    if (char === '\'' || char === '"' || char === '`') quote = char;
    out += char;
  }
  return out;
}

/** The uses of wall clock, monotonic clock and global timers in one file's text. */
function timeUsesIn(file: string, text: string): TimeUse[] {
  const uses: TimeUse[] = [];
  const lines = withoutComments(text).split('\n');
  lines.forEach((line, index) => {
    if (METHOD_DEFINITION.test(line)) return;
    for (const { kind, pattern } of PATTERNS) {
      for (const _match of line.matchAll(pattern)) uses.push({ file, line: index + 1, kind, text: line.trim() });
    }
  });
  return uses;
}

const uses = sourceFiles(SRC).flatMap((file) => timeUsesIn(file, readFileSync(`${SRC}${file}`, 'utf8')));
const describeUse = (use: TimeUse): string => `src/${use.file}:${use.line} ${use.kind}: ${use.text}`;

describe('clock purity in src/', () => {
  it('the scanner finds each kind of use, and skips clock calls, definitions and comments', () => {
    const sample = [
      'const a = Date.now();',
      'const b = performance.now();',
      'const c = new Date();',
      'const d = new Date;',
      'setTimeout(fire, 10);',
      'setInterval(fire, 10);',
      'setImmediate(fire);',
      'queueMicrotask(fire);',
      'const e = globalThis.setImmediate;',
      'const f = Date.now;',
      // None of these is a use:
      'clock.setTimeout(fire, 10); this.#clock.setTimeout(fire, 1); systemClock.setTimeout(fire, 1);',
      'const g = new Date(at); const h = realSetImmediate(fire); clock.now(); wallClockNow(clock);',
      '  setTimeout(callback: () => void, ms: number, keepAlive = false): TimerHandle {',
      '// Date.now() and setTimeout() in a comment',
      '/* performance.now() in a block comment */ const u = "a // b"; const i = 1;',
    ].join('\n');
    const found = timeUsesIn('sample.ts', sample);
    assert.deepEqual(found.map((use) => `${use.line} ${use.kind}`), [
      '1 Date.now', '2 performance.now', '3 new Date()', '4 new Date()', '5 setTimeout', '6 setInterval',
      '7 setImmediate', '8 queueMicrotask', '9 setImmediate', '10 Date.now',
    ]);
  });

  it('the scan reads the whole tree (a sanity check: the allowed uses are found where they are)', () => {
    assert.ok(sourceFiles(SRC).length > 100, `only ${sourceFiles(SRC).length} files under ${SRC}`);
    assert.ok(uses.some((use) => use.file === 'core/clock.ts' && use.kind === 'performance.now'));
  });

  it('every time read and timer goes through the injected Clock, except the listed uses', () => {
    const wrong = uses.filter((use) => !(ALLOWED[use.file]?.kinds.includes(use.kind) ?? false));
    assert.deepEqual(wrong.map(describeUse), [],
      'read time and set timers through the owner\'s Clock (clock.now(), clock.setTimeout(), wallClockNow(clock) for wall-clock time)');
  });

  it('every listed use still exists and has a reason (no stale entries)', () => {
    for (const [file, entry] of Object.entries(ALLOWED)) {
      assert.ok(entry.reason.length > 20, `${file}: give the reason`);
      for (const kind of entry.kinds) {
        assert.ok(uses.some((use) => use.file === file && use.kind === kind), `stale entry: src/${file} no longer uses ${kind}`);
      }
    }
  });
});
