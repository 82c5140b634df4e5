// The KMS EncryptionContext that binds a data key to one Logstore (FORMAT.md, "Data keys").

/** `{"logseal":"1","project":…,"logstore":…}`: a reader must present the same to Decrypt the data key. */
export function encryptionContext(project: string, logstore: string): Record<string, string> {
  return { logseal: '1', project, logstore };
}
