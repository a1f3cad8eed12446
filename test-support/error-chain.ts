/** The messages and gRPC codes of an error and its causes, on one line (for assertion messages). */
export function describeErrorChain(error: unknown): string {
  const parts: string[] = [];
  for (
    let e = error as { message?: string; code?: unknown; details?: string; cause?: unknown } | undefined;
    e;
    e = e.cause as typeof e
  ) {
    parts.push(`${e.message ?? ''} ${e.details ?? ''} code=${String(e.code)}`);
  }
  return parts.join(' | ');
}
