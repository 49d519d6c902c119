import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMeshkitError, Outcomes, toEndpoint, type Endpoint, type Outcome } from '../../src/index.js';
import { HEALTH_CHECK_ONLY_DETECTION } from '../../src/health/active-health-check-options.js';
import { EndpointHealthFilter } from '../../src/health/endpoint-health-filter.js';
import { resolveOutlierDetection, type OutlierDetectionOptions } from '../../src/health/outlier-options.js';
import { HttpStatusClassifier } from '../../src/transports/http-classifier.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

// The consecutive 5xx rule (Envoy's consecutive_5xx) on the filter alone: outcomes fed by hand, time never moves,
// so the success-rate rule (evaluated only at reviews) never runs and every ejection below is a consecutive rule's.

const statuses = new HttpStatusClassifier();
const ok: Outcome = Outcomes.success;
const internalError: Outcome = statuses.classify(500);
const unavailable: Outcome = statuses.classify(503);
const notFound: Outcome = statuses.classify(404);
const tooMany: Outcome = statuses.classify(429);

function detector(options: OutlierDetectionOptions) {
  let changes = 0;
  const d = new EndpointHealthFilter(resolveOutlierDetection(options), new VirtualClock(), () => changes++);
  const [a, b] = [toEndpoint('127.0.0.1:2000', 'e'), toEndpoint('127.0.0.1:2001', 'e')] as [Endpoint, Endpoint];
  d.setEndpoints([a, b]);
  const feed = (...outcomes: Outcome[]): void => { for (const o of outcomes) d.observe(a, o); };
  const health = () => d.snapshot().find((h) => h.id === a.id);
  return { d, a, b, feed, health, changes: () => changes };
}

const times = (n: number, o: Outcome): Outcome[] => Array.from({ length: n }, () => o);

describe('outlier detection: consecutive 5xx', () => {
  it('ejects an endpoint after 5 500s in a row with consecutive5xx: 5, not after 4', () => {
    const { d, b, feed, health, changes } = detector({ consecutive5xx: 5, maxEjectionPercent: 50 });
    feed(...times(4, internalError));
    assert.deepEqual([health()?.ejected, health()?.consecutive5xx, health()?.consecutiveGatewayFailures], [false, 4, 0]);
    feed(internalError);
    assert.deepEqual(d.available.map((e) => e.id), [b.id]);
    assert.deepEqual([health()?.ejected, health()?.reason, health()?.ejections, health()?.consecutive5xx], [true, 'consecutive-5xx', 1, 0]);
    assert.equal(changes(), 1);
    d.close();
  });

  it('is off by default: 500s in a row eject nothing, though the run is counted', () => {
    assert.equal(resolveOutlierDetection({}).consecutive5xx, 0);
    const { d, feed, health } = detector({ maxEjectionPercent: 50 });
    feed(...times(50, internalError));
    assert.equal(d.available.length, 2);
    assert.deepEqual([health()?.ejected, health()?.consecutive5xx, health()?.consecutiveGatewayFailures], [false, 50, 0]);
    d.close();
  });

  it('a success or a 4xx (429 included) breaks the run', () => {
    const { d, feed, health } = detector({ consecutive5xx: 5, maxEjectionPercent: 50 });
    for (const breaker of [ok, notFound, tooMany]) {
      feed(...times(4, internalError), breaker);
      assert.deepEqual([health()?.ejected, health()?.consecutive5xx], [false, 0], `status ${breaker.status} breaks the run`);
    }
    feed(...times(5, internalError));
    assert.equal(health()?.reason, 'consecutive-5xx');
    d.close();
  });

  it('every gateway failure (503, refused, reset, per-try timeout) counts toward it as well', () => {
    const { d, feed, health } = detector({ consecutive5xx: 5, consecutiveGatewayFailures: 0, maxEjectionPercent: 50 });
    feed(internalError, unavailable, Outcomes.connect, Outcomes.reset);
    assert.deepEqual([health()?.ejected, health()?.consecutive5xx], [false, 4]);
    feed(Outcomes.timeout);
    assert.equal(health()?.reason, 'consecutive-5xx');
    d.close();
  });

  it('keeps its own run: a 503 counts toward both rules, a 500 breaks only the gateway run', () => {
    const both = detector({ consecutive5xx: 10, consecutiveGatewayFailures: 3, maxEjectionPercent: 50 });
    both.feed(unavailable, unavailable, internalError, unavailable, unavailable);
    assert.deepEqual([both.health()?.ejected, both.health()?.consecutiveGatewayFailures, both.health()?.consecutive5xx], [false, 2, 5]);
    both.feed(unavailable);
    assert.deepEqual([both.health()?.reason, both.health()?.consecutiveGatewayFailures, both.health()?.consecutive5xx], ['consecutive-gateway-failures', 0, 0],
      'the gateway rule ejects, and an ejection clears both runs');
    both.d.close();

    const at5 = detector({ consecutive5xx: 5, consecutiveGatewayFailures: 5, maxEjectionPercent: 50 });
    at5.feed(...times(5, unavailable));
    assert.equal(at5.health()?.reason, 'consecutive-gateway-failures', 'both rules at once: reported as the gateway rule, as Envoy checks it first');
    at5.d.close();
  });

  it('a caller-blamed or local outcome counts toward neither rule and breaks neither run', () => {
    const { d, feed, health } = detector({ consecutive5xx: 5, consecutiveGatewayFailures: 5, maxEjectionPercent: 50 });
    const notTheEndpoints = [Outcomes.aborted, Outcomes.deadline, Outcomes.refused, Outcomes.cancelled];
    for (const o of notTheEndpoints) assert.notEqual(o.blame, 'upstream');
    feed(...notTheEndpoints, ...notTheEndpoints);
    assert.deepEqual([health()?.consecutive5xx, health()?.consecutiveGatewayFailures], [0, 0]);
    feed(...times(4, unavailable), ...notTheEndpoints);
    assert.deepEqual([health()?.ejected, health()?.consecutive5xx, health()?.consecutiveGatewayFailures], [false, 4, 4]);
    feed(internalError);
    assert.deepEqual([health()?.ejected, health()?.reason], [true, 'consecutive-5xx']);
    d.close();
  });

  it('health checks alone switch it off with the other passive rules', () => {
    const settings = resolveOutlierDetection(HEALTH_CHECK_ONLY_DETECTION);
    assert.deepEqual([settings.consecutiveGatewayFailures, settings.consecutive5xx, settings.successRate], [0, 0, undefined]);
  });

  it('refuses a bad value or a misspelt key, naming the option', () => {
    const refused = (options: unknown, option: string, hint?: string) => assert.throws(() => resolveOutlierDetection(options as OutlierDetectionOptions), (e: unknown) =>
      isMeshkitError(e) && e.code === 'ERR_INVALID_CONFIG' && (e.details as { option?: string }).option === option
        && (hint === undefined || e.message.includes(hint)), JSON.stringify(options));
    refused({ consecutive5xx: -1 }, 'outlierDetection.consecutive5xx');
    refused({ consecutive5xx: 2.5 }, 'outlierDetection.consecutive5xx');
    refused({ consecutive5xx: '5' }, 'outlierDetection.consecutive5xx');
    refused({ consecutive5XX: 5 }, 'outlierDetection.consecutive5XX', 'did you mean `consecutive5xx`?');
  });
});
