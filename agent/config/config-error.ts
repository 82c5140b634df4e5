// The one error a user sees for a bad config file: a single line naming the file and the key, never a value.

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly file: string,
    /** Dotted key path such as `inputs[0].parser.pattern`; empty when the problem is the file as a whole. */
    readonly keyPath: string,
    readonly problem: string,
  ) {
    super(oneLine(keyPath ? `${file}: ${keyPath}: ${problem}` : `${file}: ${problem}`));
  }
}

export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/** `['inputs', 0, 'parser']` → `inputs[0].parser` */
export function formatKeyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}
