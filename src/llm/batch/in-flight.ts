/** Samples in flight in batch mode unless the run says otherwise: each wave holds one call of each. */
export const BATCH_IN_FLIGHT = 1_000;
export const MAX_BATCH_IN_FLIGHT = 100_000;
