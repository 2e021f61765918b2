/** Calendar time helpers. DingTalk's examples use `Asia/Shanghai` (+08:00, no daylight saving). */
const SHANGHAI_OFFSET_MS = 8 * 3_600_000;

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `2020-01-01T10:15:30+08:00` for an epoch-ms instant, in Asia/Shanghai. */
export function toShanghaiDateTime(ms: number): string {
  const d = new Date(ms + SHANGHAI_OFFSET_MS);
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}+08:00`
  );
}

/** `2020-01-01` (the Asia/Shanghai calendar date of an instant). */
export function toShanghaiDate(ms: number): string {
  return toShanghaiDateTime(ms).slice(0, 10);
}

/** Epoch ms of 00:00 Asia/Shanghai on the day `days` after the day of `ms`, plus `hours`. */
export function shanghaiDayAt(ms: number, days: number, hours: number): number {
  const local = ms + SHANGHAI_OFFSET_MS;
  const dayStart = local - (((local % 86_400_000) + 86_400_000) % 86_400_000);
  return dayStart - SHANGHAI_OFFSET_MS + days * 86_400_000 + hours * 3_600_000;
}

/** Epoch ms of a `YYYY-MM-DD` date at 00:00 Asia/Shanghai, or undefined if it is not a date. */
export function parseShanghaiDate(date: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return undefined;
  const ms = Date.parse(`${date}T00:00:00+08:00`);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Epoch ms of an ISO-8601 date-time. A date-time without an offset is read in Asia/Shanghai
 * (the only zone the sandbox models). Undefined if it does not parse.
 */
export function parseDateTime(text: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(text)) return undefined;
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/.test(text);
  const ms = Date.parse(hasZone ? text : `${text}+08:00`);
  return Number.isNaN(ms) ? undefined : ms;
}
