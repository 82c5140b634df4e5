// The emulator's error answers: one class carrying an SLS errorCode and its HTTP status (see README.md for sources).

/** Status of every code the emulator answers with, so a fault configured by code alone gets the real status. */
const STATUS_BY_CODE: Record<string, number> = {
  MissingContentLength: 411,
  InvalidContentType: 415,
  MissingContentType: 400,
  MissingBodyRawSize: 400,
  InvalidBodyRawSize: 400,
  InvalidCompressType: 400,
  InvalidHost: 400,
  MissingHost: 400,
  MissingDate: 400,
  InvalidDateFormat: 400,
  MissingAPIVersion: 400,
  InvalidAPIVersion: 400,
  MissAccessKeyId: 400,
  MissingSignatureMethod: 400,
  InvalidSignatureMethod: 400,
  RequestTimeExpired: 400,
  InvalidContentMD5: 400,
  PostBodyInvalid: 400,
  PostBodyTooLarge: 400,
  PostBodyUncompressError: 400,
  ParameterInvalid: 400,
  InvalidCursor: 400,
  LogStoreAlreadyExist: 400,
  IndexAlreadyExist: 400,
  IndexConfigNotExist: 400,
  ConsumerGroupAlreadyExist: 400,
  JsonInfoInvalid: 400,
  NotExistConsumerWithBody: 400,
  InvalidShardCheckPoint: 400,
  ConsumerNotExsit: 400,
  ConsumerNotMatch: 400,
  SignatureNotMatch: 401,
  Unauthorized: 401,
  InvalidAccessKeyId: 401,
  WriteQuotaExceed: 403,
  ShardWriteQuotaExceed: 403,
  ExceedQuota: 403,
  ReadQuotaExceed: 403,
  KMSKeyDisabled: 403,
  ProjectNotExist: 404,
  LogStoreNotExist: 404,
  ShardNotExist: 404,
  ConsumerGroupNotExist: 404,
  NotFound: 404,
  InvalidMethod: 405,
  InternalServerError: 500,
  ServerBusy: 503,
};

/** The HTTP status real SLS pairs with `code`; 500 for codes the emulator does not know. */
export function statusForCode(code: string): number {
  return STATUS_BY_CODE[code] ?? 500;
}

/** A refused request: rendered as `{errorCode, errorMessage}` with this status. */
export class SlsApiError extends Error {
  override name = 'SlsApiError';
  readonly code: string;
  readonly status: number;

  constructor(code: string, message: string, status = statusForCode(code)) {
    super(message.replace(/\s+/g, ' ').trim());
    this.code = code;
    this.status = status;
  }
}
