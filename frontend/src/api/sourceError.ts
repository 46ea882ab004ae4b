// Why a data source gave no data, in a form a panel can put into words.
export type SourceErrorKind =
  | "unreachable" // no answer at all, or a proxy's error page (nginx 502/504)
  | "starting" // the source says it is not ready yet (Prometheus's plain-text 503)
  | "busy" // the source ran out of time for the request (Prometheus's 503 "timeout")
  | "refused" // the source answered with an error of its own (error envelope, 4xx)
  | "bad_answer"; // an answer that is not what the source sends (not JSON, wrong shape)

export class SourceError extends Error {
  readonly kind: SourceErrorKind;
  readonly status: number | undefined;

  constructor(kind: SourceErrorKind, message: string, status?: number) {
    super(message);
    this.name = "SourceError";
    this.kind = kind;
    this.status = status;
  }
}

export function asSourceError(err: unknown): SourceError {
  if (err instanceof SourceError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new SourceError("unreachable", message);
}
