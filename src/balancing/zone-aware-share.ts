/**
 * The share of picks that zone-aware routing sends to the caller's own zone,
 * in [0, 1]. The local zone is treated like Envoy's highest priority level
 * (P=0) and every other zone together like the next one (P=1):
 *
 * - the local zone's health is `healthyLocal / totalLocal` (endpoints in
 *   rotation over endpoints discovery knows in that zone, counted as hosts,
 *   as Envoy counts them);
 * - at or above `minHealthyPercent` the zone counts as fully healthy and gets
 *   everything (1);
 * - below it, the zone gets `health / (minHealthyPercent / 100)`, and the rest
 *   spills over. This is Envoy's priority load, `min(100, healthy% x
 *   overprovisioning factor)`, with the factor written as
 *   `100 / minHealthyPercent`: the default 70 gives 1.43, next to Envoy's
 *   default 1.4 (full health down to 71.4 %), and the share is continuous at
 *   the threshold, so traffic leaves the zone gradually as endpoints go;
 * - no healthy local endpoint: 0 (everything spills over); no healthy endpoint
 *   elsewhere: 1 (there is nowhere to spill to).
 *
 * Sources: Envoy's "Priority levels" and "Overprovisioning factor"
 * (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/priority,
 * https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/overprovisioning)
 * and "Locality weighted load balancing", whose effective locality weight is
 * the same capped product
 * (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/locality_weight).
 *
 * @param healthyLocal - local-zone endpoints in rotation (H)
 * @param totalLocal - local-zone endpoints discovery knows (T); a T below H counts as H
 * @param healthyOthers - endpoints in rotation outside the local zone
 * @param minHealthyPercent - 0 to 100; 0 keeps everything local while any local endpoint is in rotation
 */
export function localShare(healthyLocal: number, totalLocal: number, healthyOthers: number, minHealthyPercent: number): number {
  if (healthyLocal <= 0) return 0;
  if (healthyOthers <= 0 || totalLocal <= healthyLocal) return 1;
  // Compared as products so that, say, 7 of 10 at 70 % is exactly at the threshold.
  if (healthyLocal * 100 >= minHealthyPercent * totalLocal) return 1;
  return (healthyLocal * 100) / (totalLocal * minHealthyPercent);
}
