/**
 * `s` without its trailing `/`s, in linear time. (`s.replace(/\/+$/, '')` is quadratic in V8 on a
 * long run of slashes followed by anything else: a 150 KB `servers[0].url` froze the sandbox for 10 s.)
 */
export function trimTrailingSlashes(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 0x2f) end--;
  return end === s.length ? s : s.slice(0, end);
}
