// Replaces a small file so that after a crash either the old or the new content is there, readable by the owner only.
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDirectory } from './shard-log.js';

export async function writeFileDurably(dir: string, name: string, content: string): Promise<void> {
  const tmp = join(dir, `${name}.tmp`);
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, name));
  await syncDirectory(dir);
}
