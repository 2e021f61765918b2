/** Reads a JSON array-of-strings column; anything else (corruption) becomes an empty list. */
export function readStringList(text: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`sandbox database: column is not JSON: ${String(err)}`);
  }
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
