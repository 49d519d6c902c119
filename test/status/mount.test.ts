import assert from 'node:assert/strict';
import http from 'node:http';
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
  it('refuses a Host that is not this machine\'s (DNS rebinding) in every mount: http, Express, Fastify', async () => {
    const rebound = { host: 'rebind.attacker.example', origin: 'http://rebind.attacker.example' };
    const plain = statusHandler({ clients: [c], sampleInterval: false });
    const server = http.createServer(plain);
    const express0 = statusHandler({ clients: [c], sampleInterval: false, allowedHosts: ['status.internal'] });
    const app = express();
    app.use('/meshkit', express0);
    app.get('/meshkit/custom', (_req, res) => {
      res.send('still routed');
    });
    const expressServer = app.listen(0, '127.0.0.1');
    const expressListening = new Promise((resolve) => expressServer.once('listening', resolve));
    const fastify0 = statusHandler({ clients: [c], basePath: '/status', sampleInterval: false });
    const fastify = Fastify();
    fastify.get('/status/*', (request, reply) => {
      reply.hijack();
      fastify0(request.raw, reply.raw);
    });
    try {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      await expressListening;
      await fastify.listen({ port: 0, host: '127.0.0.1' });
      const urls = [
        `http://127.0.0.1:${(server.address() as AddressInfo).port}/snapshot.json`,
        `http://127.0.0.1:${(expressServer.address() as AddressInfo).port}/meshkit/snapshot.json`,
        `http://127.0.0.1:${(fastify.server.address() as AddressInfo).port}/status/snapshot.json`,
      ];
      for (const url of urls) {
        const refused = await get(url, 'GET', rebound);
        assert.equal(refused.status, 421, url);
        assert.ok(!refused.body.includes('status-mount') && !refused.body.includes('attacker'), refused.body);
        assert.equal((await get(url)).status, 200, `${url} by its IP literal`);
      }
      const viaName = await get(urls[1] as string, 'GET', { host: 'Status.Internal:9901' });
      assert.equal(viaName.status, 200, 'Express mount: a name in allowedHosts');
      assert.equal((await get((urls[1] as string).replace('snapshot.json', 'custom'), 'GET', rebound)).body, 'still routed', 'the app\'s own routes are its own business');
    } finally {
      for (const handler of [plain, express0, fastify0]) handler.close();
      for (const s of [server, expressServer]) {
        s.closeAllConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
      await fastify.close();
    }
  });
});
