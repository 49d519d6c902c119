// Renders the comparison: a side-by-side table, where the requests landed, and a
// paragraph whose numbers all come from the run that just happened.
import { MESHKIT_SETTINGS } from './clients.js';
import { SLOW_MS, type Instance } from './fleet.js';
import type { Summary } from './stats.js';

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

export function comparisonTable(naive: Summary, mesh: Summary): string {
  return table([
    ['', naive.label, mesh.label],
    ['success rate (200 OK)', pct(naive.successRate), pct(mesh.successRate)],
    ['p50 latency', ms(naive.p50Ms), ms(mesh.p50Ms)],
    ['p99 latency', ms(naive.p99Ms), ms(mesh.p99Ms)],
    ['attempts per request', naive.attemptsPerRequest.toFixed(2), mesh.attemptsPerRequest.toFixed(2)],
    ['failed requests', failures(naive), failures(mesh)],
  ]);
}

export function perInstanceTable(instances: readonly Instance[], naive: Summary, mesh: Summary): string {
  return table([
    ['requests received by', '', naive.label, mesh.label],
    ...instances.map((i) => [
      `  ${i.name}`,
      `(${kindLabel(i)})`,
      String(naive.received[i.name] ?? 0),
      String(mesh.received[i.name] ?? 0),
    ]),
  ], 2);
}

export function explanation(instances: readonly Instance[], naive: Summary, mesh: Summary): string {
  const share = (kind: string): string => {
    const n = instances.filter((i) => i.kind === kind).length;
    return `${n} of ${instances.length}`;
  };
  const receivedBy = (s: Summary, which: (i: Instance) => boolean): number =>
    instances.filter(which).reduce((sum, i) => sum + (s.received[i.name] ?? 0), 0);
  const perTry = spoken(MESHKIT_SETTINGS.perTry);
  const bad = instances.filter((i) => i.kind !== 'healthy').length;
  const wasted = receivedBy(mesh, (i) => i.kind !== 'healthy');
  const paragraphs = [
    [
      `What happened: naive round robin gives every instance its turn, so the failing`,
      `instance (${share('failing')}) turned its share of requests into 503s and the slow one`,
      `(${share('slow')}) put ~${SLOW_MS} ms into the tail: ${pct(naive.successRate)} succeeded,`,
      `p99 ${ms(naive.p99Ms)}. meshkit used the same rotation, but its per-try timeout`,
      `(${perTry}) gave up on the slow instance instead of waiting, and its retries (up to`,
      `${MESHKIT_SETTINGS.attempts} attempts, on 503s and timeouts, within a`,
      `${spoken(MESHKIT_SETTINGS.total)} deadline) sent those requests on to another instance:`,
      `${pct(mesh.successRate)} succeeded, p99 ${ms(mesh.p99Ms)}. The price is`,
      `${mesh.attemptsPerRequest.toFixed(2)} attempts per request: the fleet did the extra work.`,
      // Explain a visible rise only; a few tenths of a ms is noise.
      ...(mesh.p50Ms > naive.p50Ms + 0.5
        ? [
            `The median is a little higher (${ms(mesh.p50Ms)} against ${ms(naive.p50Ms)}):`,
            `the requests whose first attempt met a bad instance (about ${bad} in`,
            `${instances.length}) now all end after a short jittered backoff and another attempt,`,
            `while the naive median counts its 503s, which come back in about a millisecond,`,
            `among the fast answers.`,
          ]
        : []),
      ...((mesh.outcomes['ERR_TIMEOUT'] ?? 0) > 0
        ? [
            `A meshkit failure listed as ERR_TIMEOUT is a call whose last attempt ran out its`,
            `${perTry}: a tight budget, which on a busy machine even a healthy instance can miss.`,
          ]
        : []),
    ],
    [
      `What is still wrong: round robin kept giving the bad instances their turn (${wasted}`,
      `of the ${receivedBy(mesh, () => true)} attempts meshkit made went to them), and each of`,
      `those attempts was wasted work, on the slow instance ${perTry} of waiting too. Later`,
      `meshkit features take them out of rotation altogether: peak-EWMA balancing steers`,
      `traffic away from slow instances, and outlier ejection removes instances that keep`,
      `failing, so most requests never need a retry.`,
    ],
  ];
  return paragraphs.map((p) => wrap(p.join(' '))).join('\n\n');
}
