// Glob matching and the directory walk that finds input files.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandBraces, PathMatcher } from '../../agent/input/glob.js';

describe('expandBraces', () => {
  it('expands alternatives, nested groups and several groups', () => {
    expect(expandBraces('/a/{x,y}.log')).toEqual(['/a/x.log', '/a/y.log']);
    expect(expandBraces('{a,b{1,2}}/c')).toEqual(['a/c', 'b1/c', 'b2/c']);
    expect(expandBraces('{a,b}-{1,2}')).toEqual(['a-1', 'a-2', 'b-1', 'b-2']);
  });

  it('leaves a group without a comma, and escaped braces, literal', () => {
    expect(expandBraces('/a/{x}.log')).toEqual(['/a/{x}.log']);
    expect(expandBraces('/a/\\{x,y\\}.log')).toEqual(['/a/\\{x,y\\}.log']);
  });
});

describe('PathMatcher.matches', () => {
  const m = (include: string[], exclude: string[] = []) => new PathMatcher(include, exclude, '/cwd');

  it('* and ? stay within one path segment', () => {
    expect(m(['/var/log/*.log']).matches('/var/log/app.log')).toBe(true);
    expect(m(['/var/log/*.log']).matches('/var/log/sub/app.log')).toBe(false);
    expect(m(['/var/log/app?.log']).matches('/var/log/app1.log')).toBe(true);
    expect(m(['/var/log/app?.log']).matches('/var/log/app12.log')).toBe(false);
  });

  it('** spans zero or more directories', () => {
    const g = m(['/var/**/*.log']);
    expect(g.matches('/var/a.log')).toBe(true);
    expect(g.matches('/var/x/y/z/a.log')).toBe(true);
    expect(g.matches('/var/x/a.txt')).toBe(false);
    expect(m(['/var/**']).matches('/var/x/y')).toBe(true);
  });

  it('character classes, negation and ranges', () => {
    expect(m(['/l/app[0-9].log']).matches('/l/app7.log')).toBe(true);
    expect(m(['/l/app[0-9].log']).matches('/l/appx.log')).toBe(false);
    expect(m(['/l/app[!0-9].log']).matches('/l/appx.log')).toBe(true);
    expect(m(['/l/app[!0-9].log']).matches('/l/app7.log')).toBe(false);
    expect(m(['/l/[ab]*.log']).matches('/l/b1.log')).toBe(true);
  });

  it('regex metacharacters in names are literal', () => {
    expect(m(['/l/a+b(1).log']).matches('/l/a+b(1).log')).toBe(true);
    expect(m(['/l/a.log']).matches('/l/aXlog')).toBe(false);
  });

  it('braces', () => {
    const g = m(['/l/{app,web}/*.{log,txt}']);
    expect(g.matches('/l/app/x.log')).toBe(true);
    expect(g.matches('/l/web/x.txt')).toBe(true);
    expect(g.matches('/l/db/x.log')).toBe(false);
  });

  it('resolves relative patterns against the working directory', () => {
    expect(m(['./logs/*.log']).matches('/cwd/logs/a.log')).toBe(true);
  });

  it('excludes by whole path, or by file name when the pattern has no slash', () => {
    const g = m(['/l/**/*.log'], ['*.gz.log', '/l/private/**']);
    expect(g.matches('/l/a.log')).toBe(true);
    expect(g.matches('/l/x/a.gz.log')).toBe(false);
    expect(g.matches('/l/private/a.log')).toBe(false);
  });
});

describe('PathMatcher.find', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'logseal-glob-'));
    for (const f of ['a.log', 'b.txt', 'skip.log', 'sub/c.log', 'sub/deep/d.log', 'other/e.log', 'x.json']) {
      await mkdir(path.dirname(path.join(dir, f)), { recursive: true });
      await writeFile(path.join(dir, f), 'x\n');
    }
    await symlink(path.join(dir, 'sub'), path.join(dir, 'loop-to-sub'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('walks from the fixed prefix, applies include and exclude, and reports the directories looked in', async () => {
    const g = new PathMatcher([`${dir}/**/*.log`, `${dir}/*.{txt,json}`], ['skip.log', `${dir}/**/deep/**`]);
    const { files, dirs, errors } = await g.find();
    expect(files.map((f) => path.relative(dir, f)).sort()).toEqual(['a.log', 'b.txt', 'other/e.log', 'sub/c.log', 'x.json']);
    expect(dirs).toContain(dir);
    expect(dirs).toContain(path.join(dir, 'sub'));
    expect(errors).toEqual([]);
  });

  it('follows a symlinked directory for a named level but not inside **', async () => {
    const named = await new PathMatcher([`${dir}/loop-*/*.log`]).find();
    expect(named.files).toEqual([path.join(dir, 'loop-to-sub', 'c.log')]);
    const deep = await new PathMatcher([`${dir}/**/c.log`]).find();
    expect(deep.files).toEqual([path.join(dir, 'sub', 'c.log')]);
  });

  it('returns nothing, and no error, for a base directory that does not exist', async () => {
    const r = await new PathMatcher([`${dir}/missing/*.log`, `${dir}/missing/app.log`, `${dir}/nope.log`]).find();
    expect(r.files).toEqual([]);
    expect(r.errors).toEqual([]);
  });
});
