// Removes the compiled code from dist/ before a build, so no file of a deleted or renamed module
// is packed. dist/assets is left alone: scripts/build-assets.ts replaces each bundle atomically,
// and tests running from the sources may be reading it.
import { rmSync } from 'node:fs';

for (const dir of ['dist/lib', 'dist/bin', 'dist/lambda']) rmSync(dir, { recursive: true, force: true });
