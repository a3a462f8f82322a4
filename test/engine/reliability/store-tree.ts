// What is on disk under a storeBase, so a corpus run can show it created nothing there.
import { readdir } from 'node:fs/promises';
import path from 'node:path';

/** Every path under `dir`, relative and sorted; symlinks are listed, never followed. */
export async function storeTree(dir: string, under = ''): Promise<string[]> {
  // Not readdir's `recursive`: Node 20's follows symlinks, and the corpus plants one leading out.
  const out: string[] = [];
  for (const entry of await readdir(path.join(dir, under), { withFileTypes: true })) {
    const rel = path.join(under, entry.name);
    out.push(rel);
    if (entry.isDirectory()) out.push(...(await storeTree(dir, rel)));
  }
  return out.sort();
}
