/** Encodes bytes as unpadded base64url (RFC 4648 §5), the form every key and ciphertext takes here. */
export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/** Decodes unpadded base64url strictly: any character outside the alphabet is refused. */
export function fromBase64Url(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  // Reject non-canonical encodings (trailing bits set), so one value has exactly one spelling.
  return bytes.toString('base64url') === text ? bytes : undefined;
}
