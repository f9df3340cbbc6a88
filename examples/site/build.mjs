// A dependency-free build: copies src/ to dist/ and stamps the build time into the pages.
import { cpSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

rmSync('dist', { recursive: true, force: true });
cpSync('src', 'dist', { recursive: true });
const builtAt = new Date().toISOString();
const stamp = (dir) => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) stamp(path);
    else if (name.endsWith('.html')) writeFileSync(path, readFileSync(path, 'utf8').replaceAll('%BUILT_AT%', builtAt));
  }
};
stamp('dist');
console.log(`built example site at ${builtAt}`);
