import type { z } from 'zod';

/** Parses JSON text against a schema; undefined when the text is not JSON or does not match. */
export function parseJsonWith<S extends z.ZodType>(schema: S, text: string): z.output<S> | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}
