/** Issue 12's golden input (the derivation is in golden-issue12.test.ts): 55 events in twelve micro-batches. */
export const MIN = 60_000
export const T0 = Date.UTC(2026, 0, 1, 12, 0)

/** The batches, in minutes after T0, in arrival order (late and semi-late mixed in). */
export const BATCHES: readonly (readonly number[])[] = [
  [0, 4, 6, 12, 17],
  [20, 6, 22],
  [25, 11, 27],
  [6, 30, 16, 32],
  [35, 21, 11, 37],
  [40, 16, 26, 42],
  [21, 45, 31, 47],
  [50, 36, 52, 26],
  [55, 41, 57, 31],
  [60, 46, 36, 62],
  [65, 51, 67],
  [60, 55, 66, 70, 57, 71, 75, 80, 85, 90, 95, 100, 104],
]

