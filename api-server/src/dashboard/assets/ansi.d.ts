// Types for the browser module ansi.js, so its unit test typechecks.
export interface AnsiStyle {
  fg?: string;
  bg?: string;
  bold?: boolean;
  dim?: boolean;
  italic?: boolean;
  underline?: boolean;
}
export interface AnsiSegment {
  text: string;
  style: AnsiStyle;
}
export function stripAnsi(line: string): string;
export function parseAnsi(line: string): AnsiSegment[];
// Browser only (needs a DOM document).
export function renderAnsi(line: string, doc?: unknown): unknown;
