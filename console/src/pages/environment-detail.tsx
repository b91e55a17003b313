import Alert from '@cloudscape-design/components/alert';
import Box from '@cloudscape-design/components/box';
import ColumnLayout from '@cloudscape-design/components/column-layout';
import Container from '@cloudscape-design/components/container';
import ContentLayout from '@cloudscape-design/components/content-layout';
import Header from '@cloudscape-design/components/header';
import Link from '@cloudscape-design/components/link';
import SpaceBetween from '@cloudscape-design/components/space-between';
import Spinner from '@cloudscape-design/components/spinner';
import { hrefOf, type PageProps } from '../app';
import { ErrorAlert } from '../errors';
import { useLoad } from '../use-load';
import { LifecycleEnvironment } from './lifecycle';
import { NodesTable } from './nodes-table';

/** The CloudWatch dashboard of an environment (its name: lib/operations/environment-monitoring.ts). */
export const dashboardUrl = (region: string, tenantId: string, environmentId: string) =>
  `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards/dashboard/blockchain-${tenantId}-${environmentId}`;

function Field({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div>
      <Box variant="awsui-key-label">{label}</Box>
      <div>{children}</div>
    </div>
  );
}

export function EnvironmentDetailPage(props: PageProps & { tenantId: string; environmentId: string }) {
  const { api, config, tenantId, environmentId } = props;
  const { data: env, loading, error } = useLoad(() => api.getEnvironment(tenantId, environmentId));
  const name = `${tenantId}/${environmentId}`;
  // With the control plane, an environment being created has deployments before its stack
  // registers it: its page follows the deployment instead of showing the 404.
  const unregistered = config.lifecycle && error?.status === 404 && error.code === 'NotFound';
  return (
    <ContentLayout header={<Header variant="h1" description="An isolated network of blockchain nodes.">{name}</Header>}>
      <SpaceBetween size="l">
        {unregistered ? (
          <Alert type="info" header="Not deployed yet">
            {`${name} is registered when its stack is deployed; until then it has no nodes or endpoints. Its deployments are below.`}
          </Alert>
        ) : (
          error && <ErrorAlert error={error} />
        )}
        {!unregistered && (
          <Container header={<Header variant="h2">Overview</Header>}>
            {loading ? (
              <Spinner size="large" />
            ) : env ? (
              <ColumnLayout columns={3} variant="text-grid">
                <SpaceBetween size="l">
                  <Field label="Tenant">{env.tenantId}</Field>
                  <Field label="Environment">{env.environmentId}</Field>
                  <Field label="Status">Deployed (stack {env.stackName})</Field>
                </SpaceBetween>
                <SpaceBetween size="l">
                  <Field label="Account and region">{`${env.account} ${env.region}`}</Field>
                  <Field label="VPC">{env.vpcId}</Field>
                  <Field label="Ingress">{env.domainName ? `*.${env.domainName}` : env.loadBalancerDnsName ?? 'none (no public endpoints)'}</Field>
                </SpaceBetween>
                <SpaceBetween size="l">
                  <Field label="Dashboard">
                    <Link external href={dashboardUrl(env.region, env.tenantId, env.environmentId)} ariaLabel={`CloudWatch dashboard of ${name} (opens a new tab)`}>
                      CloudWatch dashboard
                    </Link>
                  </Field>
                  <Field label="App credentials">
                    <Link href={hrefOf({ page: 'credentials', tenantId, environmentId })}>Manage app credentials</Link>
                  </Field>
                </SpaceBetween>
              </ColumnLayout>
            ) : null}
          </Container>
        )}
        {!unregistered && <NodesTable {...props} variant="container" />}
        {config.lifecycle && <LifecycleEnvironment {...props} />}
      </SpaceBetween>
    </ContentLayout>
  );
}
