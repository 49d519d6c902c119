// Renders the comparison: the three clients side by side, where the requests
// landed, when instances were ejected, and paragraphs whose numbers all come
// from the run that just happened.
import { EJECT_AFTER, MESHKIT_SETTINGS } from './clients.js';
import { SLOW_MS, type Instance } from './fleet.js';
import type { Ejection, Summary } from './stats.js';

const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
const ms = (x: number): string => `${x.toFixed(1)} ms`;
/** '50ms' -> '50 ms', '1s' -> '1 s': config spelling to prose spelling. */
const spoken = (d: string): string => d.replace(/^(\d+)([a-z]+)$/, '$1 $2');

function failures(s: Summary): string {
  const parts = Object.entries(s.outcomes)
    .filter(([outcome]) => outcome !== '200')
    .sort((a, b) => b[1] - a[1])
    .map(([outcome, n]) => `${n} x ${outcome}`);
  return parts.length === 0 ? 'none' : parts.join(', ');
}

/** Text columns (the first `leftColumns`) align left, numbers right. */
function row(cells: readonly string[], widths: readonly number[], leftColumns: number): string {
  return cells
    .map((c, i) => (i < leftColumns ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
    .join('  ')
    .trimEnd();
}

function table(rows: readonly (readonly string[])[], leftColumns = 1): string {
  const widths = (rows[0] ?? []).map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length)));
  return rows.map((r) => row(r, widths, leftColumns)).join('\n');
}

function kindLabel(i: Instance): string {
  if (i.kind === 'slow') return `slow, ~${SLOW_MS} ms`;
  if (i.kind === 'failing') return 'failing, 503';
  return 'healthy, 2-6 ms';
}

function wrap(text: string, width = 78): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines.join('\n');
}

/** Two heading rows, one per line of each column's heading. */
function headings(results: readonly Summary[], first: string): string[][] {
  return [
    ['', ...results.map((r) => r.heading[0])],
    [first, ...results.map((r) => r.heading[1])],
  ];
}

export function comparisonTable(results: readonly Summary[]): string {
  return table([
    ...headings(results, ''),
    ['success rate (200 OK)', ...results.map((r) => pct(r.successRate))],
    ['p50 latency', ...results.map((r) => ms(r.p50Ms))],
    ['p99 latency', ...results.map((r) => ms(r.p99Ms))],
    ['attempts per request', ...results.map((r) => r.attemptsPerRequest.toFixed(2))],
    ['failed requests', ...results.map(failures)],
  ]);
}

export function perInstanceTable(instances: readonly Instance[], results: readonly Summary[]): string {
  return table([
    ...headings(results, 'requests received by'),
    ...instances.map((i) => [`  ${i.name} (${kindLabel(i)})`, ...results.map((r) => String(r.received[i.name] ?? 0))]),
  ]);
}

function when(e: Ejection): string {
  return `${e.phase === 'warm-up' ? 'warm-up' : 'measured'} request ${e.afterRequests}`;
}

/**
 * For the client with outlier detection: each instance that is not healthy or
 * was ejected, what it received, and whether and when it left rotation
 * (checked after every request).
 */
export function ejectionLines(instances: readonly Instance[], s: Summary): string {
  const rows = instances.flatMap((i) => {
    const e = s.ejections.find((x) => x.instance === i.name);
    if (e === undefined && i.kind === 'healthy') return [];
    const ejected = e === undefined
      ? 'not ejected'
      : `ejected after ${when(e)}, having received ${e.instanceReceived};` +
        ` ${s.ejectedAtEnd.includes(i.name) ? 'out to the end' : 'back by the end'}`;
    return [[`  ${i.name}`, `${s.warmupReceived[i.name] ?? 0} + ${s.received[i.name] ?? 0}`, ejected]];
  });
  // The text goes after the aligned columns, left-aligned.
  const aligned = table(rows.map((r) => r.slice(0, 2))).split('\n');
  const lines = aligned.map((line, k) => `${line}  ${rows[k]?.[2] ?? ''}`);
  return [`${s.label}: requests received (warm-up + measured run), ejections`, ...lines].join('\n');
}

export function explanation(instances: readonly Instance[], naive: Summary, rr: Summary, ewma: Summary): string {
  const share = (kind: string): string => {
    const n = instances.filter((i) => i.kind === kind).length;
    return `${n} of ${instances.length}`;
  };
  const receivedBy = (s: Summary, which: (i: Instance) => boolean): number =>
    instances.filter(which).reduce((sum, i) => sum + (s.received[i.name] ?? 0), 0);
  const perTry = spoken(MESHKIT_SETTINGS.perTry);
  const attempts = (s: Summary): string => s.attemptsPerRequest.toFixed(2);
  const compare = (a: number, b: number): string => (a < b ? 'fewer' : a > b ? 'more' : 'as many');
  const timeouts = (s: Summary): number => s.outcomes['ERR_TIMEOUT'] ?? 0;

  const isBad = (i: Instance): boolean => i.kind !== 'healthy';
  const badOnes = instances.filter(isBad);
  // One sentence per bad instance, from what the run recorded.
  const fate = (i: Instance): string => {
    const who = i.name === i.kind ? `The ${i.kind} instance` : `${i.name} (${i.kind})`;
    const e = ewma.ejections.find((x) => x.instance === i.name);
    const warm = ewma.warmupReceived[i.name] ?? 0;
    const got = ewma.received[i.name] ?? 0;
    const split = `(${warm} in the warm-up, ${got} in the measured run, against ${rr.received[i.name] ?? 0} under round robin)`;
    if (e !== undefined) {
      const at = e.phase === 'warm-up' ? `during the warm-up (request ${e.afterRequests})` : `at request ${e.afterRequests} of the measured run`;
      const back = ewma.ejectedAtEnd.includes(i.name) ? '' : ' (it was back in rotation by the end)';
      return `${who}: outlier detection ejected it ${at}, once it had received ${e.instanceReceived} requests${back};` +
        ` in all it received ${warm + got} from this client ${split}.`;
    }
    if (warm + got < EJECT_AFTER) {
      return `${who}: never ejected, as it never failed ${EJECT_AFTER} times in a row: peak EWMA, which counts a failure` +
        ` as 1 s, sent it only ${warm + got} requests in all ${split}.`;
    }
    return `${who}: not ejected; it received ${warm + got} requests from this client ${split}.`;
  };
  const healthyEjections = ewma.ejections.filter((e) => instances.some((i) => i.name === e.instance && i.kind === 'healthy'));

  const paragraphs = [
    [
      `What happened: naive round robin gives every instance its turn, so the failing`,
      `instance (${share('failing')}) turned its share of requests into 503s and the slow one`,
      `(${share('slow')}) put ~${SLOW_MS} ms into the tail: ${pct(naive.successRate)} succeeded,`,
      `p99 ${ms(naive.p99Ms)}. meshkit with the same round robin shows what timeouts and`,
      `retries alone buy: its per-try timeout (${perTry}) gave up on the slow instance instead`,
      `of waiting, and its retries (up to ${MESHKIT_SETTINGS.attempts} attempts, on 503s and timeouts, within a`,
      `${spoken(MESHKIT_SETTINGS.total)} deadline) sent those requests on to another instance:`,
      `${pct(rr.successRate)} succeeded, p99 ${ms(rr.p99Ms)}. The price is`,
      `${attempts(rr)} attempts per request: the fleet did the extra work.`,
      // A default budget caps retries at 20 % of calls + 10/s: with 2 of 5 instances bad, about
      // 40 % of first attempts fail, more than it allows, so some calls end on their first failure.
      ...(rr.succeeded < rr.requests
        ? [
            `It did not save every request: ${rr.requests - rr.succeeded} failed. meshkit's retry budget lets`,
            `retries add at most 20 % of calls plus 10 per second; with ${badOnes.length} of ${instances.length} instances`,
            `bad, about ${Math.round((badOnes.length / instances.length) * 100)} % of first attempts fail, more than that, so some calls`,
            `ended on a failure instead of a retry. That is the budget working: retries`,
            `must not multiply the load on a fleet that is failing.`,
          ]
        : []),
      // Explain a visible rise only; a few tenths of a ms is noise.
      ...(rr.p50Ms > naive.p50Ms + 0.5
        ? [
            `Its median is a little higher (${ms(rr.p50Ms)} against ${ms(naive.p50Ms)}):`,
            `the requests whose first attempt met a bad instance (about ${badOnes.length} in`,
            `${instances.length}) now all end after a short jittered backoff and another attempt,`,
            `while the naive median counts its 503s, which come back in about a millisecond,`,
            `among the fast answers.`,
          ]
        : []),
      `And round robin kept giving the bad instances their turn: ${receivedBy(rr, isBad)}`,
      `of the ${receivedBy(rr, () => true)} attempts went to them, each one wasted work, on the slow`,
      `instance ${perTry} of waiting too.`,
    ],
    [
      `meshkit's defaults take them out of rotation instead. Peak EWMA sends each`,
      `attempt to the less loaded of two random instances, load being latency x (in`,
      `flight + 1), with a failed attempt counted as 1 s; outlier detection ejects an`,
      `instance after ${EJECT_AFTER} gateway failures in a row (503s, timeouts), up to`,
      `${MESHKIT_SETTINGS.maxEjectionPercent} % of the fleet at once.`,
      ...badOnes.map(fate),
      ...(healthyEjections.length > 0
        ? [`A healthy instance was ejected too (${healthyEjections.map((e) => e.instance).join(', ')}): it missed the`,
           `${perTry} per-try timeout ${EJECT_AFTER} times in a row, which a busy machine can cause.`]
        : []),
      `In the measured run the bad instances took ${receivedBy(ewma, isBad)} of ${receivedBy(ewma, () => true)} attempts`,
      `(round robin: ${receivedBy(rr, isBad)} of ${receivedBy(rr, () => true)}), so ${attempts(ewma)} attempts per request`,
      `(${compare(ewma.attemptsPerRequest, rr.attemptsPerRequest)} than round robin's ${attempts(rr)}):`,
      `${pct(ewma.successRate)} succeeded, p50 ${ms(ewma.p50Ms)}, p99 ${ms(ewma.p99Ms)}`,
      `(round robin: ${pct(rr.successRate)}, ${ms(rr.p50Ms)}, ${ms(rr.p99Ms)}).`,
    ],
    ...(timeouts(rr) + timeouts(ewma) > 0
      ? [[
          `A meshkit failure listed as ERR_TIMEOUT is a call whose last attempt ran out its`,
          `${perTry}: a tight budget, which on a busy machine even a healthy instance can miss.`,
        ]]
      : []),
  ];
  return paragraphs.map((p) => wrap(p.join(' '))).join('\n\n');
}
