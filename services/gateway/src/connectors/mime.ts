/** An RFC 2047 encoded-word: any subject, safe in a header (no CR/LF can reach the message). */
export function encodeHeaderWord(text: string): string {
  return `=?UTF-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=`;
}

/**
 * An RFC 5322 message in plain text, as Gmail's `raw` wants it (base64url). Addresses come
 * validated by the catalog; the subject is encoded; the body travels base64-encoded, so nothing a
 * parameter holds can add a header.
 */
export function plainTextMessage(message: {
  to: readonly string[];
  cc: readonly string[];
  bcc: readonly string[];
  subject: string;
  body: string;
  inReplyTo?: string;
}): string {
  const headers = [
    `To: ${message.to.join(', ')}`,
    ...(message.cc.length > 0 ? [`Cc: ${message.cc.join(', ')}`] : []),
    ...(message.bcc.length > 0 ? [`Bcc: ${message.bcc.join(', ')}`] : []),
    `Subject: ${encodeHeaderWord(message.subject)}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=UTF-8',
    'Content-Transfer-Encoding: base64',
  ];
  const body = Buffer.from(message.body, 'utf8').toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from(`${headers.join('\r\n')}\r\n\r\n${body}\r\n`, 'utf8').toString('base64url');
}
