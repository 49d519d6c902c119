import type { TimerHandle } from '../core/clock.js';
import { parsePositiveDuration } from '../core/duration.js';
import { toEndpoint } from '../core/endpoint.js';
import { invalidConfig } from '../core/errors.js';
import { checkOptions, isOptionsObject, readString } from '../core/options.js';
import type { HealthCheck, Registration, ServiceInstance } from '../registration/registrar.js';
import { createAgentClient, withDeadline, type AgentClient, type PendingRequest } from './agent-client.js';
import type { ResolvedConsulOptions } from './options.js';

/** The check used when `register` is given none: a TTL check meshkit keeps passing. */
export const DEFAULT_CONSUL_CHECK: HealthCheck = Object.freeze({ ttl: '10s', deregisterAfter: '1m' });

/** A papi request stage; the consul package's own `register()` drops `Weights`, so the body is sent as built here. */
type Stage = (request: { err?: Error }, next: (stop: false, error?: Error, value?: unknown) => void) => void;
/** papi's request methods: used directly so that every request carries the `ctx` its deadline cancels. */
interface PapiClient {
  _get(request: Record<string, unknown>, ...stages: Stage[]): Promise<unknown>;
  _put(request: Record<string, unknown>, ...stages: Stage[]): Promise<unknown>;
}
const settle: Stage = (request, next) => (request.err === undefined ? next(false, undefined, true) : next(false, request.err));

/** Least time between two re-checks of an HTTP-check registration (Consul itself probes at most once a second). */
const MIN_RECHECK_MS = 1000;

const ms = (value: number): string => `${Math.max(1, Math.round(value))}ms`;

interface CheckBody {
  readonly body: Record<string, unknown>;
  /** The TTL, for a TTL check; undefined for an HTTP check. */
  readonly ttlMs: number | undefined;
  /** Time between two keep-alives (ttl/3) or re-checks (the HTTP check's interval, at least 1 s). */
  readonly everyMs: number;
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
    const intervalMs = parsePositiveDuration(check.interval ?? '10s', 'check.interval');
    return {
      ttlMs: undefined,
      everyMs: Math.max(MIN_RECHECK_MS, intervalMs),
      body: {
        HTTP: `http://${host}:${instance.port}${check.http}`,
        Interval: ms(intervalMs),
        Timeout: ms(parsePositiveDuration(check.timeout ?? '5s', 'check.timeout')),
        DeregisterCriticalServiceAfter: ms(parsePositiveDuration(check.deregisterAfter ?? '1m', 'check.deregisterAfter')),
      },
    };
  }
  checkOptions(check, 'check', ['ttl', 'deregisterAfter']);
  const ttl = check as { readonly ttl: unknown; readonly deregisterAfter?: unknown };
  const ttlMs = parsePositiveDuration(ttl.ttl, 'check.ttl');
  // meshkit reports every ttl/3: a tiny TTL (or seconds meant by a bare number, which is ms) would loop back to back.
  if (ttlMs < 1000) throw invalidConfig('check.ttl', "a duration of at least 1s (meshkit reports every ttl/3; a bare number is milliseconds, so write '10s')", ttl.ttl);
  const deregisterAfter = ms(parsePositiveDuration(ttl.deregisterAfter ?? '1m', 'check.deregisterAfter'));
  // Passing from the start: register() is called once the server accepts connections.
  return { ttlMs, everyMs: ttlMs / 3, body: { TTL: ms(ttlMs), Status: 'passing', DeregisterCriticalServiceAfter: deregisterAfter } };
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
 * reports "passing" every ttl/3 (ttl at least 1 s) on an unref'd timer and
 * registers again if the agent forgot the service (an agent restart); with
 * an HTTP check, it asks the agent every `interval` (at least 1 s) whether
 * it still has the service and registers it again if not. Every request has
 * a deadline (`requestTimeout`, default 5 s) on the injected clock, and a
 * failed or timed-out keep-alive is retried at the next one. The agent
 * removes a crashed instance once its check has been critical for
 * `deregisterAfter` (Consul raises anything under 1 minute to 1 minute and
 * reaps every 30 s).
 */
export async function registerInConsul(options: ResolvedConsulOptions, instance: ServiceInstance, check: HealthCheck = DEFAULT_CONSUL_CHECK): Promise<Registration> {
  checkOptions(instance, 'instance', INSTANCE_KEYS);
  const checkPart = checkBody(check, instance);
  const { id, body } = serviceBody(instance, checkPart);
  // Connect-native: the instance speaks mTLS itself with its Connect leaf (no sidecar).
  if (options.connect) body['Connect'] = { Native: true };
  const client: AgentClient = createAgentClient(options, false);
  const papi = client.consul as unknown as PapiClient;
  const { clock, requestTimeoutMs } = options;
  const headers = options.token === undefined ? {} : { 'x-consul-token': options.token };
  // A hung agent must neither stop the keep-alive nor hold up deregister(): every request has a deadline.
  const send = (what: string, request: Record<string, unknown>, method: '_get' | '_put' = '_put'): PendingRequest<unknown> =>
    withDeadline(clock, requestTimeoutMs, what, (ctx) => papi[method]({ ...request, headers, ctx }, settle));
  const put = (): PendingRequest<unknown> =>
    send('PUT /v1/agent/service/register', { name: 'agent.service.register', path: '/agent/service/register', type: 'json', body });
  // TTL: report passing (an unknown check fails). HTTP: look the service up (a missing one is a 404).
  const probe = (): PendingRequest<unknown> => (checkPart.ttlMs !== undefined
    ? send('PUT /v1/agent/check/pass', { name: 'agent.check.pass', path: '/agent/check/pass/{id}', params: { id: `service:${id}` } })
    : send('GET /v1/agent/service', { name: 'agent.service.get', path: '/agent/service/{id}', params: { id } }, '_get'));
  try {
    await put().result;
  } catch (error) {
    client.close();
    throw error;
  }

  let timer: TimerHandle | undefined;
  let stopped = false;
  let inFlight: PendingRequest<unknown> | undefined;
  let pending: Promise<void> | undefined;
  const run = async (request: PendingRequest<unknown>): Promise<void> => {
    inFlight = request;
    try {
      await request.result;
    } finally {
      inFlight = undefined;
    }
  };
  const keepAlive = async (): Promise<void> => {
    try {
      await run(probe());
      return;
    } catch (error) {
      if (stopped) return;
      // TTL: whatever failed (the agent lost the check, or is down), register again. HTTP: only when the agent
      // says it has no such service; an unreachable agent is asked again next round.
      if (checkPart.ttlMs === undefined && (error as { statusCode?: unknown }).statusCode !== 404) return;
    }
    // If registering fails too, the next round retries.
    await run(put()).catch(() => undefined);
  };
  const tick = (): void => {
    if (stopped) return;
    timer = clock.setTimeout(() => {
      timer = undefined;
      pending = keepAlive().finally(() => {
        pending = undefined;
        tick();
      });
    }, checkPart.everyMs);
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
        timer = undefined;
        // Abort a keep-alive in flight rather than wait for it (the agent may be hung), and let it settle
        // first: a re-registration still under way could otherwise add the service back after we removed it.
        inFlight?.cancel();
        await pending;
        try {
          await send('PUT /v1/agent/service/deregister', { name: 'agent.service.deregister', path: '/agent/service/deregister/{id}', params: { id } }).result;
        } catch (error) {
          // Not cached: a later deregister() asks the agent again.
          deregistering = undefined;
          throw error;
        } finally {
          // Drops the sockets; the HTTP agent opens new ones if deregister() is called again.
          client.close();
        }
      })();
      return deregistering;
    },
  });
}
