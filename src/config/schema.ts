// The configuration schema (the spec's structure, snake_case as in the YAML). Every key has a
// default so the gateway starts with no file at all; unknown keys are rejected so typos surface.

import * as z from 'zod';
import { parseAllowEntry } from '../net/address.js';

// A config is parsed once per load: zod's JIT (object parsers compiled with new Function on first
// use) costs more than it saves there, about half the first parse (12 ms against 26-40 ms here).
z.config({ jitless: true });

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Accepts pino names and the spec's loguru names (DEBUG, INFO, WARNING, ERROR, CRITICAL). */
export function normalizeLogLevel(value: string): LogLevel | undefined {
  const lower = value.trim().toLowerCase();
  const alias: Record<string, LogLevel> = { warning: 'warn', critical: 'fatal', off: 'silent' };
  const level = alias[lower] ?? lower;
  return (LOG_LEVELS as readonly string[]).includes(level) ? (level as LogLevel) : undefined;
}

const logLevel = z.string().transform((value, ctx) => {
  const level = normalizeLogLevel(value);
  if (!level) {
    ctx.addIssue({ code: 'custom', message: `unknown level "${value}" (use one of ${LOG_LEVELS.join(', ')})` });
    return z.NEVER;
  }
  return level;
});

const UNITS: Record<string, number> = { b: 1, kb: 1024, k: 1024, mb: 1024 ** 2, m: 1024 ** 2, gb: 1024 ** 3, g: 1024 ** 3 };

/** "10 MB", "512k", 1048576 -> bytes. */
export function parseSize(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? Math.floor(value) : undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  if (!match) return undefined;
  const unit = UNITS[(match[2] || 'b').toLowerCase()];
  return unit === undefined ? undefined : Math.floor(Number(match[1]) * unit);
}

const size = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const bytes = parseSize(value);
  if (bytes === undefined || bytes <= 0) {
    ctx.addIssue({ code: 'custom', message: `not a size: "${value}" (e.g. "10 MB")` });
    return z.NEVER;
  }
  return bytes;
});

// "10 MB" rotates by size; "daily" / "hourly" at each local day / hour boundary (src/log-file.ts).
const rotation = z.union([z.string(), z.number()]).transform((value, ctx) => {
  if (typeof value === 'string' && ['daily', 'hourly'].includes(value.trim().toLowerCase())) {
    return { frequency: value.trim().toLowerCase() as 'daily' | 'hourly' };
  }
  const bytes = parseSize(value);
  if (bytes === undefined) {
    ctx.addIssue({ code: 'custom', message: `not a rotation: "${value}" (a size like "10 MB", or daily/hourly)` });
    return z.NEVER;
  }
  return { sizeBytes: bytes };
});

// `format: json` (one JSON object a line) or `text` (one readable line). The spec's loguru template
// strings ("{time} | {level} | {message}") are accepted and mean `text`.
const logFormat = z.string().transform((value, ctx) => {
  const lower = value.trim().toLowerCase();
  if (lower === 'json') return 'json' as const;
  if (lower === 'text' || lower === 'pretty' || value.includes('{')) return 'text' as const;
  ctx.addIssue({ code: 'custom', message: `unknown format "${value}" (use json or text)` });
  return z.NEVER;
});

const token = z.string().min(1, 'must not be empty');
const namedToken = z.union([token, z.strictObject({ name: z.string().min(1), token })]);

const nonEmptyOptional = z
  .string()
  .optional()
  .nullable()
  .transform((v) => (v == null || v.trim() === '' ? undefined : v));

const seconds = (fallback: number) => z.number().positive().max(86_400).default(fallback);

/** Settings every OpenAI-compatible upstream shares (g4f and `openai_compatible` entries). */
function upstreamFields(defaultModels: string[]) {
  return {
    /** Extra headers on every upstream request. */
    headers: z.record(z.string(), z.string()).default({}),
    /** Model names served here; globs (`deepseek-*`) route matching names unchanged. */
    models: z.array(z.string().min(1)).default(defaultModels),
    /** Models (globs) without native tool calling: tools are emulated in the prompt for them. */
    text_only_models: z.array(z.string().min(1)).default([]),
    /** Also list the upstream's own `GET /models` (cached) in /v1/models. */
    discover_models: z.boolean().default(false),
    /** HTTP(S) or SOCKS5 proxy URL; unset = HTTPS_PROXY / NO_PROXY from the environment. */
    proxy: nonEmptyOptional,
    timeouts: z
      .strictObject({
        connect: seconds(10),
        /** Until the first streamed event; unset = fallback.timeout. */
        first_byte: z.number().positive().max(86_400).nullish().transform((v) => v ?? undefined),
        /** Longest silence between two chunks once the answer streams. */
        idle: seconds(120),
        total: seconds(900),
      })
      .prefault({}),
    fallback: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** Extra attempts on this upstream for connect errors, timeouts, 429 and 5xx. */
        max_retries: z.number().int().min(0).max(10).default(2),
        /** Seconds an attempt may wait for its first event before it counts as failed. */
        timeout: z.number().positive().default(30),
      })
      .prefault({}),
  };
}

const authUser = z.number().int().min(0).max(9).nullish().transform((v) => v ?? undefined);

/** The Gemini line-up of late 2026 (docs/gemini.md, "Models"). */
const GEMINI_MODELS = ['gemini-3.1-pro', 'gemini-3.6-flash', 'gemini-3.7-flash', 'gemini-3.5-flash-lite', 'gemini-3.1-pro-extended', 'gemini-3.6-flash-extended'];
const GEMINI_MODEL_MAP = {
  'gemini-3.1-pro': { id: '9d8ca3786ebdfbea', display: '3.1 Pro', number: 3 },
  'gemini-3.1-pro-extended': { id: '9d8ca3786ebdfbea', display: '3.1 Pro', number: 3, thinking: 'extended' as const },
  'gemini-3.6-flash': { id: 'fbb127bbb056c959', display: '3.6 Flash', number: 1 },
  'gemini-3.6-flash-extended': { id: 'fbb127bbb056c959', display: '3.6 Flash', number: 1, thinking: 'extended' as const },
  'gemini-3.7-flash': { id: '56fdd199312815e2', display: '3.7 Flash', number: 1 },
  'gemini-3.7-flash-extended': { id: '56fdd199312815e2', display: '3.7 Flash', number: 1, thinking: 'extended' as const },
  'gemini-3.5-flash-lite': { id: 'cf41b0e0dd7d53e5', display: '3.5 Flash-Lite', number: 6 },
};
const GEMINI_MODEL_ALIASES = {
  'gemini-3-pro': 'gemini-3.1-pro',
  'gemini-3.0-pro': 'gemini-3.1-pro',
  'gemini-2.5-pro': 'gemini-3.1-pro',
  'gemini-3-flash': 'gemini-3.6-flash',
  'gemini-3.0-flash': 'gemini-3.6-flash',
  'gemini-2.5-flash': 'gemini-3.6-flash',
  'gemini-2.0-flash': 'gemini-3.6-flash',
  'gemini-3-flash-thinking': 'gemini-3.6-flash-extended',
  'gemini-2.5-flash-lite': 'gemini-3.5-flash-lite',
};
const GEMINI_REQUEST_SLOTS: Record<string, unknown> = {
  '6': [1],
  '7': 1,
  '10': 1,
  '11': 0,
  '17': [['{turn}']],
  '18': 0,
  '27': 1,
  '30': [4],
  '41': [1],
  '53': 0,
  '59': '{uuid}',
  '61': [],
  '68': 2,
  '79': '{number}',
  '80': '{thinking}',
  '91': 0,
};

export const configSchema = z.strictObject({
  server: z
    .strictObject({
      host: z.string().min(1).default('0.0.0.0'),
      port: z.coerce.number().int().min(0).max(65535).default(8022),
      /** Largest accepted request body; images and long agent histories need room. */
      body_limit: size.default(20 * 1024 * 1024),
      /** Seconds SIGTERM waits for in-flight requests and streams before closing them. */
      shutdown_timeout: z.number().positive().max(600).default(10),
      /** Seconds of upstream silence before a stream sends a keep-alive (Claude Code hangs on idle streams). */
      sse_ping_interval: z.number().min(0.05).max(60).default(5),
      /** Seconds to wait for the upstream's first event before committing a stream (status 200) anyway. */
      sse_commit_after: z.number().min(0.05).max(120).default(3),
    })
    .prefault({}),
  auth: z
    .strictObject({
      bearer_token: nonEmptyOptional,
      tokens: z.array(namedToken).default([]),
      /** When set, /admin/* accepts only this token; otherwise any client token works there. */
      admin_token: nonEmptyOptional,
      /** Requests per minute allowed per client token (0 = unlimited); bursts up to one minute's worth. */
      rate_limit: z.number().int().min(0).max(1_000_000).default(0),
    })
    .prefault({}),
  logging: z
    .strictObject({
      level: logLevel.default('info'),
      format: logFormat.default('json'),
      file: nonEmptyOptional,
      rotation: rotation.default({ sizeBytes: 10 * 1024 * 1024 }),
      max_files: z.number().int().min(1).max(1000).default(5),
    })
    .prefault({}),
  gemini: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Cookie file of the single-account form: {"__Secure-1PSID", "__Secure-1PSIDTS", "updated_at"}. */
      cookie_path: z.string().min(1).default('cookies/gemini.json'),
      /** More accounts; when set, `cookie_path` is not used. Each may have its own proxy. */
      accounts: z
        .array(
          z.strictObject({
            name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/i, 'letters, digits, - and _ only'),
            cookie_path: z.string().min(1),
            proxy: nonEmptyOptional,
            /** Which signed-in Google account of the browser (`/u/N`, X-Goog-AuthUser); unset = the first. */
            auth_user: authUser,
          }),
        )
        .default([])
        .refine((list) => new Set(list.map((a) => a.name)).size === list.length, 'names must be unique'),
      auto_refresh: z.boolean().default(true),
      refresh_interval: z.number().min(60, 'must be at least 60 seconds').default(600),
      proxy: nonEmptyOptional,
      /** The single-account form's `/u/N` (X-Goog-AuthUser); unset = the browser's first account. */
      auth_user: authUser,
      /** auto: an account without cookies answers as a signed-out visitor (Flash models only); off: it answers 502 no_cookies. */
      guest: z.enum(['auto', 'off']).default('auto'),
      /** Models a visitor without cookies may use (Google serves others as Flash-Lite: refused instead). */
      guest_models: z.array(z.string().min(1)).default(['gemini-3.6-flash', 'gemini-3.5-flash-lite']),
      models: z.array(z.string().min(1)).default(GEMINI_MODELS),
      /**
       * Model name -> Gemini web model id, the versioned name the account lists it under (ids drift;
       * display names rarely do), its model number (header idx14, payload [79]) and thinking mode.
       */
      model_map: z
        .record(
          z.string(),
          z.strictObject({
            id: z.string().min(1),
            display: z.string().optional(),
            number: z.number().int().min(0).max(99).optional(),
            thinking: z.enum(['standard', 'extended']).optional(),
          }),
        )
        .default(GEMINI_MODEL_MAP),
      /** Names older configs and clients use -> the current model that serves them (not listed in /v1/models). */
      model_aliases: z.record(z.string(), z.string().min(1)).default(GEMINI_MODEL_ALIASES),
      /** The model selector header; {id}, {capacity}, {number}, {thinking} (1 standard, 2 extended) and {uuid} are filled in. */
      model_header: z.string().default('[1,null,null,null,"{id}",null,null,0,[4,5,6,8],null,null,{capacity},null,null,{number},{thinking},"{uuid}"]'),
      /**
       * The StreamGenerate payload list: its length and fixed slots (index -> JSON). A string value
       * "{turn}", "{number}", "{thinking}" or "{uuid}" (alone or nested) is replaced by the value.
       * Slots 0-2 (message, language, chat) and 45 (temporary chat) are set by the client.
       */
      request: z
        .strictObject({
          length: z.number().int().min(60).max(400).default(97),
          slots: z.record(z.string().regex(/^\d+$/, 'slot numbers only'), z.unknown()).default(GEMINI_REQUEST_SLOTS),
        })
        .prefault({}),
      /** Headers sent along with the model header. */
      model_extra_headers: z.record(z.string(), z.string()).default({ 'x-goog-ext-73010989-jspb': '[0]', 'x-goog-ext-73010990-jspb': '[0]' }),
      endpoints: z
        .strictObject({
          gemini: z.url().default('https://gemini.google.com'),
          accounts: z.url().default('https://accounts.google.com'),
          upload: z.url().default('https://content-push.googleapis.com'),
          google: z.url().default('https://www.google.com'),
        })
        .prefault({}),
      language: z.string().default('en'),
      timeouts: z
        .strictObject({
          connect: seconds(15),
          /** Until the first answer frame (thinking models can be slow). */
          first_byte: seconds(120),
          /** Longest silence once the answer streams (the stall watchdog). */
          idle: seconds(90),
          total: seconds(900),
        })
        .prefault({}),
      cooldown: z
        .strictObject({
          /** Seconds an account rests after a usage limit (1037) or an IP rate limit. */
          usage_limit: seconds(900),
          /** Seconds an account rests after an IP / region block (1060). */
          blocked: seconds(3600),
          /** Seconds an egress (proxy or direct connection) rests after Google's /sorry page or a 429: an IP block lasts ~2 h. */
          ip_block: seconds(7200),
        })
        .prefault({}),
      conversations: z
        .strictObject({
          /** Reuse a Gemini chat when a request continues a stored one (send only the new turns). */
          reuse: z.boolean().default(true),
          ttl: seconds(3600),
          max_entries: z.number().int().min(1).max(1_000_000).default(2000),
        })
        .prefault({}),
      /**
       * UTF-8 bytes of prompt text sent in the message box (Google silently cuts past ~130,000 from
       * the end). Older history beyond it travels as message.txt; the newest turn always inline.
       */
      max_prompt_bytes: z.number().int().min(1000).max(1_000_000).default(120_000),
      /** Deprecated: the old character budget; when set, it is used as max_prompt_bytes. */
      max_prompt_chars: z.number().int().min(1000).optional(),
      /** Bytes of history one message.txt may carry (Google reads ~160 KB of attachments per turn). */
      max_history_file_bytes: z.number().int().min(1000).max(10_000_000).default(150_000),
      /** History too long for one file is replayed into the Gemini chat in this many parts at most; past it: 400 prompt too long. */
      history_parts_max: z.number().int().min(0).max(50).default(4),
      /** Answers without any content frame (error 1155) retried on the same account before failing over. */
      empty_retries: z.number().int().min(0).max(5).default(2),
      /** Google served another model than asked (expired cookies answer as a guest): refuse (fail over, error) or serve with a warning. */
      on_downgrade: z.enum(['refuse', 'serve']).default('refuse'),
      /** Seconds between background re-reads of /app (build label, tokens) and the account's models. */
      page_refresh_interval: seconds(14_400),
      /** Largest image or file accepted from a client (bytes). */
      max_attachment_bytes: size.default(20 * 1024 * 1024),
      /** Seconds a signed /images/… link to a generated image stays valid. */
      image_link_ttl: seconds(86_400),
      /** Generated images kept on disk (served links, b64_json): a bounded LRU directory, oldest out past max_bytes. */
      image_cache: z
        .strictObject({
          dir: z.string().min(1).default('cache/images'),
          max_bytes: size.default(200 * 1024 * 1024),
        })
        .prefault({}),
      /** After a stream that ended without a final answer: read the chat back for this long (seconds). */
      recovery_timeout: z.number().min(0).max(600).default(60),
      recovery_poll_interval: z.number().min(0.05).max(60).default(5),
    })
    .prefault({}),
  g4f: z
    .strictObject({
      enabled: z.boolean().default(true),
      base_url: z.url().default('http://127.0.0.1:1337/v1'),
      /** The g4f server's own key, sent as `g4f-api-key` (a Bearer token would reach g4f's upstream). */
      api_key: nonEmptyOptional,
      ...upstreamFields(['gpt-4o', 'gpt-4o-mini', 'claude-3-opus', 'claude-3-sonnet', 'deepseek-*', 'qwen-*', 'grok-*']),
      /** Model name (glob) -> g4f provider to pin, sent as the body field `provider`. */
      provider_pinning: z.record(z.string(), z.string().min(1)).default({}),
    })
    .prefault({}),
  /** Any other OpenAI-compatible endpoints, each its own provider (id = name). */
  openai_compatible: z
    .array(
      z.strictObject({
        name: z
          .string()
          .regex(/^[a-z0-9][a-z0-9_-]*$/i, 'letters, digits, - and _ only')
          .refine((n) => n !== 'gemini' && n !== 'g4f', 'gemini and g4f are reserved names'),
        enabled: z.boolean().default(true),
        base_url: z.url(),
        /** Sent as `Authorization: Bearer`. */
        api_key: nonEmptyOptional,
        ...upstreamFields([]),
      }),
    )
    .default([])
    .refine((list) => new Set(list.map((u) => u.name)).size === list.length, 'names must be unique'),
  metrics: z
    .strictObject({
      /** Serve GET /metrics without the admin token (for a Prometheus inside a private network). */
      public: z.boolean().default(false),
    })
    .prefault({}),
  state: z
    .strictObject({
      /** Share conversations and stored Responses between replicas through this Redis; null = in memory. */
      redis_url: nonEmptyOptional,
      /** Prefix of every key the gateway writes to Redis (several gateways can share one server). */
      key_prefix: z.string().min(1).default('gemini-gateway:'),
    })
    .prefault({}),
  alerts: z
    .strictObject({
      /** POST a JSON alert here when a Gemini account turns expired, blocked or recovers; null = off. */
      webhook_url: z.url().nullish().transform((v) => v ?? undefined),
    })
    .prefault({}),
  routing: z
    .strictObject({
      /** Requested name (glob) -> model to use instead, e.g. `claude-sonnet-*: gemini-3-pro`. */
      aliases: z.record(z.string(), z.string().min(1)).default({}),
      /** Model for names nothing else matches; null = answer 404 model_not_found. */
      default_model: nonEmptyOptional,
      /** Model (glob) -> models to try in order when it fails before any output. */
      fallbacks: z.record(z.string(), z.array(z.string().min(1))).default({}),
      /** Upstream calls one request may cause in all: retries, fallbacks, account failover, re-asks. */
      max_upstream_calls: z.number().int().min(1).max(100).default(12),
      /** A Gemini model that serves requests offering a hosted web search when their own route cannot search. */
      web_search_model: nonEmptyOptional,
    })
    .prefault({}),
  /** URLs a client chose (image and file parts) that the gateway fetches itself (src/http/url-guard.ts). */
  security: z
    .strictObject({
      /** IPs, CIDRs, host names or `*.suffix` names that may be fetched although private or internal. */
      fetch_allow: z
        .array(z.string().refine((entry) => parseAllowEntry(entry) !== undefined, 'not an IP address, CIDR, host name or *.suffix'))
        .default([]),
      /** Seconds for the whole fetch of one URL: resolving, connecting, redirects and the body. */
      fetch_timeout: z.number().positive().max(600).default(15),
    })
    .prefault({}),
});

export type GatewayConfig = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

/** Keys that only take effect after a restart (the listening socket and its limits). */
export const RESTART_ONLY_KEYS = ['server.host', 'server.port', 'server.body_limit', 'state.redis_url', 'state.key_prefix'] as const;
