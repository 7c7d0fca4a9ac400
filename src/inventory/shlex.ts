/**
 * POSIX shell-like splitting as Python's shlex.split(comments=True), which Ansible uses for INI
 * host lines and ssh argument strings: quotes group, backslash escapes, "#" outside quotes ends the line.
 * Each word carries the offset where it starts, for positioned errors.
 */
export interface Word {
  text: string;
  start: number;
}

export function shlexSplit(line: string): Word[] {
  const words: Word[] = [];
  let cur: Word | undefined;
  let i = 0;
  const begin = () => {
    cur ??= { text: '', start: i };
    return cur;
  };
  while (i < line.length) {
    const c = line[i]!;
    if (/\s/.test(c)) {
      if (cur) words.push(cur);
      cur = undefined;
      i++;
    } else if (c === '#') {
      break;
    } else if (c === "'" || c === '"') {
      const w = begin();
      const endQuote = c;
      i++;
      while (i < line.length && line[i] !== endQuote) {
        if (endQuote === '"' && line[i] === '\\' && i + 1 < line.length && '\\"$`\n'.includes(line[i + 1]!)) i++;
        w.text += line[i];
        i++;
      }
      if (i >= line.length) throw new Error(`unclosed ${endQuote} quote`);
      i++;
    } else if (c === '\\' && i + 1 < line.length) {
      begin().text += line[i + 1];
      i += 2;
    } else {
      begin().text += c;
      i++;
    }
  }
  if (cur) words.push(cur);
  return words;
}
