// `npm run docs:config`: rewrites README.md's config reference from the schema (test/readme.test.ts checks they agree).
import { readFileSync, writeFileSync } from 'node:fs';
import { configReference } from '../../agent/config/index.js';
import { repoRoot } from './e2e.js';

const file = `${repoRoot}/README.md`;
const readme = readFileSync(file, 'utf8');
const markers = /(<!-- config-reference:start -->\n)[\s\S]*?(<!-- config-reference:end -->)/;
if (!markers.test(readme)) {
  process.stderr.write('README.md: the config-reference markers are missing\n');
  process.exit(1);
}
writeFileSync(file, readme.replace(markers, (_, start: string, end: string) => `${start}${configReference()}${end}`));
