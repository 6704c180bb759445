/**
 * Bounds on everything Berth reads from catalogs, environments and the network, so a hostile input costs bounded
 * time and memory and ends in an error naming it. Defaults suit real catalogs with a wide margin; operators
 * raise them with the BERTH_MAX_* variables (docs/security.md#limits).
 */
export interface Limits {
  /** Bytes of one catalog or environment file. */
  fileBytes: number;
  /** Bytes of one answer value. */
  answerBytes: number;
  /** Nodes of a YAML document once its aliases are expanded. */
  yamlNodes: number;
  /** Nesting of YAML collections and `${…}` expressions. */
  depth: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = { fileBytes: 1024 * 1024, answerBytes: 64 * 1024, yamlNodes: 100_000, depth: 100 };

function positive(text: string | undefined, fallback: number): number {
  const n = text === undefined || text === '' ? NaN : Number(text);
  return Number.isSafeInteger(n) && n > 0 ? n : fallback;
}

/** The limits in force: the defaults, raised or lowered by BERTH_MAX_FILE_BYTES, _ANSWER_BYTES, _YAML_NODES. */
export function limits(env: Record<string, string | undefined> = process.env): Limits {
  return {
    fileBytes: positive(env.BERTH_MAX_FILE_BYTES, DEFAULT_LIMITS.fileBytes),
    answerBytes: positive(env.BERTH_MAX_ANSWER_BYTES, DEFAULT_LIMITS.answerBytes),
    yamlNodes: positive(env.BERTH_MAX_YAML_NODES, DEFAULT_LIMITS.yamlNodes),
    depth: DEFAULT_LIMITS.depth,
  };
}

/** `1.5 MiB`, `64 KiB`: sizes as people read them in an error. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${+(n / 1024 / 1024).toFixed(1)} MiB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}
