/**
 * The mTLS row of the overhead scenario: meshkit's `c.request` with an
 * identity (`.identity(fileIdentity(...))`: client certificate, roots, SPIFFE
 * peer check) against raw undici over the same TLS (same certificates, same
 * upstream requiring client certificates), keep-alive, closed loop.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'undici';
import { client, fileIdentity } from '../src/index.js';
import { createCertificateAuthority } from '../test/helpers/tls.js';
import { runClosedLoop, type Operation } from './load.js';
import type { OverheadOptions } from './options.js';
import { median } from './stats.js';
import { startUpstream } from './upstream.js';

/** What the mTLS row measured. */
export interface MtlsResult {
  readonly concurrency: number;
  readonly rawReqPerSec: readonly number[];
  readonly meshkitReqPerSec: readonly number[];
  /** Median over rounds of meshkit / raw req/s in the same round. */
  readonly ratio: number;
  readonly errors: number;
  readonly firstError: string | undefined;
}

const SERVICE = 'bench-mtls';
const spiffe = (service: string): string => `spiffe://bench.consul/ns/default/dc/dc1/svc/${service}`;

/** Runs the mTLS row: its own TLS upstream process, a raw undici Pool and a meshkit client with an identity; releases all of them. */
export async function runMtls(options: OverheadOptions, progress: (line: string) => void): Promise<MtlsResult> {
  const concurrency = Math.max(...options.concurrencies);
  const ca = createCertificateAuthority('bench mesh CA');
  const server = ca.issue({ commonName: SERVICE, altNames: [spiffe(SERVICE)], usage: 'both' });
  const caller = ca.issue({ commonName: 'bench-caller', altNames: [spiffe('bench-caller')], usage: 'both' });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshkit-bench-mtls-'));
  const files = { cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem'), ca: path.join(dir, 'ca.pem') };
  writeFileSync(files.cert, caller.cert);
  writeFileSync(files.key, caller.key);
  writeFileSync(files.ca, ca.cert);
  const upstream = await startUpstream({ BENCH_UPSTREAM_TLS: JSON.stringify({ cert: server.cert, key: server.key, ca: ca.cert }) });
  const identity = fileIdentity(files);
  const pool = new Pool(`https://127.0.0.1:${upstream.port}`, {
    connections: options.connections,
    // The same trust and client certificate; raw undici cannot check SPIFFE IDs, so host names are not checked either.
    connect: { ca: ca.cert, cert: caller.cert, key: caller.key, rejectUnauthorized: true, checkServerIdentity: () => undefined },
  });
  try {
    await identity.ready();
    const c = client(SERVICE).endpoints([`127.0.0.1:${upstream.port}`]).identity(identity, { connections: options.connections }).build();
    try {
      const raw: Operation = async () => {
        const { statusCode, body } = await pool.request({ path: '/', method: 'GET' });
        await body.text();
        if (statusCode !== 200) throw new Error(`status ${statusCode}`);
      };
      const meshkit: Operation = async () => {
        const { statusCode, body } = await c.request({ path: '/', method: 'GET' });
        await body.text();
        if (statusCode !== 200) throw new Error(`status ${statusCode}`);
      };
      // Opening `concurrency` mTLS connections (ECDSA handshakes with client certificates) takes seconds on a
      // busy 2-core machine: the warm-up lasts at least 2 s so no measured round pays for handshakes.
      const warmup = Math.max(options.warmupSeconds, 2);
      progress(`mtls: ${warmup} s warm-up each at ${concurrency} concurrent`);
      await runClosedLoop(raw, concurrency, warmup);
      await runClosedLoop(meshkit, concurrency, warmup);
      const slice = options.seconds / options.rounds;
      const rawRates: number[] = [];
      const meshkitRates: number[] = [];
      let errors = 0;
      let firstError: unknown;
      for (let round = 0; round < options.rounds; round++) {
        // Alternate who goes first: the second of a pair runs on a warmer (or busier) machine.
        const order: ['raw' | 'meshkit', Operation][] = round % 2 === 0 ? [['raw', raw], ['meshkit', meshkit]] : [['meshkit', meshkit], ['raw', raw]];
        for (const [who, operation] of order) {
          const result = await runClosedLoop(operation, concurrency, slice);
          errors += result.errors;
          firstError ??= result.firstError;
          (who === 'raw' ? rawRates : meshkitRates).push(result.ok / (result.elapsedMs / 1000));
        }
      }
      const ratio = median(meshkitRates.map((rate, i) => rate / (rawRates[i] as number)));
      progress(`mtls: meshkit ${Math.round(median(meshkitRates))} req/s, raw undici ${Math.round(median(rawRates))} req/s (${(ratio * 100).toFixed(1)}%)`);
      return { concurrency, rawReqPerSec: rawRates, meshkitReqPerSec: meshkitRates, ratio, errors, firstError: firstError === undefined ? undefined : String(firstError) };
    } finally {
      await c.close();
    }
  } finally {
    await pool.close();
    await identity.close();
    await upstream.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
