import { useState } from 'react';
import Box from '@cloudscape-design/components/box';
import Button from '@cloudscape-design/components/button';
import Header from '@cloudscape-design/components/header';
import Modal from '@cloudscape-design/components/modal';
import SpaceBetween from '@cloudscape-design/components/space-between';
import StatusIndicator, { type StatusIndicatorProps } from '@cloudscape-design/components/status-indicator';
import Table from '@cloudscape-design/components/table';
import type { NodeSummary } from '../api';
import type { PageProps } from '../app';
import { ErrorAlert, toShownError, type ShownError } from '../errors';
import { useLoad } from '../use-load';

type Action = 'start' | 'stop' | 'reboot';

const stateType = (s: string): StatusIndicatorProps.Type =>
  s === 'running' ? 'success' : s === 'stopped' ? 'stopped' : s === 'pending' || s === 'stopping' ? 'in-progress' : s === 'no-instance' ? 'warning' : 'info';

const explain: Record<Action, string> = {
  start: 'starts its EC2 instance and resumes its Auto Scaling health checks.',
  stop: 'stops its EC2 instance (its data on EFS stays) and suspends Auto Scaling health checks so the group does not replace it. The node serves no requests until started again.',
  reboot: 'reboots its EC2 instance: the node is unavailable for a minute or two.',
};

/** The nodes of one environment: state, owner, endpoints; start / stop / reboot after a confirmation naming the node. */
export function NodesTable({ api, notify, tenantId, environmentId, variant }: PageProps & { tenantId: string; environmentId: string; variant: 'full-page' | 'container' }) {
  const { data, loading, error, reload } = useLoad(() => api.listNodes(tenantId, environmentId));
  const [selected, setSelected] = useState<NodeSummary[]>([]);
  const [confirm, setConfirm] = useState<{ node: NodeSummary; action: Action } | undefined>();
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<ShownError | undefined>();
  const node = selected[0];

  const run = async () => {
    if (!confirm) return;
    setBusy(true);
    setActionError(undefined);
    try {
      const out = await api.nodeAction(tenantId, environmentId, confirm.node.nodeId, confirm.action);
      notify({ type: 'success', header: `${confirm.action === 'reboot' ? 'Rebooting' : confirm.action === 'stop' ? 'Stopping' : 'Starting'} node ${out.nodeId}`, content: `Instance ${out.instanceIds.join(', ')}` });
      setConfirm(undefined);
      reload();
    } catch (e) {
      setActionError(toShownError(e));
    } finally {
      setBusy(false);
    }
  };
  const verb = (a: Action) => a[0].toUpperCase() + a.slice(1);

  return (
    <>
      {error && <ErrorAlert error={error} />}
      <Table<NodeSummary>
        variant={variant}
        loading={loading}
        loadingText="Loading nodes"
        items={data ?? []}
        trackBy="nodeId"
        selectionType="single"
        selectedItems={selected}
        onSelectionChange={(e) => setSelected(e.detail.selectedItems)}
        ariaLabels={{
          tableLabel: `Nodes of ${tenantId}/${environmentId}`,
          selectionGroupLabel: 'Node selection',
          itemSelectionLabel: (_s, n) => `Select node ${n.nodeId}`,
        }}
        header={
          <Header
            variant={variant === 'full-page' ? 'awsui-h1-sticky' : 'h2'}
            counter={data ? `(${data.length})` : undefined}
            description="Select a node to start, stop or reboot it."
            actions={
              <SpaceBetween direction="horizontal" size="xs">
                <Button iconName="refresh" ariaLabel="Refresh nodes" onClick={reload} />
                {(['start', 'stop', 'reboot'] as Action[]).map((a) => (
                  <Button key={a} disabled={!node || node.state === 'no-instance'} onClick={() => node && setConfirm({ node, action: a })}>
                    {verb(a)}
                  </Button>
                ))}
              </SpaceBetween>
            }
          >
            Nodes
          </Header>
        }
        columnDefinitions={[
          { id: 'node', header: 'Node', cell: (n) => n.nodeId, isRowHeader: true },
          { id: 'state', header: 'State', cell: (n) => <StatusIndicator type={stateType(n.state)}>{n.state}</StatusIndicator> },
          { id: 'member', header: 'Owner (member)', cell: (n) => n.memberId },
          { id: 'instance', header: 'Instance', cell: (n) => (n.instanceId ? `${n.instanceId}${n.instanceType ? ` (${n.instanceType})` : ''}` : '-') },
          {
            id: 'endpoints',
            header: 'Endpoints',
            cell: (n) =>
              n.endpoints ? (
                <SpaceBetween size="xxxs">
                  <Box variant="code">{n.endpoints.https}</Box>
                  <Box variant="code">{n.endpoints.wss}</Box>
                </SpaceBetween>
              ) : (
                'no public endpoint'
              ),
          },
        ]}
        empty={
          <Box textAlign="center" color="inherit" padding="l">
            <b>No nodes</b>
            <Box variant="p" color="inherit">This environment has no nodes.</Box>
          </Box>
        }
      />
      <Modal
        visible={!!confirm}
        onDismiss={() => { setConfirm(undefined); setActionError(undefined); }}
        header={confirm ? `${verb(confirm.action)} node ${confirm.node.nodeId}?` : ''}
        closeAriaLabel="Close dialog"
        footer={
          <Box float="right">
            <SpaceBetween direction="horizontal" size="xs">
              <Button variant="link" onClick={() => { setConfirm(undefined); setActionError(undefined); }}>
                Cancel
              </Button>
              <Button variant="primary" loading={busy} onClick={() => void run()}>
                {confirm ? `${verb(confirm.action)} ${confirm.node.nodeId}` : ''}
              </Button>
            </SpaceBetween>
          </Box>
        }
      >
        {confirm && (
          <SpaceBetween size="m">
            <Box variant="p">
              {verb(confirm.action)} node <b>{confirm.node.nodeId}</b> (instance {confirm.node.instanceId ?? '-'}, member {confirm.node.memberId}) of {tenantId}/{environmentId}: this {explain[confirm.action]}
            </Box>
            {actionError && <ErrorAlert error={actionError} />}
          </SpaceBetween>
        )}
      </Modal>
    </>
  );
}
