/**
 * How the CLI chooses its log output: `--log-format` wins; otherwise pretty on a terminal and NDJSON off
 * one; colour only for pretty on a terminal without NO_COLOR.
 */
import { describe, expect, it } from 'vitest';
import { chooseLogOutput } from '../src/logger.js';

describe('chooseLogOutput', () => {
  it.each([
    // flag, NO_COLOR, stderr is a TTY -> format, colour
    [undefined, undefined, true, 'pretty', true],
    [undefined, '1', true, 'pretty', false],
    [undefined, '', true, 'pretty', true], // NO_COLOR set but empty does not count (no-color.org)
    [undefined, undefined, false, 'json', false],
    ['json', undefined, true, 'json', false],
    ['pretty', undefined, false, 'pretty', false],
    ['pretty', undefined, true, 'pretty', true],
    ['pretty', 'yes', true, 'pretty', false],
  ] as const)('flag %s, NO_COLOR %s, TTY %s -> %s, colour %s', (flag, noColor, tty, format, colour) => {
    expect(chooseLogOutput(flag, noColor, tty)).toEqual({ format, colour });
  });
});
