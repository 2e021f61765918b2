/**
 * Debian's Chromium for the browser tests, launched headless with the flags this machine needs (no
 * sandbox as root; no background networking, whose connections the closed network refuses).
 * `CHROMIUM_PATH` points elsewhere; never a downloaded browser.
 */
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Launches Chromium headless with the common flags, then `extraArgs`. */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      ...extraArgs,
    ],
  });
}
