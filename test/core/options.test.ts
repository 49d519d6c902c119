import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMeshkitError } from '../../src/index.js';
import {
  checkOptions, isOptionsObject, nearestKey, readBoolean, readChoice, readFunction, readNumber, readString, readTlsOptions, TLS_OPTION_KEYS,
} from '../../src/core/options.js';

/** Asserts `fn` throws ERR_INVALID_CONFIG naming `option`, and returns the error's message. */
function invalid(fn: () => unknown, option: string): string {
  let message = '';
  assert.throws(fn, (error: unknown) => {
    assert.ok(isMeshkitError(error, 'ERR_INVALID_CONFIG'), `expected ERR_INVALID_CONFIG, got ${String(error)}`);
    assert.equal(error.details['option'], option);
    assert.ok(error.message.includes(option), `the message names ${option}: ${error.message}`);
    message = error.message;
    return true;
  });
  return message;
}

describe('nearestKey', () => {
  const known = ['perTry', 'total'];

  it('finds a key that differs only in case first', () => {
    assert.equal(nearestKey('pertry', known), 'perTry');
    assert.equal(nearestKey('TOTAL', known), 'total');
  });

  it('finds a key within a few edits, and none when nothing is close', () => {
    assert.equal(nearestKey('perTyr', known), 'perTry');
    assert.equal(nearestKey('totl', known), 'total');
    assert.equal(nearestKey('errorThresholdPercentage', ['errorThreshold', 'volumeThreshold']), undefined,
      'a long, different name has no near match: the list of known keys is the hint');
    assert.equal(nearestKey('retries', ['attempts', 'backoff', 'statuses']), undefined);
    assert.equal(nearestKey('x', []), undefined);
  });
});

describe('checkOptions', () => {
  const known = ['perTry', 'total'];

  it('returns the object itself when every key is known', () => {
    const options = { perTry: '1s', total: undefined };
    assert.equal(checkOptions(options, 'timeout', known), options);
    assert.deepEqual(checkOptions({}, 'timeout', known), {});
  });

  it('names an unknown key with the nearest known one ("did you mean")', () => {
    const message = invalid(() => checkOptions({ pertry: '300ms' }, 'timeout', known), 'timeout.pertry');
    assert.match(message, /did you mean `perTry`\?/);
    assert.match(message, /one of perTry, total/);
    assert.match(message, /got "300ms"/, 'the bad value is shown');
  });

  it('names an unknown key without a hint when nothing is close, listing the known keys', () => {
    const message = invalid(() => checkOptions({ retries: 3 }, 'retry', ['attempts', 'backoff']), 'retry.retries');
    assert.doesNotMatch(message, /did you mean/);
    assert.match(message, /one of attempts, backoff/);
  });

  it('checks keys whose value is undefined too: a typo is a typo', () => {
    invalid(() => checkOptions({ totl: undefined }, 'timeout', known), 'timeout.totl');
  });

  it('names a key whose getter throws, with what it threw as cause, known key or not', () => {
    const thrown = new Error('not readable');
    for (const key of ['perTry', 'perTyr']) {
      const options = Object.defineProperty({}, key, { enumerable: true, get: () => { throw thrown; } });
      assert.throws(() => checkOptions(options, 'timeout', known), (error: unknown) =>
        isMeshkitError(error, 'ERR_INVALID_CONFIG') && error.details['option'] === `timeout.${key}` && error.cause === thrown);
    }
  });

  it('refuses anything that is not a plain options object, naming the option', () => {
    for (const value of [null, undefined, 42, 'perTry', [], () => ({}), true]) invalid(() => checkOptions(value, 'timeout', known), 'timeout');
  });

  it('says "takes no options" when nothing is known', () => {
    assert.deepEqual(checkOptions({}, 'balancer', []), {});
    assert.match(invalid(() => checkOptions({ seed: 1 }, 'balancer', []), 'balancer.seed'), /no options/);
  });

  it('isOptionsObject accepts objects only', () => {
    assert.deepEqual([{}, [], null, 'x', () => 1].map(isOptionsObject), [true, false, false, false, false]);
  });
});

describe('readers', () => {
  it('readBoolean: the fallback when undefined, true or false, nothing else', () => {
    assert.equal(readBoolean(undefined, 'o.flag', true), true);
    assert.equal(readBoolean(false, 'o.flag', true), false);
    for (const value of ['true', 1, 0, null, {}]) assert.match(invalid(() => readBoolean(value, 'o.flag', false), 'o.flag'), /true or false/);
  });

  it('readString: the fallback when undefined, a non-empty string, nothing else', () => {
    assert.equal(readString(undefined, 'o.name', 'default'), 'default');
    assert.equal(readString(undefined, 'o.name'), undefined);
    assert.equal(readString('orders', 'o.name'), 'orders');
    for (const value of ['', 42, null, ['a']]) invalid(() => readString(value, 'o.name'), 'o.name');
  });

  it('readNumber: bounds, integers, an exclusive minimum, finiteness', () => {
    assert.equal(readNumber(undefined, 'o.n', 7), 7);
    assert.equal(readNumber(undefined, 'o.n', undefined), undefined);
    assert.equal(readNumber(3, 'o.n', 0, { min: 1, max: 10, integer: true }), 3);
    assert.equal(readNumber(1, 'o.ratio', 0.5, { min: 0, max: 1, minExclusive: true }), 1);
    assert.match(invalid(() => readNumber(2.5, 'o.n', 0, { min: 1, max: 10, integer: true }), 'o.n'), /an integer >= 1 and <= 10/);
    assert.match(invalid(() => readNumber(0, 'o.ratio', 0.5, { min: 0, max: 1, minExclusive: true }), 'o.ratio'), /> 0 and <= 1/);
    invalid(() => readNumber(11, 'o.n', 0, { max: 10 }), 'o.n');
    invalid(() => readNumber(-1, 'o.n', 0, { min: 0 }), 'o.n');
    for (const value of [NaN, Infinity, -Infinity, '3', null, {}]) invalid(() => readNumber(value, 'o.n', 0), 'o.n');
  });

  it('readFunction: the fallback when undefined, a function, nothing else', () => {
    const fallback = (): number => 1;
    assert.equal(readFunction(undefined, 'o.fn', fallback), fallback);
    assert.equal(readFunction(undefined, 'o.fn'), undefined);
    const given = (): number => 2;
    assert.equal(readFunction(given, 'o.fn'), given);
    for (const value of ['x', {}, 1, null]) assert.match(invalid(() => readFunction(value, 'o.fn'), 'o.fn'), /a function/);
  });

  it('readChoice: the fallback when undefined, one of the choices, nothing else', () => {
    assert.equal(readChoice(undefined, 'o.scheme', ['http', 'https'], 'http'), 'http');
    assert.equal(readChoice('https', 'o.scheme', ['http', 'https'], 'http'), 'https');
    assert.match(invalid(() => readChoice('ftp', 'o.scheme', ['http', 'https'], 'http'), 'o.scheme'), /one of 'http', 'https'/);
    invalid(() => readChoice('HTTP', 'o.scheme', ['http', 'https'], 'http'), 'o.scheme');
    invalid(() => readChoice(1, 'o.scheme', ['http', 'https'], 'http'), 'o.scheme');
  });
});

describe('readTlsOptions', () => {
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

  it('undefined stays undefined; good options come back as a frozen copy', () => {
    assert.equal(readTlsOptions(undefined, 'tls'), undefined);
    const given = {
      ca: [pem, Buffer.from(pem)], cert: pem, key: Buffer.from('key'), servername: 'orders.internal', rejectUnauthorized: true,
      minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', ALPNProtocols: ['h2', 'http/1.1'], checkServerIdentity: () => undefined,
    };
    const tls = readTlsOptions(given, 'tls');
    assert.ok(tls !== undefined && Object.isFrozen(tls) && tls !== given);
    assert.deepEqual({ ...tls }, given);
  });

  it("refuses { rejectUnauthorized: 'no', ca: 42 }: each wrong type is named", () => {
    assert.match(invalid(() => readTlsOptions({ rejectUnauthorized: 'no', ca: pem }, 'tls'), 'tls.rejectUnauthorized'), /true or false/);
    assert.match(invalid(() => readTlsOptions({ ca: 42 }, 'tls'), 'tls.ca'), /PEM/);
    // Both wrong: the first is named, and the call fails either way.
    assert.throws(() => readTlsOptions({ rejectUnauthorized: 'no', ca: 42 }, 'tls'), (error: unknown) =>
      isMeshkitError(error, 'ERR_INVALID_CONFIG') && ['tls.rejectUnauthorized', 'tls.ca'].includes(error.details['option'] as string));
  });

  it('refuses other wrong types', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ca: [] }, 'tls.ca'],
      [{ ca: [pem, 42] }, 'tls.ca'],
      [{ servername: '' }, 'tls.servername'],
      [{ minVersion: 'SSLv3' }, 'tls.minVersion'],
      [{ maxVersion: 'TLSv2' }, 'tls.maxVersion'],
      [{ passphrase: 42 }, 'tls.passphrase'],
      [{ ALPNProtocols: 'h2' }, 'tls.ALPNProtocols'],
      [{ checkServerIdentity: true }, 'tls.checkServerIdentity'],
      [{ session: 'resume' }, 'tls.session'],
    ];
    for (const [value, option] of cases) invalid(() => readTlsOptions(value, 'tls'), option);
  });

  it('never shows a secret: a mistyped key\'s value, a secret of the wrong type, a string given for the whole object', () => {
    const secret = '-----BEGIN PRIVATE KEY-----\nMIGHsecret\n-----END PRIVATE KEY-----\n';
    const cases: [unknown, string][] = [
      [{ kye: secret, cert: pem }, 'tls.kye'],
      [{ key: 42, cert: pem }, 'tls.key'],
      [{ key: secret, cert: pem, passphrase: Buffer.from('hunter2-S3CRET') }, 'tls.passphrase'],
      [{ pfx: 42 }, 'tls.pfx'],
      [secret, 'tls'],
    ];
    for (const [value, option] of cases) {
      assert.throws(() => readTlsOptions(value, 'tls'), (error: unknown) => {
        assert.ok(isMeshkitError(error, 'ERR_INVALID_CONFIG'), String(error));
        assert.equal(error.details['option'], option);
        const shown = `${error.message} ${JSON.stringify(error.details)}`;
        assert.doesNotMatch(shown, /MIGHsecret|hunter2|S3CRET|PRIVATE KEY/, `${option}: ${shown}`);
        return true;
      });
    }
  });

  it('refuses unknown keys with a hint, and a key without its certificate (or the reverse)', () => {
    assert.match(invalid(() => readTlsOptions({ rejectUnauthorised: false }, 'tls'), 'tls.rejectUnauthorised'), /did you mean `rejectUnauthorized`\?/);
    assert.match(invalid(() => readTlsOptions({ CA: pem }, 'tls'), 'tls.CA'), /did you mean `ca`\?/);
    invalid(() => readTlsOptions({ cert: pem }, 'tls'), 'tls.key');
    invalid(() => readTlsOptions({ key: pem }, 'tls'), 'tls.cert');
    invalid(() => readTlsOptions('insecure', 'tls'), 'tls');
  });

  it('lists the keys it accepts', () => {
    for (const key of ['ca', 'cert', 'key', 'servername', 'rejectUnauthorized', 'minVersion']) assert.ok(TLS_OPTION_KEYS.includes(key), key);
  });
});
