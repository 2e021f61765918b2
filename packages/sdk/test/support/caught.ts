/** The error `p` rejects with; throws when `p` resolves instead, so a test expecting a rejection fails. */
export async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}
