/** The token of an `Authorization` header; the scheme name is case-insensitive (RFC 7235 §2.1). */
export function bearerToken(header: string): string | undefined {
  return /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(header.trim())?.[1];
}
