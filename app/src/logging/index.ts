import { type Logger, pino } from "pino";

export type { Logger };

/**
 * JSON lines on stdout. Credentials can reach a log line through an error message or a request header, so
 * the usual carriers are redacted here once rather than at every call site.
 */
export function createLogger(
  opts: { level?: string; instanceId?: string; destination?: pino.DestinationStream } = {},
): Logger {
  return pino(
    {
      level: opts.level ?? "info",
      base: { instance: opts.instanceId },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: [
          "authorization",
          "*.authorization",
          "headers.authorization",
          "req.headers.authorization",
          "password",
          "*.password",
          "hostToken",
          "participantToken",
          "*.hostToken",
          "*.participantToken",
          "connectionString",
          "*.connectionString",
        ],
        censor: "[redacted]",
      },
      serializers: { err: pino.stdSerializers.err },
    },
    opts.destination,
  );
}

/** Strips credentials from URLs that may end up in messages (postgres://user:pass@host). */
export function redactUrlCredentials(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)([^/@\s:]+)(:[^/@\s]*)?@/gi, "$1[redacted]@");
}
