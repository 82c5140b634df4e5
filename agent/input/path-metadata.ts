// The Kubernetes namespace, pod and container a container log belongs to, read from where kubelet put the file.
//
//   <root>/pods/<namespace>_<pod>_<pod uid>/<container>/<restart>.log   (rotated: <restart>.log.<date>)
//   <root>/containers/<pod>_<namespace>_<container>-<container id>.log  (symlinks into the pods directory)
//
// Namespace and pod names are DNS labels and subdomains, so they hold no `_`: the split is unambiguous.
import path from 'node:path';
import type { LogContent, LogTag } from '../wire/loggroup.js';

export type MetadataPlacement = 'fields' | 'tags' | 'none';

export const NAMESPACE_KEY = '_namespace_';
export const POD_KEY = '_pod_name_';
export const CONTAINER_KEY = '_container_name_';

export interface PodLogOrigin {
  namespace: string;
  pod: string;
  container: string;
}

const PODS_FILE = /^\d+\.log(\..+)?$/;
const PODS_DIR = /^([^_/]+)_([^_/]+)_([^_/]+)$/;
const CONTAINERS_FILE = /^([^_/]+)_([^_/]+)_(.+)-[0-9a-f]{64}\.log$/;

/** Where a file sits in kubelet's layout, or undefined for any other path. */
export function podLogOrigin(p: string): PodLogOrigin | undefined {
  const file = path.basename(p);
  const byContainer = CONTAINERS_FILE.exec(file);
  if (byContainer) return { pod: byContainer[1], namespace: byContainer[2], container: byContainer[3] };
  if (!PODS_FILE.test(file)) return undefined;
  const containerDir = path.dirname(p);
  const pod = PODS_DIR.exec(path.basename(path.dirname(containerDir)));
  if (!pod) return undefined;
  return { namespace: pod[1], pod: pod[2], container: path.basename(containerDir) };
}

/** The origin of the file at `p` as contents for every log, or as tags for its groups, as configured. */
export function originMetadata(p: string, placement: MetadataPlacement): { fields: LogContent[]; tags: LogTag[] } {
  const origin = placement === 'none' ? undefined : podLogOrigin(p);
  if (!origin) return { fields: [], tags: [] };
  const pairs = [
    { key: NAMESPACE_KEY, value: origin.namespace },
    { key: POD_KEY, value: origin.pod },
    { key: CONTAINER_KEY, value: origin.container },
  ];
  return placement === 'fields' ? { fields: pairs, tags: [] } : { fields: [], tags: pairs };
}
