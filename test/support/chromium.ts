import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Where Debian's chromium package puts the browser. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * The path of a Chromium for playwright-core: Debian's `chromium` package, installed with apt-get
 * when missing (as root; as bench/support/nginx.ts installs nginx). Throws with the reason and
 * the fix when it cannot.
 */
export function ensureChromium(log: (line: string) => void = (l) => console.error(l)): string {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  if (process.platform !== 'linux' || !existsSync('/usr/bin/apt-get')) throw new Error(`the browser tests need Chromium at ${CHROMIUM}: install Debian's chromium package (apt-get install chromium) and re-run`);
  if (process.getuid?.() !== 0) throw new Error(`the browser tests need Chromium at ${CHROMIUM}, and installing it needs root: run \`sudo apt-get install -y chromium\` and re-run`);
  log('chromium is not installed: installing it from the Debian packages (apt-get update, apt-get install chromium) ...');
  const apt = (args: string[]) =>
    spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', ...args], { stdio: ['ignore', 2, 2], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 15 * 60_000 }).status === 0;
  if (!apt(['update'])) throw new Error('chromium is not installed and `apt-get update` failed (see its output above)');
  if (!apt(['install', '-y', '--no-install-recommends', 'chromium']) || !existsSync(CHROMIUM)) throw new Error('chromium is not installed and `apt-get install chromium` failed (see its output above)');
  return CHROMIUM;
}
