/** Routes live in the hash (#/environments/acme/dev/nodes): static hosting needs no rewrites, and nothing secret is ever in it. */
export type Route =
  | { readonly page: 'environments' }
  | { readonly page: 'environment' | 'nodes' | 'credentials'; readonly tenantId: string; readonly environmentId: string };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'environments' && parts.length >= 3) {
    const [, tenantId, environmentId, sub] = parts;
    if (sub === 'nodes' || sub === 'credentials') return { page: sub, tenantId, environmentId };
    return { page: 'environment', tenantId, environmentId };
  }
  return { page: 'environments' };
}

export const hrefOf = (r: Route): string =>
  r.page === 'environments' ? '#/environments' : `#/environments/${encodeURIComponent(r.tenantId)}/${encodeURIComponent(r.environmentId)}${r.page === 'environment' ? '' : `/${r.page}`}`;
