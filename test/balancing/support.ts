import fc from 'fast-check';
import type { Balancer, BalancerFactory } from '../../src/balancing/balancer.js';
import type { AttemptContext } from '../../src/core/attempt.js';
import { CallRecord } from '../../src/attempts/call-record.js';
import { toEndpoint, type Endpoint } from '../../src/core/endpoint.js';
import { Outcomes, type Outcome } from '../../src/core/outcome.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { functionClassifier, functionTransport } from '../../src/transports/function.js';

/** `count` endpoints 127.0.0.1:1000+i, with optional weights. */
export function endpoints(count: number, weights?: readonly number[]): Endpoint[] {
  return Array.from({ length: count }, (_, i) => toEndpoint({ host: '127.0.0.1', port: 1000 + i, weight: weights?.[i] ?? 1 }, 'e'));
}

/** A call, optionally with a routing key and endpoints already tried. */
export function newCall(key?: string, tried?: Endpoint[]): CallRecord {
  const call = new CallRecord('svc', undefined, functionTransport, functionClassifier, 0, Infinity, true, true, undefined, key);
  if (tried !== undefined) call.tried = tried;
  return call;
}

/**
 * A VirtualClock that counts random() and now() calls: a balancer draws one
 * seed from it when created, and picks call neither (see pick-random.ts).
 */
export class CountingClock extends VirtualClock {
  randomCalls = 0;
  nowCalls = 0;

  override random(): number {
    this.randomCalls++;
    return super.random();
  }

  override now(): number {
    this.nowCalls++;
    return super.now();
  }
}

/**
 * An endpoint list that counts reads of its elements, to show how much of the
 * set a pick touches (the P2C family: the same handful at 10 or 10,000
 * endpoints). Works because pickers keep the list they were given.
 */
export function countingList(list: readonly Endpoint[]): { readonly list: readonly Endpoint[]; reads: number } {
  const counter = { list, reads: 0 };
  counter.list = new Proxy(list, {
    get(target, property, receiver) {
      if (typeof property === 'string' && /^\d+$/.test(property)) counter.reads++;
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
  return counter;
}

/** What 1,000 picks on a fresh set of `size` endpoints touched: element reads of the set per pick, and clock calls. */
export function pickCost(factory: BalancerFactory, size: number, key?: string): { readsPerPick: number; randomCalls: number; nowCalls: number } {
  const clock = new CountingClock();
  const balancer = factory.create({ service: 's', clock });
  const counted = countingList(endpoints(size));
  const picker = balancer.update(counted.list);
  const call = newCall(key);
  counted.reads = 0;
  clock.randomCalls = 0;
  clock.nowCalls = 0;
  for (let i = 0; i < 1000; i++) picker.pick(call);
  return { readsPerPick: counted.reads / 1000, randomCalls: clock.randomCalls, nowCalls: clock.nowCalls };
}

/** The attempt shape balancers see, for feeding them start/end events by hand. */
export function attemptOn(endpoint: Endpoint, call: CallRecord = newCall()): AttemptContext {
  return { call, number: 1, endpoint, deadline: Infinity, startedAt: 0, outboundHeaders: undefined, get signal(): AbortSignal { throw new Error('unused'); } };
}

/** Starts `count` attempts on `endpoint` that never end (in-flight load). */
export function load(balancer: Balancer, endpoint: Endpoint, count: number): AttemptContext[] {
  const started: AttemptContext[] = [];
  for (let i = 0; i < count; i++) {
    const attempt = attemptOn(endpoint);
    balancer.onAttemptStart?.(attempt);
    started.push(attempt);
  }
  return started;
}

/** One attempt on `endpoint` that took `ms` and ended with `outcome`. */
export function observe(balancer: Balancer, endpoint: Endpoint, ms: number, outcome: Outcome = Outcomes.success): void {
  const attempt = attemptOn(endpoint);
  balancer.onAttemptStart?.(attempt);
  balancer.onAttemptEnd?.(attempt, outcome, ms);
}

/** How often each endpoint id was picked. */
export function tally(picks: Iterable<Endpoint | undefined>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const endpoint of picks) {
    const id = endpoint?.id ?? 'none';
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/** Response behaviour of one simulated endpoint. */
export interface Behaviour {
  readonly ms: number;
  readonly outcome: Outcome;
}

/**
 * Drives a balancer in virtual time: `perMs` attempts start each millisecond
 * for `durationMs`; each ends after its endpoint's latency. Returns how many
 * attempts each endpoint received after `warmupMs`.
 */
export async function simulate(
  balancer: Balancer, set: readonly Endpoint[], clock: VirtualClock,
  behaviour: (endpoint: Endpoint) => Behaviour, options: { perMs: number; durationMs: number; warmupMs: number },
): Promise<Map<string, number>> {
  const picker = balancer.update(set);
  const inFlight: { endsAt: number; attempt: AttemptContext; behaviour: Behaviour }[] = [];
  const counts = new Map<string, number>(set.map((e) => [e.id, 0]));
  for (let t = 0; t < options.durationMs; t++) {
    for (let i = 0; i < options.perMs; i++) {
      const endpoint = picker.pick(newCall()) as Endpoint;
      const attempt = attemptOn(endpoint);
      const b = behaviour(endpoint);
      balancer.onAttemptStart?.(attempt);
      inFlight.push({ endsAt: clock.now() + b.ms, attempt, behaviour: b });
      if (t >= options.warmupMs) counts.set(endpoint.id, (counts.get(endpoint.id) ?? 0) + 1);
    }
    await clock.advance(1);
    for (let i = inFlight.length - 1; i >= 0; i--) {
      const entry = inFlight[i] as (typeof inFlight)[number];
      if (entry.endsAt > clock.now()) continue;
      inFlight.splice(i, 1);
      balancer.onAttemptEnd?.(entry.attempt, entry.behaviour.outcome, entry.behaviour.ms);
    }
  }
  return counts;
}

/** A random permutation of 0..n-1 for n in [2, 20]: distinct loads to hand out. */
export function permutation(): fc.Arbitrary<number[]> {
  return fc.integer({ min: 2, max: 20 }).chain((n) => fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }));
}
