/**
 * The one id format of tenants, environments, members, nodes and node groups (pure; shared by the
 * config validator, the constructs, the management API's request model, its handler and the CLI).
 * Ids become parts of stack names, resource names, tags, secret paths and host names, so they are
 * short, lowercase DNS labels.
 */

/** 2-24 characters of a-z, 0-9 and "-", starting with a letter and not ending with "-". */
export const ID_PATTERN = /^[a-z][a-z0-9-]{0,22}[a-z0-9]$/;

/** How to fix an id that does not match {@link ID_PATTERN}. */
export const ID_HINT = 'use 2-24 characters of a-z, 0-9 and "-", starting with a letter and not ending with "-", e.g. "acme"';

/** {@link ID_PATTERN} without anchors, to compose larger patterns (e.g. `<tenant>/<environment>`). */
export const ID_PATTERN_BODY = ID_PATTERN.source.slice(1, -1);
