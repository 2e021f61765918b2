/** Appends query parameters to a redirect URI, keeping its own query and fragment. */
export function withQuery(uri: string, params: Record<string, string | undefined>): string {
  const url = new URL(uri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}

/** True when `uri` is an absolute http(s) (or custom-scheme app) URL. */
export function isAbsoluteUri(uri: string): boolean {
  try {
    const url = new URL(uri);
    return url.protocol.length > 1 && !uri.includes(' ');
  } catch {
    return false;
  }
}
