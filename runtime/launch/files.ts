// Reading files a launch file names: only regular files of bounded size (a directory, a
// device such as /dev/zero or a FIFO would crash, never end, or block the reader).
import { readFileSync, statSync } from 'node:fs';
import { LaunchError, type SourcePos } from './types.js';
import { MAX_FILE_BYTES } from './limits.js';

/** The text of `abs`, or a LaunchError at `where` saying why it cannot be read. */
export function readBoundedFile(abs: string, display: string, what: string, where: SourcePos): string {
  let st;
  try {
    st = statSync(abs);
  } catch {
    throw new LaunchError(where, `${what} '${display}' not found (or not readable)`);
  }
  if (st.isDirectory()) throw new LaunchError(where, `${what} '${display}' is a directory; expected a regular file`);
  if (!st.isFile()) throw new LaunchError(where, `${what} '${display}' is not a regular file (a device, FIFO or socket); expected a regular file`);
  if (st.size > MAX_FILE_BYTES) throw new LaunchError(where, `${what} '${display}' is ${st.size} bytes; expected at most ${MAX_FILE_BYTES} bytes`);
  try {
    return readFileSync(abs, 'utf8').replace(/^\uFEFF/, '');
  } catch (e) {
    throw new LaunchError(where, `${what} '${display}' cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}
