import Box from '@cloudscape-design/components/box';
import Button from '@cloudscape-design/components/button';
import ContentLayout from '@cloudscape-design/components/content-layout';
import Header from '@cloudscape-design/components/header';
import Link from '@cloudscape-design/components/link';
import SpaceBetween from '@cloudscape-design/components/space-between';
import StatusIndicator from '@cloudscape-design/components/status-indicator';
import Table from '@cloudscape-design/components/table';
import type { Environment } from '../api';
import { hrefOf, type PageProps } from '../app';
import { ErrorAlert } from '../errors';
import { useLoad } from '../use-load';
import { LifecycleCreate } from './lifecycle';

/** Every environment the signed-in user may see (the API lists the registrations). */
export function EnvironmentsPage({ api, config, notify }: PageProps) {
  const { data, loading, error, reload } = useLoad(() => api.listEnvironments());
  return (
    <ContentLayout>
      <SpaceBetween size="l">
        {error && <ErrorAlert error={error} />}
        <Table<Environment>
          variant="full-page"
          loading={loading}
          loadingText="Loading environments"
          items={data ?? []}
          trackBy={(e) => `${e.tenantId}/${e.environmentId}`}
          ariaLabels={{ tableLabel: 'Environments' }}
          header={
            <Header
              variant="awsui-h1-sticky"
              counter={data ? `(${data.length})` : undefined}
              description="Each environment is an isolated network of blockchain nodes of one tenant."
              actions={
                <SpaceBetween direction="horizontal" size="xs">
                  <Button iconName="refresh" ariaLabel="Refresh environments" onClick={reload} />
                  {config.lifecycle && <LifecycleCreate api={api} notify={notify} onDone={reload} />}
                </SpaceBetween>
              }
            >
              Environments
            </Header>
          }
          columnDefinitions={[
            { id: 'name', header: 'Environment', cell: (e) => <Link href={hrefOf({ page: 'environment', tenantId: e.tenantId, environmentId: e.environmentId })}>{`${e.tenantId}/${e.environmentId}`}</Link>, isRowHeader: true },
            { id: 'status', header: 'Status', cell: () => <StatusIndicator type="success">Deployed</StatusIndicator> },
            { id: 'region', header: 'Region', cell: (e) => e.region },
            { id: 'nodes', header: 'Nodes', cell: (e) => Object.keys(e.nodes).length },
            { id: 'ingress', header: 'Ingress', cell: (e) => e.domainName ?? e.loadBalancerDnsName ?? 'none' },
            { id: 'stack', header: 'Stack', cell: (e) => e.stackName },
          ]}
          empty={
            <Box textAlign="center" color="inherit" padding="l">
              <b>No environments</b>
              <Box variant="p" color="inherit">
                {config.lifecycle ? 'Create one with "Create environment".' : 'None is registered that you may see: environments appear here once deployed (cdk deploy), and you see those of your tenant groups.'}
              </Box>
            </Box>
          }
        />
      </SpaceBetween>
    </ContentLayout>
  );
}
