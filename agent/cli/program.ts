// The `logseal` command line: wires the stages behind subcommands; each subcommand lives in commands/.
// Each subcommand's module is imported when that subcommand runs: `run` and `validate` do not initialise the decrypt
// engine, the emulators or the Logstore admin (the bundle holds their code, but runs their modules only when imported).
import { Command } from 'commander';
import { loadConfig } from '../config/index.js';
import type { DecryptFlags } from './commands/decrypt.js';
import { runCommand } from './exit.js';

const program = new Command('logseal')
  .description('Client-side encrypting log shipping agent for Alibaba Cloud Log Service')
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : 64);
  });

program
  .command('run')
  .description('tail, seal and ship logs as configured (SIGTERM drains, SIGHUP reloads)')
  .requiredOption('-c, --config <file>', 'YAML config file')
  .action((o: { config: string }) => runCommand(async () => (await import('./commands/run.js')).runDaemon(o.config)));

program
  .command('validate')
  .description('check a config file and print it normalized (secrets hidden)')
  .requiredOption('-c, --config <file>', 'YAML config file')
  .action((o: { config: string }) =>
    runCommand(async () => {
      const config = await loadConfig(o.config);
      const hide = (s?: string) => (s === undefined ? undefined : '********');
      const shown = {
        ...config,
        sls: { ...config.sls, accessKeySecret: hide(config.sls.accessKeySecret), securityToken: hide(config.sls.securityToken) },
        kms: { ...config.kms, accessKeySecret: hide(config.kms.accessKeySecret), securityToken: hide(config.kms.securityToken) },
      };
      process.stdout.write(`${o.config}: valid\n${JSON.stringify(shown, null, 2)}\n`);
    }),
  );

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

program
  .command('decrypt')
  .description('pull a Logstore and print its plaintext (NDJSON, raw content or a count), filtered')
  .requiredOption('-c, --config <file>', 'YAML config file (sls and kms sections)')
  .option('--logstore <name>', 'Logstore to read (default: sls.logstore)')
  .option('--shard <n>', 'only this shard')
  .option('--from <time>', 'begin, unix seconds or ISO-8601')
  .option('--to <time>', 'end, unix seconds or ISO-8601')
  .option('--topic <topic>', 'only logs with this topic')
  .option('--source <source>', 'only logs with this source')
  .option('--tag <key=value>', 'only logs with this tag (repeatable)', collect)
  .option('--where <expr>', 'only logs for which EXPR holds, e.g. \'level = "ERROR" and status >= 500\'')
  .option('--output <format>', 'ndjson (default) or raw (the content field, byte for byte)')
  .option('--out <file>', 'write to FILE (atomically: complete or not at all) instead of stdout')
  .option('--count', 'print only the number of matching logs')
  .option('--follow', 'keep reading new data as it arrives, until SIGTERM/SIGINT')
  .option('--cursor <shard=cursor>', 'start this shard at a cursor (repeatable), e.g. from a stopped --follow', collect)
  .option('--threads <n>', 'decrypt worker threads (default: CPU cores)')
  .option('--dead-letter <dir>', 'read the sealed batches of this dead-letter directory instead of a Logstore')
  .option('--consumer-group <group>', 'share the shards with the other members of this SLS consumer group (needs --follow)')
  .option('--consumer <name>', 'this member\'s name in the group (default: hostname-pid)')
  .option('--create-group', 'create the consumer group when it does not exist')
  .option('--group-timeout <seconds>', 'with --create-group: silence after which SLS hands a member\'s shards on (default 60)')
  .action((o: DecryptFlags) => runCommand(async () => (await import('./commands/decrypt.js')).decryptCommand(o)));

program
  .command('search')
  .description('find sealed logs by their searchable fields (seal.index) and print them as decrypt does')
  .requiredOption('-c, --config <file>', 'YAML config file (sls, kms, seal.index and seal.indexKey)')
  .requiredOption('--where <expr>', 'filter, e.g. \'user = "alice" and level != "debug"\'; equalities on searchable fields narrow the query')
  .option('--logstore <name>', 'Logstore to search (default: sls.logstore)')
  .option('--from <time>', 'log time: begin, unix seconds or ISO-8601', 'begin')
  .option('--to <time>', 'log time, exclusive: end, unix seconds or ISO-8601', 'end')
  .action((o: { config: string; where: string; logstore?: string; from?: string; to?: string }) => runCommand(async () => (await import('./commands/search.js')).searchCommand(o)));

program
  .command('index-key')
  .description('create the index key of searchable fields; prints the CiphertextBlob to put in seal.indexKey')
  .argument('<action>', 'create')
  .requiredOption('-c, --config <file>', 'YAML config file (sls.project, sls.logstore, kms)')
  .option('--logstore <name>', 'Logstore the key is for (default: sls.logstore)')
  .action((action: string, o: { config: string; logstore?: string }) => runCommand(async () => (await import('./commands/index-key.js')).indexKeyCommand(action, o)));

program
  .command('logstore')
  .description('create, get, update or delete a Logstore (with encrypt_conf)')
  .argument('<action>', 'create | get | update | delete')
  .argument('<name>', 'Logstore name')
  .option('-c, --config <file>', 'take endpoint, project and credentials from this config')
  .option('--endpoint <url>', 'SLS endpoint (credentials from ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET)')
  .option('--project <name>', 'SLS project')
  .option('--ttl <days>', 'retention in days')
  .option('--shards <n>', 'shard count (create)')
  .option('--encrypt', 'enable server-side encryption')
  .option('--no-encrypt', 'disable server-side encryption (update)')
  .option('--encrypt-type <type>', 'default (AES) or m4 (SM4)')
  .option('--cmk <id>', 'BYOK: the CMK id')
  .option('--arn <arn>', 'BYOK: RAM role acs:ram::<account>:role/<name>')
  .option('--region <id>', 'BYOK: region of the CMK')
  .option('--index <fields>', 'searchable fields to index, comma-separated (default with -c: seal.index) (create, update)')
  .action((action: string, name: string, o: Record<string, string | boolean | undefined>) => runCommand(async () => (await import('./commands/logstore.js')).logstoreCommand(action, name, o)));

program
  .command('emulator')
  .description('run the local SLS and KMS emulators on loopback; prints one JSON line when ready')
  .option('--data <dir>', 'data directory', '.logseal/emulator')
  .option('--sls-port <n>', 'SLS port (0 = ephemeral)', '0')
  .option('--kms-port <n>', 'KMS port (0 = ephemeral)', '0')
  .option('--access-key-id <id>', 'AccessKey id the emulators accept')
  .option('--access-key-secret <secret>', 'AccessKey secret the emulators accept')
  .action((o: Record<string, string | undefined>) => runCommand(async () => (await import('./commands/emulator.js')).emulatorCommand(o)));

program
  .command('demo')
  .description('the embedded default: local emulators, a CMK, an encrypted Logstore, sample logs and the agent')
  .option('-c, --config <file>', 'config', 'config/local.yaml')
  .action((o: { config: string }) => runCommand(async () => (await import('./commands/demo.js')).demoCommand(o.config)));

// Not awaited at the top level: the bundled build runs this file as a CommonJS script (main.ts), which has no top-level
// await; every action goes through runCommand, which turns any failure into its one line and exit code.
void program.parseAsync(process.argv);
