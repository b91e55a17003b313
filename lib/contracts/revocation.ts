/**
 * How long a revoked (or expired) app credential can keep working: ONE bound, for HTTP calls and
 * for open WebSockets, that the gate and the authorizer both derive their cache times from (pure
 * contract; both sides import it, tests measure it with these values).
 *
 * The two caches stack: the gate trusts an allow for GATE_ALLOW_TTL_SECONDS, and the allow it got
 * may itself come from the authorizer's cache, up to AUTHORIZER_ALLOW_TTL_SECONDS old. Open
 * WebSockets are re-checked every GATE_ALLOW_TTL_SECONDS past the gate's cache, which may again
 * meet an authorizer-cached allow. So a revoked credential stops working, on both paths, within
 * GATE_ALLOW_TTL_SECONDS + AUTHORIZER_ALLOW_TTL_SECONDS + the time one authorizer call takes,
 * which REVOCATION_CHECK_SECONDS budgets (argon2id ~50 ms, a cold Lambda start ~1 s).
 */
export const REVOCATION_BOUND_SECONDS = 30;

/** Time budgeted for the authorizer call that sees the revocation. */
export const REVOCATION_CHECK_SECONDS = 2;

/** How long the node gate trusts an allow, and how often it re-checks open WebSockets. */
export const GATE_ALLOW_TTL_SECONDS = 14;

/** How long the authorizer caches an allow (never past the credential's expiry). */
export const AUTHORIZER_ALLOW_TTL_SECONDS = REVOCATION_BOUND_SECONDS - REVOCATION_CHECK_SECONDS - GATE_ALLOW_TTL_SECONDS;

/** How long a deny is remembered (gate and authorizer): a new or re-issued credential works after this. */
export const DENY_TTL_SECONDS = 5;
