/**
 * Why an endpoint is out of rotation: one of the two passive outlier rules,
 * an active health check that failed, or the endpoint's own circuit breaker.
 */
export type EjectionReason = 'consecutive-gateway-failures' | 'success-rate' | 'active-health-check' | 'circuit-open';
