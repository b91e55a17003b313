/**
 * The security headers of the web console (pure; shared by the CloudFront response headers policy
 * that serves it and by the local static server of the browser tests, so both send the same).
 *
 * The console is a single-page app with no inline script or style element: every script and
 * stylesheet is a hashed file of the console's own origin. Its only other connections are the
 * management API (SigV4-signed fetch), Cognito's user pool API (sign-in) and Cognito's identity
 * pool API (temporary credentials).
 */

/** Where the console connects besides its own origin: the management API and Cognito in `region`. */
export function consoleConnectSources(region: string, apiOrigin: string): string[] {
  return [apiOrigin, `https://cognito-idp.${region}.amazonaws.com`, `https://cognito-identity.${region}.amazonaws.com`];
}

/**
 * The Content-Security-Policy of the console: only its own scripts, styles, fonts and images
 * (`data:` images for the design system's CSS), fetch only to `connectSources`, never framed,
 * no plugins, no <base>, no form posts.
 */
export function consoleContentSecurityPolicy(connectSources: readonly string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src 'self' ${connectSources.join(' ')}`,
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}

/** HSTS: two years, subdomains included (CloudFront's strictTransportSecurity). */
export const CONSOLE_HSTS_MAX_AGE_SECONDS = 63_072_000;

/**
 * Every security header of a console response, by lowercase name. CloudFront maps
 * content-security-policy, strict-transport-security, x-content-type-options, x-frame-options and
 * referrer-policy to its securityHeadersBehavior and the rest to customHeadersBehavior.
 */
export function consoleSecurityHeaders(connectSources: readonly string[]): Record<string, string> {
  return {
    'content-security-policy': consoleContentSecurityPolicy(connectSources),
    'strict-transport-security': `max-age=${CONSOLE_HSTS_MAX_AGE_SECONDS}; includeSubDomains; preload`,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
    'cross-origin-opener-policy': 'same-origin',
  };
}
