import { z } from 'zod';

/** `POST /sandbox/clock/advance` */
export const advanceClockBody = z
  .object({
    ms: z
      .number()
      .int()
      .min(0)
      .max(10 * 365 * 24 * 3600 * 1000),
  })
  .strict();
