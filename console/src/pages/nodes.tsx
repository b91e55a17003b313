import type { PageProps } from '../app';
import { NodesTable } from './nodes-table';

export function NodesPage(props: PageProps & { tenantId: string; environmentId: string }) {
  return <NodesTable {...props} variant="full-page" />;
}
