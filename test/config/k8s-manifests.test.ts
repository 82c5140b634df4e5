// The Kubernetes manifests in config/: valid against the Kubernetes API schemas (kubernetes-models), and the logseal
// config they embed loads with logseal's own loader, with every variable and path it needs provided by the pod.
import { readFile } from 'node:fs/promises';
import { DaemonSet, Deployment } from 'kubernetes-models/apps/v1';
import { ConfigMap, Namespace, Secret, ServiceAccount } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseConfig, type Config } from '../../agent/config/index.js';
import { PathMatcher } from '../../agent/input/glob.js';

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/Secret': Secret,
  'v1/ConfigMap': ConfigMap,
  'apps/v1/DaemonSet': DaemonSet,
  'apps/v1/Deployment': Deployment,
};

type Doc = { apiVersion: string; kind: string; metadata: { name: string }; [k: string]: unknown };

async function manifests(file: string): Promise<Doc[]> {
  const text = await readFile(new URL(`../../config/${file}`, import.meta.url), 'utf8');
  return parseAllDocuments(text).map((d) => {
    expect(d.errors).toEqual([]);
    return d.toJS() as Doc;
  });
}

/** Throws the schema's complaint for a manifest that does not validate. */
function validate(doc: Doc): void {
  const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
  if (!Model) throw new Error(`no schema for ${doc.apiVersion} ${doc.kind}`);
  new Model(doc as never).validate();
}

interface PodShape {
  containers: { name: string; args?: string[]; env?: { name: string }[]; envFrom?: { secretRef?: { name: string } }[]; ports?: { name: string; containerPort: number }[]; volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[]; livenessProbe?: { httpGet?: { path: string; port: string } }; readinessProbe?: { httpGet?: { path: string; port: string } } }[];
  volumes: { name: string; hostPath?: { path: string }; configMap?: { name: string } }[];
}

/** The logseal container, the config it runs with (loaded by logseal's loader with the pod's environment). */
function logsealPod(docs: Doc[]): { pod: PodShape; config: Config; container: PodShape['containers'][number] } {
  const workload = docs.find((d) => d.kind === 'DaemonSet' || d.kind === 'Deployment')!;
  const pod = (workload.spec as { template: { spec: PodShape } }).template.spec;
  const container = pod.containers.find((c) => c.name === 'logseal')!;
  const configFile = container.args![container.args!.indexOf('-c') + 1];
  const mount = container.volumeMounts.find((m) => configFile.startsWith(`${m.mountPath}/`))!;
  const configMapName = pod.volumes.find((v) => v.name === mount.name)!.configMap!.name;
  const configMap = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === configMapName)!;
  const text = (configMap.data as Record<string, string>)[configFile.slice(mount.mountPath.length + 1)];
  // The environment the container gets: its env, and the keys of the Secrets it takes as a whole.
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) env[e.name] = `<${e.name}>`;
  for (const from of container.envFrom ?? []) {
    const secret = docs.find((d) => d.kind === 'Secret' && d.metadata.name === from.secretRef?.name)!;
    for (const key of Object.keys(secret.stringData as object)) env[key] = `<${key}>`;
  }
  return { pod, container, config: parseConfig(text, `${configMapName}/${configFile}`, env) };
}

function mountFor(container: PodShape['containers'][number], p: string): { mountPath: string; readOnly?: boolean } | undefined {
  return container.volumeMounts.find((m) => p === m.mountPath || p.startsWith(`${m.mountPath}/`));
}

describe.each(['k8s-daemonset.yaml', 'k8s-sidecar.yaml'])('config/%s', (file) => {
  it('validates against the Kubernetes API schemas', async () => {
    for (const doc of await manifests(file)) expect(() => validate(doc), `${doc.kind} ${doc.metadata.name}`).not.toThrow();
  });

  it('embeds a logseal config that loads, with its state dir mounted writable and its inputs read-only', async () => {
    const { config, container } = logsealPod(await manifests(file));
    expect(mountFor(container, config.stateDir)?.readOnly).toBeFalsy();
    for (const input of config.inputs) for (const glob of input.paths) expect(mountFor(container, glob), glob).toMatchObject({ readOnly: true });
    // The probes and Prometheus reach the port logseal listens on, on all interfaces.
    expect(config.metrics.listen).toEqual({ host: '0.0.0.0', port: container.ports!.find((p) => p.name === 'metrics')!.containerPort });
  });
});

describe('config/k8s-daemonset.yaml', () => {
  it('reads the node container logs with the container format, probes /healthz, and mounts the node paths', async () => {
    const { pod, config, container } = logsealPod(await manifests('k8s-daemonset.yaml'));
    expect(config.inputs[0]).toMatchObject({ paths: ['/var/log/pods/*/*/*.log'], format: 'auto', container: { metadata: 'fields' } });
    expect(container.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    // Its own pods' logs (namespace logseal) are left out: shipping them would feed back on itself.
    const matcher = new PathMatcher(config.inputs[0].paths, config.inputs[0].exclude);
    expect(matcher.matches('/var/log/pods/logseal_logseal-x2x4k_0f9a6b52/logseal/0.log')).toBe(false);
    expect(matcher.matches('/var/log/pods/shop_web-0_0f9a6b52/nginx/0.log')).toBe(true);
    const hostPaths = pod.volumes.flatMap((v) => (v.hostPath ? [v.hostPath.path] : []));
    expect(hostPaths.sort()).toEqual(['/var/lib/logseal', '/var/log/pods']);
  });

  it('is checked for real: a manifest of the wrong shape fails validation', async () => {
    const ds = (await manifests('k8s-daemonset.yaml')).find((d) => d.kind === 'DaemonSet')!;
    const broken = structuredClone(ds) as Doc & { spec: { template: { spec: { containers: unknown } } } };
    broken.spec.template.spec.containers = 'logseal';
    expect(() => validate(broken)).toThrow(/containers/);
    const noSelector = structuredClone(ds) as Doc & { spec: Record<string, unknown> };
    delete noSelector.spec.selector;
    expect(() => validate(noSelector)).toThrow(/selector/);
  });
});
