import { z } from 'zod';

/**
 * A command is an argument array, never a shell string: the first element is the program,
 * the rest its arguments, passed to `spawn` with `shell: false`.
 */
export const commandSchema = z.array(z.string().min(1).max(4096)).min(1).max(64);
export type Command = z.infer<typeof commandSchema>;

/**
 * Splits a user-typed command such as `npm run build -- --mode "prod"` into an argument
 * array. Quotes group words; nothing else is special: there is no variable expansion, no
 * globbing, no pipes, no `;`. Operators are rejected so that a user who expects shell
 * semantics gets a clear error instead of a surprising argument.
 */
export function parseCommandLine(line: string): Command {
  const args: string[] = [];
  let current = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"' && (line[i + 1] === '"' || line[i + 1] === '\\')) current += line[++i];
      else current += ch;
      continue;
    }
    if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) args.push(current);
      current = '';
      inWord = false;
    } else if ('|;&<>`$(){}'.includes(ch) && !inWord) {
      throw new Error(`shell operator "${ch}" is not supported: commands run without a shell`);
    } else {
      current += ch;
      inWord = true;
    }
  }
  if (quote) throw new Error('unterminated quote in command');
  if (inWord) args.push(current);
  return commandSchema.parse(args);
}
