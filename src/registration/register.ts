import { describeValue, invalidConfig } from '../core/errors.js';
import { checkOptions, isOptionsObject, readFunction } from '../core/options.js';
import type { HealthCheck, Registrar, Registration, ServiceInstance } from './registrar.js';

/** Options of {@link register}. */
export interface RegisterOptions {
  /** Health check for the registry. Default: the registrar's own (a TTL check kept passing by meshkit, for Consul). */
  readonly check?: HealthCheck;
  /**
   * Signals on which to deregister before the process goes on shutting down.
   * Default `['SIGTERM', 'SIGINT']`; `[]` to handle shutdown yourself with `deregister()`.
   */
  readonly signals?: readonly NodeJS.Signals[];
  /**
   * Runs after deregistering on a signal (stop accepting, drain, close clients).
   * Default: re-raise the signal with meshkit's handler removed, so the
   * process ends as it would have without meshkit. If it throws or rejects,
   * meshkit reports that as a process warning (`MESHKIT_SHUTDOWN_ERROR`)
   * and then re-raises the signal.
   */
  readonly onShutdown?: (signal: NodeJS.Signals) => Promise<void> | void;
}

const REGISTER_KEYS: readonly (keyof RegisterOptions)[] = ['check', 'signals', 'onShutdown'];

/**
 * Registers this instance and removes it on shutdown: on each of `signals`,
 * it deregisters first (so callers stop sending), then runs `onShutdown`.
 * A crashed process disappears by itself once its check or lease expires.
 * Throws `ERR_INVALID_CONFIG` naming `register.<option>` for a bad or
 * unknown option (the registrar checks `instance` and the check's fields).
 */
export async function register(registrar: Registrar, instance: ServiceInstance, options: RegisterOptions = {}): Promise<Registration> {
  if (registrar === null || typeof registrar !== 'object' || typeof registrar.register !== 'function') {
    throw invalidConfig('registrar', 'a registrar such as consul({ ... }) or etcd({ ... })', registrar);
  }
  checkOptions(options, 'register', REGISTER_KEYS);
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  if (!Array.isArray(signals) || !signals.every((name) => typeof name === 'string' && /^SIG[A-Z0-9]+$/.test(name))) {
    throw invalidConfig('register.signals', "an array of signal names such as 'SIGTERM'", signals);
  }
  const onShutdown = readFunction<NonNullable<RegisterOptions['onShutdown']>>(options.onShutdown, 'register.onShutdown');
  if (options.check !== undefined && !isOptionsObject(options.check)) {
    throw invalidConfig('register.check', '{ ttl, deregisterAfter? } or { http, interval?, timeout?, deregisterAfter? }', options.check);
  }
  const registration = await registrar.register(instance, options.check);
  if (signals.length === 0) return registration;

  const onSignal = (signal: NodeJS.Signals): void => {
    for (const name of signals) process.removeListener(name, onSignal);
    void (async () => {
      try {
        await registration.deregister();
      } catch {
        // The registry is unreachable: the check or lease expiry removes us anyway.
      }
      if (onShutdown !== undefined) {
        try {
          await onShutdown(signal);
          return;
        } catch (error) {
          // Nobody awaits this: report it, then end the process as the signal would have.
          const detail = error instanceof Error ? String(error) : describeValue(error);
          process.emitWarning(`meshkit: onShutdown(${signal}) failed: ${detail}`, { code: 'MESHKIT_SHUTDOWN_ERROR' });
          // The warning is emitted on the next tick; the re-raised signal may end the process at once.
          await new Promise<void>((resolve) => process.nextTick(resolve));
        }
      }
      process.kill(process.pid, signal);
    })();
  };
  for (const name of signals) process.once(name, onSignal);
  return Object.freeze({
    id: registration.id,
    instance: registration.instance,
    async deregister(): Promise<void> {
      for (const name of signals) process.removeListener(name, onSignal);
      await registration.deregister();
    },
  });
}
