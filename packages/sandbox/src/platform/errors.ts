/** Why a platform operation was refused; the control API maps `kind` to 404 or 400. */
export class PlatformError extends Error {
  readonly kind: 'not_found' | 'invalid';
  /** The input field at fault, when there is one. */
  readonly field: string | undefined;
  constructor(kind: 'not_found' | 'invalid', message: string, field?: string) {
    super(message);
    this.name = 'PlatformError';
    this.kind = kind;
    this.field = field;
  }
}
