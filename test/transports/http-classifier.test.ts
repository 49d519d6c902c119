import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpStatusClassifier } from '../../src/transports/http-classifier.js';

describe('HttpStatusClassifier', () => {
  it('fails 5xx, retries 502/503/504 by default, and treats 4xx as the service answering', () => {
    const classifier = new HttpStatusClassifier();
    const view = (status: number) => {
      const o = classifier.classify(status);
      return [o.reason, o.ok, o.retryable, o.status];
    };
    assert.deepEqual(view(200), ['ok', true, false, 200]);
    assert.deepEqual(view(404), ['ok', true, false, 404]);
    assert.deepEqual(view(500), ['status', false, false, 500]);
    assert.deepEqual(view(503), ['status', false, true, 503]);
    assert.deepEqual(view(429), ['ok', true, false, 429]);
  });

  it('retries the statuses it is given, and shares outcome objects', () => {
    const classifier = new HttpStatusClassifier([429, 500]);
    assert.deepEqual([classifier.classify(429).retryable, classifier.classify(429).ok], [true, true]);
    assert.equal(classifier.classify(500).retryable, true);
    assert.equal(classifier.classify(503).retryable, false);
    assert.equal(classifier.classify(200), classifier.classify(200));
    assert.equal(classifier.classify(999).ok, false);
  });
});
