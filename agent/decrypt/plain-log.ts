// The plaintext log `logseal decrypt` yields and prints (FORMAT.md "Reading back").

/** One plaintext log as FORMAT.md prints it. */
export interface PlainLogLine {
  time: number;
  time_ns?: number;
  topic: string;
  source: string;
  tags: Record<string, string>;
  contents: Record<string, string>;
}
