// Every project and logstore under the data directory: created on demand, reloaded on start, changed one at a time.
import { mkdir, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AtRestKms } from './index.js';
import { SlsApiError } from './errors.js';
import { applyUpdateBody, isValidLogstoreName, isValidProjectName, type LogstoreSettings } from './logstore-config.js';
import { Logstore } from './logstore.js';
import { syncDirectory } from './shard-log.js';

export class Catalog {
  private readonly projects = new Map<string, Map<string, Logstore>>();
  /** Names being created or deleted right now: data-plane calls see them as absent. */
  private readonly busy = new Set<string>();
  private control: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly root: string,
    private readonly kms: AtRestKms | undefined,
  ) {}

  static async open(dataDir: string, kms: AtRestKms | undefined): Promise<Catalog> {
    const root = join(dataDir, 'projects');
    await mkdir(root, { recursive: true, mode: 0o700 });
    await syncDirectory(dataDir);
    const catalog = new Catalog(root, kms);
    for (const project of await readdir(root, { withFileTypes: true })) {
      if (!project.isDirectory() || !isValidProjectName(project.name)) continue;
      const stores = new Map<string, Logstore>();
      for (const entry of await readdir(join(root, project.name), { withFileTypes: true })) {
        const name = entry.name;
        if (!entry.isDirectory() || !isValidLogstoreName(name)) continue;
        const store = await Logstore.load(join(root, project.name, name), kms);
        if (store) stores.set(name, store);
      }
      catalog.projects.set(project.name, stores);
    }
    return catalog;
  }

  /** Runs control-plane changes one after another, so create/update/delete never interleave. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.control.then(fn, fn);
    this.control = run.catch(() => undefined);
    return run;
  }

  get(project: string, name: string): Logstore {
    const store = this.projects.get(project)?.get(name);
    if (!store || this.busy.has(`${project}/${name}`)) {
      throw new SlsApiError('LogStoreNotExist', `logstore ${name} does not exist`);
    }
    return store;
  }

  list(project: string): string[] {
    return [...(this.projects.get(project)?.keys() ?? [])].sort();
  }

  create(project: string, settings: LogstoreSettings): Promise<void> {
    return this.exclusive(async () => {
      const name = settings.logstoreName;
      if (this.projects.get(project)?.has(name)) {
        throw new SlsApiError('LogStoreAlreadyExist', `logstore ${name} already exists`);
      }
      const dir = join(this.root, project, name);
      // A directory without a registered logstore is left over from a creation that never finished.
      await rm(dir, { recursive: true, force: true });
      const store = await Logstore.create(dir, project, settings, this.kms);
      // The new directories' own entries must be durable too, or a crash could drop an acknowledged logstore.
      await syncDirectory(dirname(dir));
      await syncDirectory(this.root);
      let stores = this.projects.get(project);
      if (!stores) this.projects.set(project, (stores = new Map()));
      stores.set(name, store);
    });
  }

  update(project: string, name: string, body: unknown): Promise<void> {
    return this.exclusive(async () => {
      const store = this.get(project, name);
      await store.update(project, applyUpdateBody(store.settings, body));
    });
  }

  delete(project: string, name: string): Promise<void> {
    return this.exclusive(async () => {
      const store = this.get(project, name);
      const id = `${project}/${name}`;
      this.busy.add(id);
      try {
        await store.close();
        this.projects.get(project)?.delete(name);
        await rm(store.dir, { recursive: true, force: true });
        await syncDirectory(dirname(store.dir));
      } finally {
        this.busy.delete(id);
      }
    });
  }

  async close(): Promise<void> {
    await this.control.catch(() => undefined);
    for (const stores of this.projects.values()) for (const s of stores.values()) await s.close();
  }
}
