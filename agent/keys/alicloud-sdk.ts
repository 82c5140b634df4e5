// The official Alibaba Cloud packages the agent uses (the KMS client, its RPC base, the credential chain), in one
// module that `npm run build` bundles into a file of its own: about a third of the agent's code, which the main
// bundle would otherwise parse and hold as source on every start, also in agents that have not yet sealed a batch.
// The KMS calls load it in the KMS thread (kms-worker.ts, whose bundle holds it too); the main thread loads it only for
// the default credential chain (config/credentials.ts).
// Import it only with a dynamic `import('../keys/alicloud-sdk.js')`: that path names the same file from this folder
// and from the main bundle's (dist/agent/cli), which the build leaves the import to.
import * as credentials from '@alicloud/credentials';
import * as kms from '@alicloud/kms20160120';
import * as rpc from '@alicloud/rpc-client';

export { credentials, kms, rpc };
