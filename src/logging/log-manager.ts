// One pino logger for the whole process. Its level, format and outputs change at run time
// (config reload, POST /admin/logging) without re-creating the logger: the logger writes into a
// switchable destination that scrubs secrets and fans out to stdout and an optional rotating file.

import pino, { type Logger } from 'pino';
import type { GatewayConfig, LogLevel } from '../config/schema.js';
import { openRotatingFile } from './file-output.js';
import { formatTextLine } from './text-format.js';
import type { SecretRegistry } from '../secrets.js';

type LoggingConfig = GatewayConfig['logging'];

interface LineSink {
  write(line: string): unknown;
  end?(): unknown;
  flushSync?(): unknown;
}

/** Keys that hold secrets in any logged object; pino replaces their values before serializing. */
const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers.cookie',
  '*.authorization',
  '*.cookie',
  '*.cookies',
  '*.token',
  '*.bearer_token',
  '*.admin_token',
  '*.api_key',
  '*.tokens',
];

function textSink(output: NodeJS.WritableStream | LineSink): LineSink {
  return { write: (line) => output.write(formatTextLine(line)) };
}

/** The object pino writes to: scrubs secrets, then hands the line to the current sinks. */
class SwitchableDestination {
  sinks: LineSink[] = [];
  /** Listeners for every scrubbed JSON line (the console's live log). */
  readonly taps = new Set<(line: string) => void>();
  constructor(private readonly secrets: SecretRegistry) {}

  write(line: string): void {
    const clean = this.secrets.size === 0 ? line : this.secrets.scrub(line);
    for (const sink of this.sinks) sink.write(clean);
    for (const tap of this.taps) tap(clean);
  }
}

export interface LogOverride {
  level: LogLevel;
  expiresAt: number | null;
}

export interface LogManagerOptions {
  secrets: SecretRegistry;
  /** Where console output goes; tests pass a capture stream. Defaults to stdout. */
  stdout?: NodeJS.WritableStream;
}

export class LogManager {
  readonly logger: Logger;
  private readonly destination: SwitchableDestination;
  private readonly stdout: NodeJS.WritableStream;
  private configured: LoggingConfig | undefined;
  private override: LogOverride | null = null;
  private overrideTimer: NodeJS.Timeout | undefined;
  private fileSink: (LineSink & { end(): unknown }) | undefined;
  private fileKey = '';
  private readonly modules = new Map<string, Logger>();

  constructor(options: LogManagerOptions) {
    this.destination = new SwitchableDestination(options.secrets);
    this.stdout = options.stdout ?? process.stdout;
    this.logger = pino(
      {
        level: 'info',
        redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
        base: undefined,
        formatters: { level: (label) => ({ level: label }) },
      },
      this.destination,
    );
  }

  /** Apply `logging.*` from a config snapshot (start-up and every reload). */
  async apply(config: LoggingConfig): Promise<void> {
    const previous = this.configured;
    this.configured = config;
    // A reload that changes the configured level is the newest intent: it ends any override.
    if (previous && previous.level !== config.level) this.clearOverride();

    const fileKey = config.file ? JSON.stringify([config.file, config.rotation, config.max_files]) : '';
    if (fileKey !== this.fileKey) {
      const old = this.fileSink;
      this.fileSink = config.file ? openRotatingFile({ file: config.file, rotation: config.rotation, maxFiles: config.max_files }) : undefined;
      this.fileKey = fileKey;
      old?.end();
    }
    const outputs: Array<NodeJS.WritableStream | LineSink> = [this.stdout];
    if (this.fileSink) outputs.push(this.fileSink);
    this.destination.sinks = outputs.map((o) => (config.format === 'text' ? textSink(o) : (o as LineSink)));
    this.syncLevel();
  }

  /**
   * A long-lived logger for one component. pino children copy the level when created, so the
   * manager keeps these and moves them along with the root level (per-request children are
   * created fresh and need nothing).
   */
  module(name: string): Logger {
    let child = this.modules.get(name);
    if (!child) {
      child = this.logger.child({ module: name });
      this.modules.set(name, child);
    }
    return child;
  }

  /** Switch the level now; with a TTL it reverts to the configured level afterwards. */
  setOverride(level: LogLevel, ttlSeconds?: number): LogOverride {
    this.clearOverride();
    const expiresAt = ttlSeconds ? Date.now() + ttlSeconds * 1000 : null;
    this.override = { level, expiresAt };
    if (ttlSeconds) {
      this.overrideTimer = setTimeout(() => {
        const from = this.logger.level;
        this.clearOverride();
        this.syncLevel();
        this.logger.info({ from, to: this.logger.level }, 'log level override expired');
      }, ttlSeconds * 1000);
      this.overrideTimer.unref();
    }
    this.syncLevel();
    return this.override;
  }

  status(): { level: string; configured_level: string; override: { level: string; expires_at: string | null } | null } {
    return {
      level: this.logger.level,
      configured_level: this.configured?.level ?? 'info',
      override: this.override
        ? { level: this.override.level, expires_at: this.override.expiresAt ? new Date(this.override.expiresAt).toISOString() : null }
        : null,
    };
  }

  /** End an override now: back to the configured level. */
  resetOverride(): void {
    this.clearOverride();
    this.syncLevel();
  }

  /** Every line written from now on, scrubbed, as pino's JSON (whatever the output format); returns the unsubscribe. */
  tap(listener: (line: string) => void): () => void {
    this.destination.taps.add(listener);
    return () => this.destination.taps.delete(listener);
  }

  /** Flush and close file output (shutdown). */
  close(): void {
    this.clearOverride();
    const file = this.fileSink;
    if (!file) return;
    this.fileSink = undefined;
    this.fileKey = '';
    // Later lines (a second shutdown message, a late request) still reach the console.
    this.destination.sinks = [this.configured?.format === 'text' ? textSink(this.stdout) : (this.stdout as LineSink)];
    file.flushSync?.();
    file.end();
  }

  private syncLevel(): void {
    const level = this.override?.level ?? this.configured?.level ?? 'info';
    this.logger.level = level;
    for (const child of this.modules.values()) child.level = level;
  }

  private clearOverride(): void {
    if (this.overrideTimer) clearTimeout(this.overrideTimer);
    this.overrideTimer = undefined;
    this.override = null;
  }
}
