/** One SRV record of a priority group: its weight and how many addresses its target has. */
export interface SrvWeightInput {
  readonly weight: number;
  readonly addresses: number;
}

/** The endpoint weight given to a weight-0 record when others in its group have weight > 0. */
export const ZERO_WEIGHT_SHARE = 0.01;

/**
 * Endpoint weights for the records of one priority group, per address.
 *
 * - A record's weight is split evenly over its target's addresses, so a
 *   target with two addresses gets the same share as one with one.
 * - Weight 0 (RFC 2782: "a very small chance of being selected"): when every
 *   record of the group has weight 0 they share equally (weight 1 each);
 *   otherwise a weight-0 record gets {@link ZERO_WEIGHT_SHARE}, since meshkit
 *   endpoint weights must be > 0.
 */
export function srvEndpointWeights(records: readonly SrvWeightInput[]): number[] {
  const allZero = records.every((record) => record.weight === 0);
  return records.map((record) => {
    const weight = allZero ? 1 : record.weight === 0 ? ZERO_WEIGHT_SHARE : record.weight;
    return record.addresses > 0 ? weight / record.addresses : weight;
  });
}
