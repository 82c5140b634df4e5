// The agent's structured log: pino JSON on stderr, so stdout stays free for command output.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level = 'info'): Logger {
  return pino(
    {
      level,
      base: { svc: 'logseal' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Secrets travel in these fields of config objects; never print them even if someone logs a whole object.
      redact: { paths: ['*.accessKeySecret', '*.securityToken', '*.plaintext', 'accessKeySecret', 'securityToken'], censor: '[redacted]' },
    },
    pino.destination({ fd: 2, sync: false }),
  );
}
