// The error the KMS emulator answers with: an RPC error code, its HTTP status and a one-line message.

export class KmsServiceError extends Error {
  override readonly name = 'KmsServiceError';
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The codes the emulator uses, in one place so README.md can say which are confirmed. */
export const kmsErrors = {
  keyNotFound: (ref: string) => new KmsServiceError('Forbidden.KeyNotFound', 404, `The specified Key is not found: ${ref}`),
  disabled: (id: string) => new KmsServiceError('Rejected.Disabled', 409, `The key is disabled: ${id}`),
  pendingDeletion: (id: string) =>
    new KmsServiceError('Rejected.PendingDeletion', 409, `The key is pending deletion: ${id}`),
  unexpectedState: (id: string, state: string) =>
    new KmsServiceError('Rejected.UnexpectedKeyState', 409, `The key ${id} is in state ${state}`),
  aliasExists: (alias: string) => new KmsServiceError('Rejected.AliasExist', 409, `The alias already exists: ${alias}`),
  invalidParameter: (what: string) => new KmsServiceError('InvalidParameter', 400, `The specified parameter is not valid: ${what}`),
  missingParameter: (name: string) => new KmsServiceError('MissingParameter', 400, `The parameter ${name} is required`),
  invalidCiphertext: () =>
    new KmsServiceError('InvalidParameter', 400, 'The specified parameter is not valid: CiphertextBlob or EncryptionContext'),
};
