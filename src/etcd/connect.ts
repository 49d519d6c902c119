import { Etcd3, type IOptions } from 'etcd3';
import type { EtcdSettings } from './options.js';

/**
 * A new etcd3 client. meshkit makes a fresh one for every (re)connection
 * and closes it on failure, so no gRPC reconnect backoff or open circuit
 * breaker from a past outage delays recovery.
 */
export function connectEtcd(settings: EtcdSettings): Etcd3 {
  const timeout = settings.requestTimeoutMs;
  const options: IOptions = {
    hosts: [...settings.hosts],
    dialTimeout: timeout,
    // Streams (watch) live long; unary calls get a deadline so a hung etcd fails them. gRPC takes
    // deadlines as wall-clock dates and times them itself: the injected (monotonic) clock cannot give one.
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeout }),
    // Detect a dead peer on a quiet watch; etcd refuses pings more often than every 5 s.
    grpcOptions: { 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_timeout_ms': 5_000 },
    ...(settings.credentials === undefined ? {} : { credentials: { ...settings.credentials } }),
    ...(settings.auth === undefined ? {} : { auth: { ...settings.auth } }),
  };
  return new Etcd3(options);
}
