import { useCallback, useEffect, useMemo, useState } from 'react';
import AppLayout from '@cloudscape-design/components/app-layout';
import BreadcrumbGroup, { type BreadcrumbGroupProps } from '@cloudscape-design/components/breadcrumb-group';
import Flashbar, { type FlashbarProps } from '@cloudscape-design/components/flashbar';
import SideNavigation, { type SideNavigationProps } from '@cloudscape-design/components/side-navigation';
import TopNavigation from '@cloudscape-design/components/top-navigation';
import type { ConsoleConfig } from '../../lib/contracts/console-config';
import { ManagementApi } from './api';
import { CognitoSignIn, SessionExpired, type SignedInSession } from './auth/cognito';
import { CredentialsPage } from './pages/credentials';
import { EnvironmentDetailPage } from './pages/environment-detail';
import { EnvironmentsPage } from './pages/environments';
import { NodesPage } from './pages/nodes';
import { SignInPage } from './pages/sign-in';
import { hrefOf, parseRoute, type Route } from './routes';

export { hrefOf };

export type Notify = (item: { type: 'success' | 'error' | 'info'; header: string; content?: string }) => void;

export interface PageProps {
  readonly api: ManagementApi;
  readonly config: ConsoleConfig;
  readonly notify: Notify;
}

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

export function App({ config }: { config: ConsoleConfig }) {
  const signIn = useMemo(() => new CognitoSignIn(config), [config]);
  const [session, setSession] = useState<SignedInSession | undefined>();
  const [flash, setFlash] = useState<FlashbarProps.MessageDefinition[]>([]);
  const route = useRoute();

  const signOut = useCallback(async (reason?: string) => {
    const s = session;
    setSession(undefined);
    setFlash(reason ? [{ type: 'info', header: reason, id: 'signed-out', dismissible: true, onDismiss: () => setFlash([]) }] : []);
    window.location.hash = '#/environments';
    await s?.signOut();
  }, [session]);

  const api = useMemo(
    () =>
      session &&
      new ManagementApi(config.apiEndpoint, config.region, async () => {
        try {
          return await session.credentials();
        } catch (e) {
          if (e instanceof SessionExpired) void signOut(e.message);
          throw e;
        }
      }),
    [config, session, signOut],
  );

  const notify: Notify = useCallback((item) => {
    const id = `${Date.now()}-${Math.random()}`;
    setFlash((f) => [...f.slice(-2), { ...item, id, dismissible: true, dismissLabel: 'Dismiss message', onDismiss: () => setFlash((x) => x.filter((m) => m.id !== id)) }]);
  }, []);

  if (!session || !api) {
    return <SignInPage signIn={signIn} config={config} notice={typeof flash[0]?.header === "string" ? flash[0].header : undefined} onSignedIn={(s) => { setFlash([]); setSession(s); }} />;
  }

  const env = route.page === 'environments' ? undefined : route;
  const crumbs: BreadcrumbGroupProps.Item[] = [{ text: 'Environments', href: '#/environments' }];
  if (env) {
    crumbs.push({ text: `${env.tenantId}/${env.environmentId}`, href: hrefOf({ ...env, page: 'environment' }) });
    if (env.page !== 'environment') crumbs.push({ text: env.page === 'nodes' ? 'Nodes' : 'App credentials', href: hrefOf(env) });
  }
  const navItems: SideNavigationProps.Item[] = [{ type: 'link', text: 'Environments', href: '#/environments' }];
  if (env) {
    navItems.push({
      type: 'section',
      text: `${env.tenantId}/${env.environmentId}`,
      items: [
        { type: 'link', text: 'Overview', href: hrefOf({ ...env, page: 'environment' }) },
        { type: 'link', text: 'Nodes', href: hrefOf({ ...env, page: 'nodes' }) },
        { type: 'link', text: 'App credentials', href: hrefOf({ ...env, page: 'credentials' }) },
      ],
    });
  }
  const props: PageProps = { api, config, notify };
  return (
    <>
      <div id="top-nav">
        <TopNavigation
          identity={{ href: '#/environments', title: 'Blockchain tenancy console' }}
          utilities={[
            { type: 'button', text: session.username, iconName: 'user-profile', ariaLabel: `Signed in as ${session.username}`, disableUtilityCollapse: true },
            { type: 'button', text: 'Sign out', ariaLabel: 'Sign out', onClick: () => void signOut() },
          ]}
        />
      </div>
      <AppLayout
        headerSelector="#top-nav"
        toolsHide
        ariaLabels={{ navigation: 'Side navigation', navigationClose: 'Close side navigation', navigationToggle: 'Open side navigation', notifications: 'Notifications' }}
        navigation={<SideNavigation header={{ text: 'Console', href: '#/environments' }} activeHref={hrefOf(route)} items={navItems} />}
        breadcrumbs={<BreadcrumbGroup items={crumbs} ariaLabel="Breadcrumbs" />}
        notifications={<Flashbar items={flash} />}
        content={
          route.page === 'environments' ? (
            <EnvironmentsPage {...props} />
          ) : route.page === 'environment' ? (
            <EnvironmentDetailPage key={hrefOf(route)} {...props} tenantId={route.tenantId} environmentId={route.environmentId} />
          ) : route.page === 'nodes' ? (
            <NodesPage key={hrefOf(route)} {...props} tenantId={route.tenantId} environmentId={route.environmentId} />
          ) : (
            <CredentialsPage key={hrefOf(route)} {...props} tenantId={route.tenantId} environmentId={route.environmentId} />
          )
        }
      />
    </>
  );
}
