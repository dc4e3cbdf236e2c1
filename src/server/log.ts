import { pino } from 'pino';

/**
 * The server's logger. Anything that can carry a secret is redacted by path, so a
 * careless log call cannot leak a key, a signature or a token.
 */
export function createLogger(level = process.env.MLSPACE_LOG_LEVEL ?? 'info') {
  return pino({
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'headers.authorization',
        '*.key1',
        '*.key2',
        '*.keys',
        '*.accountKey',
        '*.clientSecret',
        '*.token',
        'url',
        'req.url',
      ],
      censor: '[redacted]',
    },
  });
}

export type Logger = ReturnType<typeof createLogger>;
