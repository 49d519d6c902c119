import type { TimerHandle } from '../core/clock.js';
import { parsePositiveDuration } from '../core/duration.js';
import { toEndpoint } from '../core/endpoint.js';
import { invalidConfig } from '../core/errors.js';
import { checkOptions, isOptionsObject, readString } from '../core/options.js';
import type { HealthCheck, Registration, ServiceInstance } from '../registration/registrar.js';
import { createAgentClient, type AgentClient } from './agent-client.js';
import type { ResolvedConsulOptions } from './options.js';

/** The check used when `register` is given none: a TTL check meshkit keeps passing. */
export const DEFAULT_CONSUL_CHECK: HealthCheck = Object.freeze({ ttl: '10s', deregisterAfter: '1m' });

/** A papi request stage; the consul package's own `register()` drops `Weights`, so the body is sent as built here. */
type Stage = (request: { err?: Error }, next: (stop: false, error?: Error, value?: unknown) => void) => void;
interface PapiClient {
  _put(request: Record<string, unknown>, ...stages: Stage[]): Promise<unknown>;
}
const settle: Stage = (request, next) => (request.err === undefined ? next(false, undefined, true) : next(false, request.err));

const ms = (value: number): string => `${Math.max(1, Math.round(value))}ms`;

interface CheckBody {
  readonly body: Record<string, unknown>;
  readonly ttlMs: number | undefined;
}

/** The keys of a {@link ServiceInstance}. */
const INSTANCE_KEYS: readonly string[] = ['service', 'id', 'address', 'port', 'tags', 'metadata', 'weight', 'zone'];

function checkBody(check: HealthCheck, instance: ServiceInstance): CheckBody {
  if (!isOptionsObject(check) || !('http' in check || 'ttl' in check)) throw invalidConfig('check', '{ ttl } or { http }', check);
  if ('http' in check && check.http !== undefined) {
    checkOptions(check, 'check', ['http', 'interval', 'timeout', 'deregisterAfter']);
    if (typeof check.http !== 'string' || !check.http.startsWith('/')) throw invalidConfig('check.http', "a path such as '/health'", check.http);
    // A bad address fails validation in serviceBody, naming instance.address.
    const address = typeof instance.address === 'string' ? instance.address : '';
    const host = address.includes(':') ? `[${address}]` : address;
    return {
      ttlMs: undefined,
      body: {
        HTTP: `http://${host}:${instance.port}${check.http}`,
        Interval: ms(parsePositiveDuration(check.interval ?? '10s', 'check.interval')),
        Timeout: ms(parsePositiveDuration(check.timeout ?? '5s', 'check.timeout')),
        DeregisterCriticalServiceAfter: ms(parsePositiveDuration(check.deregisterAfter ?? '1m', 'check.deregisterAfter')),
      },
    };
  }
  checkOptions(check, 'check', ['ttl', 'deregisterAfter']);
  const ttl = check as { readonly ttl: unknown; readonly deregisterAfter?: unknown };
  const ttlMs = parsePositiveDuration(ttl.ttl, 'check.ttl');
  const deregisterAfter = ms(parsePositiveDuration(ttl.deregisterAfter ?? '1m', 'check.deregisterAfter'));
  // Passing from the start: register() is called once the server accepts connections.
  return { ttlMs, body: { TTL: ms(ttlMs), Status: 'passing', DeregisterCriticalServiceAfter: deregisterAfter } };
}

function serviceBody(instance: ServiceInstance, check: CheckBody): { id: string; body: Record<string, unknown> } {
  if (readString(instance.service, 'instance.service') === undefined) throw invalidConfig('instance.service', 'a non-empty string', undefined);
  const endpoint = toEndpoint({
    host: instance.address, port: instance.port,
    ...(instance.weight === undefined ? {} : { weight: instance.weight }),
    ...(instance.zone === undefined ? {} : { zone: instance.zone }),
    ...(instance.tags === undefined ? {} : { tags: instance.tags }),
    ...(instance.metadata === undefined ? {} : { metadata: instance.metadata }),
  }, 'instance');
  if (!Number.isInteger(endpoint.weight)) throw invalidConfig('instance.weight', 'an integer >= 1 (Consul weights are integers)', instance.weight);
  const id = instance.id ?? `${instance.service}-${endpoint.host}-${endpoint.port}`;
  if (typeof id !== 'string' || id === '' || /[/?#\s]/.test(id)) throw invalidConfig('instance.id', 'a non-empty id without "/", "?", "#" or spaces', id);
  const meta = { ...endpoint.metadata, ...(endpoint.zone === undefined ? {} : { zone: endpoint.zone }) };
  return {
    id,
    body: {
      ID: id, Name: instance.service, Address: endpoint.host, Port: endpoint.port,
      Tags: [...endpoint.tags], Meta: meta, Weights: { Passing: endpoint.weight, Warning: 1 },
      Check: check.body,
    },
  };
}

/**
 * Puts `instance` in the local Consul agent. With a TTL check, meshkit
 * reports "passing" every ttl/3 on an unref'd timer and registers again if
 * the agent forgot the service (an agent restart); the agent removes a
 * crashed instance once its check has been critical for `deregisterAfter`
 * (Consul raises anything under 1 minute to 1 minute and reaps every 30 s).
 */
export async function registerInConsul(options: ResolvedConsulOptions, instance: ServiceInstance, check: HealthCheck = DEFAULT_CONSUL_CHECK): Promise<Registration> {
  checkOptions(instance, 'instance', INSTANCE_KEYS);
  const checkPart = checkBody(check, instance);
  const { id, body } = serviceBody(instance, checkPart);
  // Connect-native: the instance speaks mTLS itself with its Connect leaf (no sidecar).
  if (options.connect) body['Connect'] = { Native: true };
  const client: AgentClient = createAgentClient(options, false);
  const headers = options.token === undefined ? {} : { 'x-consul-token': options.token };
  const put = (): Promise<unknown> => (client.consul as unknown as PapiClient)._put(
    { name: 'agent.service.register', path: '/agent/service/register', type: 'json', body, headers }, settle);
  try {
    await put();
  } catch (error) {
    client.close();
    throw error;
  }

  const clock = options.clock;
  let timer: TimerHandle | undefined;
  let stopped = false;
  let pending: Promise<void> | undefined;
  const keepAlive = async (): Promise<void> => {
    try {
      await client.consul.agent.check.pass({ id: `service:${id}` });
    } catch {
      // The agent lost the check (restarted) or is down: register again; if that fails too, the next tick retries.
      if (!stopped) await put().catch(() => undefined);
    }
  };
  const tick = (): void => {
    if (stopped || checkPart.ttlMs === undefined) return;
    timer = clock.setTimeout(() => {
      timer = undefined;
      pending = keepAlive().finally(() => {
        pending = undefined;
        tick();
      });
    }, checkPart.ttlMs / 3);
  };
  tick();

  let deregistering: Promise<void> | undefined;
  return Object.freeze({
    id,
    instance,
    deregister(): Promise<void> {
      deregistering ??= (async () => {
        stopped = true;
        if (timer !== undefined) clock.clearTimeout(timer);
        // A keep-alive in flight could register the service again after we removed it.
        await pending;
        try {
          await client.consul.agent.service.deregister({ id });
        } finally {
          client.close();
        }
      })();
      return deregistering;
    },
  });
}
