/**
 * Just enough RFC 2822 / MIME for the Gmail double: parse a raw message into the `MessagePart`
 * tree Gmail's API returns (headers with RFC 2047 words decoded, bodies decoded from base64 or
 * quoted-printable and re-encoded base64url, multipart split into `parts`), and compose one.
 */

export interface MessagePartHeader {
  name: string;
  value: string;
}

/** Gmail's `MessagePart` resource. */
export interface MessagePart {
  partId: string;
  mimeType: string;
  filename: string;
  headers: MessagePartHeader[];
  body: { size: number; data?: string };
  parts?: MessagePart[];
}

/** Parses a raw message (or one part of it) into Gmail's `MessagePart` shape. */
export function parseMessagePart(raw: string, partId = ''): MessagePart {
  const text = raw.replace(/\r\n/g, '\n');
  const split = text.indexOf('\n\n');
  const head = split === -1 ? text : text.slice(0, split);
  const content = split === -1 ? '' : text.slice(split + 2);
  const headers = parseHeaders(head);
  const contentType = header(headers, 'Content-Type') ?? 'text/plain';
  const mimeType = (contentType.split(';')[0] ?? '').trim().toLowerCase() || 'text/plain';
  const filename = /filename="?([^";]+)"?/i.exec(header(headers, 'Content-Disposition') ?? '');
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (mimeType.startsWith('multipart/') && boundary !== undefined) {
    const parts = splitMultipart(content, boundary).map((section, index) =>
      parseMessagePart(section, partId === '' ? String(index) : `${partId}.${index}`),
    );
    return { partId, mimeType, filename: '', headers, body: { size: 0 }, parts };
  }
  const bytes = decodeBody(content, header(headers, 'Content-Transfer-Encoding'));
  return {
    partId,
    mimeType,
    filename: filename?.[1] ?? '',
    headers,
    body: { size: bytes.length, data: bytes.toString('base64url') },
  };
}

/** The first value of a header, matched case-insensitively. */
export function header(headers: readonly MessagePartHeader[], name: string): string | undefined {
  return headers.find((entry) => entry.name.toLowerCase() === name.toLowerCase())?.value;
}

/** The message's readable text: its first text/plain part, else its first text/html one stripped. */
export function plainText(part: MessagePart): string {
  const plain = findPart(part, 'text/plain');
  if (plain !== undefined) return decodeData(plain).replace(/\r\n/g, '\n');
  const html = findPart(part, 'text/html');
  return html === undefined ? '' : decodeData(html).replace(/<[^>]*>/g, ' ');
}

/** Gmail's snippet: the start of the text, whitespace collapsed, HTML-escaped as Gmail does. */
export function snippetOf(part: MessagePart): string {
  return plainText(part)
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 200)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Composes a single-part text/plain message with CRLF line endings, UTF-8 where needed. */
export function composeMessage(headers: readonly MessagePartHeader[], text: string): string {
  const lines = headers.map(({ name, value }) => `${name}: ${encodeWords(value)}`);
  lines.push('MIME-Version: 1.0', 'Content-Type: text/plain; charset="UTF-8"');
  return `${lines.join('\r\n')}\r\n\r\n${text.replace(/\r?\n/g, '\r\n')}`;
}

/**
 * Sets top-level headers of a raw message (replacing any of the same name), keeping its body as
 * it was: how Gmail stamps From, Date and Message-ID on what it sends.
 */
export function withHeaders(raw: string, set: readonly MessagePartHeader[]): string {
  const text = raw.replace(/\r?\n/g, '\r\n');
  const split = text.indexOf('\r\n\r\n');
  const head = split === -1 ? text : text.slice(0, split);
  const rest = split === -1 ? '' : text.slice(split);
  const names = new Set(set.map(({ name }) => name.toLowerCase()));
  const kept = head
    .split(/\r\n(?![ \t])/)
    .filter((line) => line !== '' && !names.has((line.split(':')[0] ?? '').trim().toLowerCase()));
  return [...set.map(({ name, value }) => `${name}: ${encodeWords(value)}`), ...kept]
    .join('\r\n')
    .concat(rest === '' ? '\r\n\r\n' : rest);
}

/** The bare address of the first mailbox in a header value: `"A" <a@x>` gives `a@x`. */
export function addressOf(value: string): string {
  return (/<([^>]+)>/.exec(value)?.[1] ?? value.split(',')[0] ?? '').trim().toLowerCase();
}

function parseHeaders(head: string): MessagePartHeader[] {
  return head
    .split(/\n(?![ \t])/)
    .map((line) => line.replace(/\n[ \t]+/g, ' '))
    .filter((line) => line.includes(':'))
    .map((line) => {
      const colon = line.indexOf(':');
      return {
        name: line.slice(0, colon).trim(),
        value: decodeWords(line.slice(colon + 1).trim()),
      };
    });
}

function splitMultipart(content: string, boundary: string): string[] {
  const sections: string[] = [];
  let current: string[] | undefined;
  for (const line of content.split('\n')) {
    const trimmed = line.trimEnd();
    const delimiter = trimmed === `--${boundary}`;
    const closing = trimmed === `--${boundary}--`;
    if (delimiter || closing) {
      if (current !== undefined) sections.push(current.join('\n'));
      if (closing) break;
      current = [];
    } else current?.push(line);
  }
  return sections;
}

function decodeBody(content: string, encoding: string | undefined): Buffer {
  switch (encoding?.trim().toLowerCase()) {
    case 'base64':
      return Buffer.from(content.replace(/\s+/g, ''), 'base64');
    case 'quoted-printable':
      return decodeQuotedPrintable(content.replace(/=\n/g, ''));
    default:
      // Gmail stores and returns message text with CRLF line endings.
      return Buffer.from(content.replace(/\n/g, '\r\n'), 'utf8');
  }
}

function decodeQuotedPrintable(text: string): Buffer {
  const bytes: number[] = [];
  for (let index = 0; index < text.length; index += 1) {
    const hex = text.slice(index + 1, index + 3);
    if (text[index] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      index += 2;
    } else bytes.push(...Buffer.from(text[index] ?? '', 'utf8'));
  }
  return Buffer.from(bytes);
}

function decodeWords(value: string): string {
  return value
    .replace(/(\?=)\s+(=\?)/g, '$1$2')
    .replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=/g, (_word, charset: string, kind: string, data) => {
      const bytes =
        kind.toUpperCase() === 'B'
          ? Buffer.from(String(data), 'base64')
          : decodeQuotedPrintable(String(data).replace(/_/g, ' '));
      return bytes.toString(/^(iso-8859-1|latin1|us-ascii)$/i.test(charset) ? 'latin1' : 'utf8');
    });
}

function encodeWords(value: string): string {
  return /^[\x20-\x7e]*$/.test(value)
    ? value
    : `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

function findPart(part: MessagePart, mimeType: string): MessagePart | undefined {
  if (part.mimeType === mimeType && part.filename === '') return part;
  for (const child of part.parts ?? []) {
    const found = findPart(child, mimeType);
    if (found !== undefined) return found;
  }
  return undefined;
}

function decodeData(part: MessagePart): string {
  return Buffer.from(part.body.data ?? '', 'base64url').toString('utf8');
}
