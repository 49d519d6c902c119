/**
 * Why an endpoint is out of rotation: one of the three passive outlier rules
 * (gateway failures in a row, 5xx responses in a row, a success rate below
 * the others'), an active health check that failed, or the endpoint's own
 * circuit breaker.
 */
export type EjectionReason = 'consecutive-gateway-failures' | 'consecutive-5xx' | 'success-rate' | 'active-health-check' | 'circuit-open';
