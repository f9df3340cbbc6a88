import { describe, expect, it } from 'vitest';
import { parseAnsi, stripAnsi } from './assets/ansi.js';

describe('ANSI parsing for the log viewer', () => {
  it('keeps plain text as one unstyled segment', () => {
    expect(parseAnsi('hello <b>world</b>')).toEqual([{ text: 'hello <b>world</b>', style: {} }]);
  });

  it('maps basic, bright, 256 and true colours and resets', () => {
    expect(parseAnsi('\x1b[31mred\x1b[0m plain \x1b[1;92mbold green\x1b[39m bold')).toEqual([
      { text: 'red', style: { fg: '1' } },
      { text: ' plain ', style: {} },
      { text: 'bold green', style: { bold: true, fg: '10' } },
      { text: ' bold', style: { bold: true } },
    ]);
    expect(parseAnsi('\x1b[38;5;196mx')).toEqual([{ text: 'x', style: { fg: 'rgb(255,0,0)' } }]);
    expect(parseAnsi('\x1b[38;5;244mx')).toEqual([{ text: 'x', style: { fg: 'rgb(128,128,128)' } }]);
    expect(parseAnsi('\x1b[48;2;1;2;3mx')).toEqual([{ text: 'x', style: { bg: 'rgb(1,2,3)' } }]);
    expect(parseAnsi('\x1b[mx')).toEqual([{ text: 'x', style: {} }]);
  });

  it('never lets a malformed colour through as anything but numbers', () => {
    expect(parseAnsi('\x1b[38;2;999;0;0mx')).toEqual([{ text: 'x', style: {} }]);
    expect(parseAnsi('\x1b[38;5;300mx')).toEqual([{ text: 'x', style: {} }]);
  });

  it('drops cursor movement, OSC titles and hyperlinks but keeps their text', () => {
    const line = '\x1b[2K\x1b[1Gprogress \x1b]0;title\x07done \x1b]8;;https://x\x1b\\link\x1b]8;;\x1b\\';
    expect(stripAnsi(line)).toBe('progress done link');
    expect(parseAnsi(line)).toEqual([{ text: 'progress done link', style: {} }]);
  });
});
