import assert from 'node:assert/strict';
import { finished } from 'node:stream';
import { describe, it } from 'node:test';
import { SimBody } from '../../src/sim/backend-body.js';

describe('SimBody', () => {
  it('reads a complete body once, by any of undici\'s methods', async () => {
    const bytes = Buffer.from('{"a":1}');
    assert.deepEqual(await new SimBody(bytes, false).json(), { a: 1 });
    assert.equal(await new SimBody(bytes, false).text(), '{"a":1}');
    assert.equal((await new SimBody(bytes, false).arrayBuffer()).byteLength, 7);
    assert.equal((await new SimBody(bytes, false).blob()).size, 7);
    const chunks: Uint8Array[] = [];
    for await (const chunk of new SimBody(bytes, false)) chunks.push(chunk);
    assert.equal(Buffer.concat(chunks).toString(), '{"a":1}');
    const body = new SimBody(bytes, false);
    await body.text();
    assert.equal(body.bodyUsed, true);
    await assert.rejects(body.text(), TypeError);
    await body.dump(); // done already: resolves
  });

  it('tells its owner once when it is done, read or destroyed', async () => {
    let done = 0;
    const owner = { bodyDone: () => done++ };
    await new SimBody(undefined, false, owner).dump();
    new SimBody(undefined, false, owner).destroy();
    const read = new SimBody(undefined, false, owner);
    await read.text();
    read.destroy();
    assert.equal(done, 3);
  });

  it('streams as a Readable would: data, end and close, which finished() sees', async () => {
    const body = new SimBody(Buffer.from('hello'), false);
    const seen: string[] = [];
    body.on('data', (chunk: Uint8Array) => seen.push(Buffer.from(chunk).toString()));
    await new Promise<void>((resolve, reject) => finished(body as never, (error) => (error ? reject(error) : resolve())));
    assert.deepEqual(seen, ['hello']);
    assert.equal(body.readableEnded, true);
  });

  it('never ends a stalled body until it is destroyed; reads and dump then settle', async () => {
    const body = new SimBody(undefined, true);
    let settled = false;
    const reading = body.text().finally(() => {
      settled = true;
    });
    const dumping = body.dump();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false);
    const errors: Error[] = [];
    body.on('error', (error: Error) => errors.push(error));
    const failure = Object.assign(new Error('stalled'), { code: 'X' });
    body.destroy(failure);
    await assert.rejects(reading, (error) => error === failure);
    await dumping;
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(errors, [failure]);
    assert.equal(body.destroyed, true);
  });

  it('does not throw an error nobody listens for', async () => {
    const body = new SimBody(undefined, true);
    body.destroy(new Error('nobody listens'));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(body.destroyed, true);
  });
});
