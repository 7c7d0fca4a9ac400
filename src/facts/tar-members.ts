/**
 * The members of a tar archive as GNU tar writes it (`tar -c`, its default gnu format, or ustar /
 * pax): each member's type and bytes, in the archive's order. Only what the paths probe needs
 * (src/facts/paths.ts): names are not compared (the probe maps members by order), so a long-name
 * or pax header is skipped with its data. Throws on anything that is not a whole archive.
 */
export interface TarMember {
  /** The header's type flag: '0' (or '\0') a regular file, '5' a directory, ... */
  type: string;
  data: Buffer;
}

const BLOCK = 512;

/** The octal size field (GNU writes base-256 only past 8 GiB, which no probed file is). */
function sizeOf(header: Buffer): number {
  const field = header.subarray(124, 136);
  if ((field[0] ?? 0) & 0x80) throw new Error('tar: a member of 8 GiB or more');
  const text = field
    .toString('latin1')
    .replace(/[\0 ]+$/, '')
    .trim();
  if (!/^[0-7]+$/.test(text)) throw new Error(`tar: not a size field: ${JSON.stringify(text)}`);
  return Number.parseInt(text, 8);
}

/** The header checksum: the bytes summed with the checksum field read as spaces. */
function checksumOk(header: Buffer): boolean {
  const stored = Number.parseInt(
    header
      .subarray(148, 156)
      .toString('latin1')
      .replace(/[\0 ]+$/, '')
      .trim(),
    8,
  );
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  return sum === stored;
}

export function tarMembers(archive: Buffer): TarMember[] {
  const members: TarMember[] = [];
  let at = 0;
  for (;;) {
    if (at + BLOCK > archive.length) throw new Error('tar: the archive is cut short (no end blocks)');
    const header = archive.subarray(at, at + BLOCK);
    if (header.every((b) => b === 0)) return members;
    if (!checksumOk(header)) throw new Error(`tar: a bad header checksum at byte ${at}`);
    const size = sizeOf(header);
    const type = String.fromCharCode(header[156]!);
    const start = at + BLOCK;
    if (start + size > archive.length) throw new Error('tar: a member is cut short');
    // GNU long names/links ('L', 'K') and pax headers ('x', 'g') describe the next member.
    if (!'LKxg'.includes(type)) members.push({ type, data: archive.subarray(start, start + size) });
    at = start + Math.ceil(size / BLOCK) * BLOCK;
  }
}
