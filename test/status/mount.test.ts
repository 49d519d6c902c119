import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import Fastify from 'fastify';
import { client, type Client } from '../../src/index.js';
import { statusHandler, type StatusDocument } from '../../src/status/index.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';
import { get } from './support.js';

describe('mounting the status handler', () => {
  let up: Upstream;
  let c: Client;
  before(async () => {
    up = await startUpstream();
    c = client('status-mount').endpoints([up.address]).build();
    await (await c.request({ path: '/' })).body.dump();
  });
  after(async () => {
    await c.close();
    await up.close();
  });

  it('works as Express middleware under app.use(path), passing other paths on', async () => {
    const handler = statusHandler({ clients: [c], sampleInterval: false });
    const app = express();
    app.use('/meshkit', handler);
    app.get('/meshkit/custom', (_req, res) => {
      res.send('still routed');
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const page = await get(`${url}/meshkit`);
      assert.equal(page.status, 200);
      assert.match(page.body, /<title>meshkit status<\/title>/);
      const json = await get(`${url}/meshkit/snapshot.json`);
      assert.deepEqual((JSON.parse(json.body) as StatusDocument).clients.map((x) => x.service), ['status-mount']);
      assert.equal((await get(`${url}/meshkit/custom`)).body, 'still routed', 'next() for paths it does not own');
      assert.equal((await get(`${url}/meshkit/snapshot.json`, 'DELETE')).status, 405);
    } finally {
      handler.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('works with Fastify on the raw request and response (basePath set), HEAD included', async () => {
    const handler = statusHandler({ clients: [c], basePath: '/status', sampleInterval: false });
    const app = Fastify();
    const serve = (request: { raw: IncomingMessage }, reply: { hijack(): void; raw: ServerResponse }): void => {
      reply.hijack();
      handler(request.raw, reply.raw);
    };
    app.get('/status', serve);
    app.get('/status/*', serve);
    try {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      assert.equal((await get(`${url}/status/`)).status, 200);
      const json = await get(`${url}/status/snapshot.json`);
      assert.equal(json.headers['content-type'], 'application/json; charset=utf-8');
      assert.deepEqual((JSON.parse(json.body) as StatusDocument).clients.map((x) => x.service), ['status-mount']);
      const head = await get(`${url}/status/snapshot.json`, 'HEAD');
      assert.deepEqual([head.status, head.body], [200, '']);
      assert.equal((await get(`${url}/status/nothing`)).status, 404);
    } finally {
      handler.close();
      await app.close();
    }
  });
});
