// Splitting command lines into words the way shlex (and ros2 launch) does: whitespace
// separates, '...' and "..." quote, backslash escapes outside single quotes. No shell is involved.

/** Splits `s` into words; returns an error message instead for an unterminated quote. */
export function splitWords(s: string): string[] | { error: string; offset: number } {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else if (c === "'" || c === '"') {
      const close = c === "'" ? s.indexOf("'", i + 1) : findDoubleClose(s, i + 1);
      if (close === -1) return { error: `unterminated ${c === "'" ? 'single' : 'double'} quote`, offset: i };
      const inner = s.slice(i + 1, close);
      cur += c === '"' ? inner.replace(/\\(["\\$`])/g, '$1') : inner;
      inWord = true;
      i = close;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}

function findDoubleClose(s: string, from: number): number {
  for (let i = from; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '"') return i;
  }
  return -1;
}
