import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { AdmissionGate } from '../../src/core/admission.js';
import type { Clock, TimerHandle } from '../../src/core/clock.js';
import type { CallContext } from '../../src/core/call-context.js';
import { MeshkitError, Outcomes, toEndpoint } from '../../src/index.js';
import { circuitBreaker } from '../../src/policies/circuit-breaker.js';
import { EndpointBreakers } from '../../src/health/endpoint-breaker.js';
import { resolveEndpointCircuitBreakers } from '../../src/health/endpoint-breaker-options.js';

const root = new URL('../../../', import.meta.url);

/** Every source file of meshkit's breakers (not the opossum one: opossum keeps its own time, as documented). */
function breakerSources(): string[] {
  const files = readdirSync(new URL('src/breaker/', root)).filter((f) => f.endsWith('.ts')).map((f) => `src/breaker/${f}`);
  files.push('src/policies/circuit-breaker.ts', 'src/policies/circuit-breaker-options.ts');
  files.push('src/health/endpoint-breaker.ts', 'src/health/endpoint-breaker-options.ts');
  return files;
}

/** Code without comments, so that prose about `Date.now()` does not count. */
function code(path: string): string {
  return readFileSync(new URL(path, root), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
}

/**
 * A clock that uses no global at all (VirtualClock's advance yields with
 * setImmediate): timers fire synchronously in `advance`.
 */
class BareClock implements Clock {
  #now = 0;
  #id = 0;
  readonly #timers = new Map<number, { at: number; callback: () => void }>();
  now(): number {
    return this.#now;
  }
  random(): number {
    return 0.5;
  }
  /** The wall time its virtual time stands for: a clock without it makes snapshots fall back to Date.now(). */
  wallNow(): number {
    return 1_700_000_000_000 + this.#now;
  }
  setTimeout(callback: () => void, ms: number): TimerHandle {
    this.#timers.set(++this.#id, { at: this.#now + ms, callback });
    return this.#id;
  }
  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as number);
  }
  get pending(): number {
    return this.#timers.size;
  }
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      let next: [number, { at: number; callback: () => void }] | undefined;
      for (const entry of this.#timers) if (entry[1].at <= target && (next === undefined || entry[1].at < next[1].at)) next = entry;
      if (next === undefined) break;
      this.#timers.delete(next[0]);
      this.#now = next[1].at;
      next[1].callback();
    }
    this.#now = target;
  }
}

/** Replaces the time globals with throwing functions while `body` runs (synchronously). */
function withoutTimeGlobals(body: () => void): string[] {
  const touched: string[] = [];
  const g = globalThis as unknown as Record<string, unknown>;
  const saved = { setTimeout: g['setTimeout'], setInterval: g['setInterval'], setImmediate: g['setImmediate'], dateNow: Date.now, perfNow: performance.now };
  const trap = (name: string) => (): never => {
    touched.push(name);
    throw new Error(`${name} called`);
  };
  g['setTimeout'] = trap('setTimeout');
  g['setInterval'] = trap('setInterval');
  g['setImmediate'] = trap('setImmediate');
  Date.now = trap('Date.now');
  performance.now = trap('performance.now');
  try {
    body();
  } finally {
    g['setTimeout'] = saved.setTimeout;
    g['setInterval'] = saved.setInterval;
    g['setImmediate'] = saved.setImmediate;
    Date.now = saved.dateNow;
    performance.now = saved.perfNow;
  }
  return touched;
}

describe('the breakers read time only through the injected clock', () => {
  it('no breaker source calls Date.now, performance.now or a global timer', () => {
    const forbidden = /\bDate\.now\b|\bperformance\.now\b|(?<![.\w])(setTimeout|setInterval|setImmediate)\s*\(|node:timers|node:perf_hooks/;
    const files = breakerSources();
    assert.ok(files.length >= 8, files.join(', '));
    for (const file of files) {
      const hits = code(file).split('\n').filter((line) => forbidden.test(line));
      assert.deepEqual(hits, [], `${file} reads time or arms a timer without the clock`);
    }
  });

  it('no breaker source reaches into opossum (the opossum policy uses only its public API)', () => {
    for (const file of breakerSources()) assert.doesNotMatch(code(file), /opossum/, `${file} does not use opossum`);
    const opossumPolicy = code('src/policies/circuit-breaker-opossum.ts');
    // Private state: its status/window, symbols, underscored fields; emitting its events for it.
    assert.doesNotMatch(opossumPolicy, /\.status\b|\.window\b|getOwnPropertySymbols|\[Symbol|\._[a-zA-Z]|\.emit\(/);
  });

  it('a service breaker and endpoint breakers go closed, open, half-open, closed with every time global throwing', () => {
    const clock = new BareClock();
    const service = circuitBreaker({ volumeThreshold: 2, errorThreshold: 0.5, resetTimeout: '5s', clock });
    const endpoints = new EndpointBreakers(resolveEndpointCircuitBreakers({ volumeThreshold: 2, errorThreshold: 0.5, resetTimeout: '5s' }), clock, () => undefined);
    const endpoint = toEndpoint('127.0.0.1:3000', 'e');
    const gate = service.admission?.({ clock }) as AdmissionGate;
    const call = (): CallContext => ({ service: 's', current: undefined, stopped: undefined }) as unknown as CallContext;
    const states: string[] = [];
    const touched = withoutTimeGlobals(() => {
      for (const ok of [true, false, false]) {
        const c = call();
        assert.equal(gate.admit(c), undefined);
        gate.release(c, ok ? undefined : new MeshkitError('ERR_UPSTREAM', 'down'));
        endpoints.observe(endpoint, ok ? Outcomes.success : Outcomes.connect);
      }
      states.push(`${service.state}/${endpoints.state(endpoint.id)}`);
      const refused = gate.admit(call());
      assert.ok(refused instanceof MeshkitError && refused.code === 'ERR_CIRCUIT_OPEN');
      assert.equal(refused.details['retryAfterMs'], 5_000);
      assert.equal(service.stats().retryAfterMs, 5_000);
      assert.equal(endpoints.stats(endpoint.id)?.retryAfterMs, 5_000);
      clock.advance(5_000);
      states.push(`${service.state}/${endpoints.state(endpoint.id)}`);
      const trial = call();
      assert.equal(gate.admit(trial), undefined);
      gate.release(trial, undefined);
      endpoints.observe(endpoint, Outcomes.success);
      states.push(`${service.state}/${endpoints.state(endpoint.id)}`);
      service.snapshot();
      service.close();
      endpoints.close();
    });
    assert.deepEqual(touched, []);
    assert.deepEqual(states, ['open/open', 'half-open/half-open', 'closed/closed']);
    assert.equal(clock.pending, 0, 'closing released every timer');
  });
});
