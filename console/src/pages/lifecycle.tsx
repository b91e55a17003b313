/**
 * Environment lifecycle through the control plane (shown only when config.json's `lifecycle` is
 * true): create an environment from its configuration (the schema of tenants.json's environment),
 * change it with a JSON merge patch, delete it (data kept per its removal policy), and follow the
 * deployments. The API validates; its errors are shown as they are, with the field.
 */
import { useEffect, useState } from 'react';
import Box from '@cloudscape-design/components/box';
import Alert from '@cloudscape-design/components/alert';
import Button from '@cloudscape-design/components/button';
import Checkbox from '@cloudscape-design/components/checkbox';
import FormField from '@cloudscape-design/components/form-field';
import Header from '@cloudscape-design/components/header';
import Input from '@cloudscape-design/components/input';
import Modal from '@cloudscape-design/components/modal';
import Select from '@cloudscape-design/components/select';
import SpaceBetween from '@cloudscape-design/components/space-between';
import StatusIndicator, { type StatusIndicatorProps } from '@cloudscape-design/components/status-indicator';
import Table from '@cloudscape-design/components/table';
import Textarea from '@cloudscape-design/components/textarea';
import type { Deployment, ManagementApi } from '../api';
import { hrefOf, type Notify, type PageProps } from '../app';
import { ErrorAlert, toShownError, type ShownError } from '../errors';
import { useLoad } from '../use-load';

function parseJson(text: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw Object.assign(new Error(`not valid JSON: ${(e as Error).message}`), { name: 'BadRequest' });
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw Object.assign(new Error('give a JSON object'), { name: 'BadRequest' });
  return v as Record<string, unknown>;
}

function JsonDialog(props: { title: string; label: string; description: string; initial: string; submitText: string; ids?: boolean; onClose: () => void; onSubmit: (json: Record<string, unknown>, ids: { t: string; e: string }) => Promise<void> }) {
  const [text, setText] = useState(props.initial);
  const [t, setT] = useState('');
  const [e, setE] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ShownError | undefined>();
  const submit = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await props.onSubmit(parseJson(text), { t: t.trim(), e: e.trim() });
      props.onClose();
    } catch (err) {
      setError(toShownError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      visible
      size="large"
      onDismiss={props.onClose}
      closeAriaLabel="Close dialog"
      header={props.title}
      footer={
        <Box float="right">
          <SpaceBetween direction="horizontal" size="xs">
            <Button variant="link" onClick={props.onClose}>
              Cancel
            </Button>
            <Button variant="primary" loading={busy} onClick={() => void submit()}>
              {props.submitText}
            </Button>
          </SpaceBetween>
        </Box>
      }
    >
      <SpaceBetween size="m">
        {error && <ErrorAlert error={error} />}
        {props.ids && (
          <SpaceBetween size="m">
            <FormField label="Tenant id" errorText={error?.field === 'tenant' ? error.message : undefined}>
              <Input value={t} onChange={(x) => setT(x.detail.value)} />
            </FormField>
            <FormField label="Environment id" errorText={error?.field === 'environment' ? error.message : undefined}>
              <Input value={e} onChange={(x) => setE(x.detail.value)} />
            </FormField>
          </SpaceBetween>
        )}
        <FormField label={props.label} description={props.description} stretch>
          <Textarea value={text} onChange={(x) => setText(x.detail.value)} rows={16} spellcheck={false} />
        </FormField>
      </SpaceBetween>
    </Modal>
  );
}

export function LifecycleCreate({ api, notify, onDone }: { api: ManagementApi; notify: Notify; onDone: () => void }) {
  const [open, setOpen] = useState(false);
  // One key per dialog: a retried submit of the same body is answered once by the API.
  const [key, setKey] = useState('');
  return (
    <>
      <Button variant="primary" onClick={() => { setKey(crypto.randomUUID()); setOpen(true); }}>
        Create environment
      </Button>
      {open && (
        <JsonDialog
          ids
          title="Create environment"
          label="Environment configuration (JSON)"
          description="The environment's configuration, as in tenants.json (nodes, chain, ingress, ...)."
          initial={'{\n  "nodes": []\n}'}
          submitText="Create"
          onClose={() => setOpen(false)}
          onSubmit={async (json, { t, e }) => {
            const out = await api.createEnvironment(t, e, json, key);
            notify({ type: 'success', header: `Creating ${t}/${e}`, content: `Deployment ${out.deploymentId} is ${out.status}.` });
            onDone();
            // Its page follows the deployment (the environment is listed once its stack is deployed).
            window.location.hash = hrefOf({ page: 'environment', tenantId: t, environmentId: e }).replace(/^#/, '');
          }}
        />
      )}
    </>
  );
}

/** How often a running deployment's status is read again. */
const POLL_MS = 3000;
const running = (d: Deployment) => d.status === 'queued' || d.status === 'deploying';

const deploymentType = (s: Deployment['status']): StatusIndicatorProps.Type => (s === 'ready' ? 'success' : s === 'failed' ? 'error' : s === 'queued' ? 'pending' : 'in-progress');

export function LifecycleEnvironment({ api, notify, tenantId, environmentId }: PageProps & { tenantId: string; environmentId: string }) {
  const name = `${tenantId}/${environmentId}`;
  const deployments = useLoad(() => api.listDeployments(tenantId, environmentId));
  const [dialog, setDialog] = useState<'change' | 'delete' | 'add-node' | 'remove-node' | undefined>();
  const [confirmText, setConfirmText] = useState('');
  const [purge, setPurge] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ShownError | undefined>();
  const [nodeIds, setNodeIds] = useState<string[] | undefined>();
  const [nodeToRemove, setNodeToRemove] = useState<string | undefined>();
  const items = deployments.data ?? [];
  const active = items.find(running);
  // While a deployment is queued or deploying, its status is read again every POLL_MS (without
  // the table's loading state); polling stops when none is running or a read fails.
  useEffect(() => {
    if (!active || deployments.error) return;
    const timer = setTimeout(deployments.refresh, POLL_MS);
    return () => clearTimeout(timer);
  }, [deployments.data, deployments.error]);
  const latest = active ?? items[0];
  // An environment deployed with `cdk deploy` (never through the API) has no stored config: the
  // control plane answers 404, and there is nothing to change here until its config is imported.
  const unmanaged = deployments.error?.status === 404;
  // A ready delete ends the environment (its history stays): no more changes from this page.
  const deleted = !active && latest?.action === 'delete' && latest.status === 'ready';
  const done = async (what: string, out: { deploymentId: string; status: string; configVersion?: number }) => {
    notify({ type: 'success', header: `${what} ${name}`, content: `Deployment ${out.deploymentId}${out.configVersion ? ` (config version ${out.configVersion})` : ''} is ${out.status}.` });
    setDialog(undefined);
    deployments.reload();
  };
  const act = async (run: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await run();
    } catch (e) {
      setError(toShownError(e));
    } finally {
      setBusy(false);
    }
  };
  const openRemoveNode = () => {
    setError(undefined);
    setNodeIds(undefined);
    setNodeToRemove(undefined);
    setDialog('remove-node');
    api.getConfig(tenantId, environmentId).then(
      (c) => setNodeIds(((c.config.chain as { nodes?: { id: string }[] } | undefined)?.nodes ?? []).map((n) => n.id)),
      (e: unknown) => setError(toShownError(e)),
    );
  };
  return (
    <>
      {unmanaged ? (
        <Alert type="info" header="Not managed by the control plane">
          {`${name} was deployed with cdk deploy, so the control plane holds no configuration for it. To change it here, import its configuration first: blockchain-tenancy config import tenants.json.`}
        </Alert>
      ) : (
        deployments.error && <ErrorAlert error={deployments.error} />
      )}
      <div role="status" aria-live="polite" aria-atomic="true">
        {latest && (
          <Box variant="p">
            <StatusIndicator type={deploymentType(latest.status)}>
              {latest.status === 'failed'
                ? `Deployment ${latest.deploymentId} (${latest.action}) failed${latest.reason ? `: ${latest.reason}` : '.'}`
                : `Deployment ${latest.deploymentId} (${latest.action}) is ${latest.status}.`}
            </StatusIndicator>
            {active && ` This page reads its status every ${POLL_MS / 1000} s.`}
            {deleted && ` ${name} is deleted${latest.purge ? ' and its data destroyed' : ''}.`}
          </Box>
        )}
      </div>
      <Table<Deployment>
        variant="container"
        loading={deployments.loading}
        loadingText="Loading deployments"
        items={items}
        trackBy="deploymentId"
        wrapLines
        ariaLabels={{ tableLabel: `Deployments of ${name}` }}
        header={
          <Header
            variant="h2"
            description="Newest first."
            actions={
              <SpaceBetween direction="horizontal" size="xs">
                <Button iconName="refresh" ariaLabel="Refresh deployments" onClick={deployments.reload} />
                {!deleted && !unmanaged && (
                  <>
                    <Button onClick={() => setDialog('add-node')}>Add node</Button>
                    <Button onClick={openRemoveNode}>Remove node</Button>
                    <Button onClick={() => setDialog('change')}>Change</Button>
                    <Button onClick={() => { setConfirmText(''); setPurge(false); setError(undefined); setDialog('delete'); }}>Delete</Button>
                  </>
                )}
              </SpaceBetween>
            }
          >
            Deployments
          </Header>
        }
        columnDefinitions={[
          { id: 'id', header: 'Deployment', cell: (d) => d.deploymentId, isRowHeader: true, width: 300 },
          { id: 'action', header: 'Action', cell: (d) => d.action, width: 100 },
          { id: 'status', header: 'Status', cell: (d) => <StatusIndicator type={deploymentType(d.status)}>{d.status}</StatusIndicator>, width: 130 },
          { id: 'version', header: 'Config version', cell: (d) => d.configVersion, width: 140 },
          { id: 'updated', header: 'Updated', cell: (d) => d.updatedAt, width: 230 },
          { id: 'reason', header: 'Reason', cell: (d) => d.reason ?? '-' },
        ]}
        empty={<Box textAlign="center" padding="l">No deployments yet</Box>}
      />
      {dialog === 'change' && (
        <JsonDialog
          title={`Change ${name}`}
          label="JSON merge patch (RFC 7396) of the configuration"
          description="Only the fields to change; null removes a field. Changes that would replace a node's file system or fork the chain are refused."
          initial="{}"
          submitText="Deploy change"
          onClose={() => setDialog(undefined)}
          onSubmit={async (patch) => done('Changing', await api.patchEnvironment(tenantId, environmentId, patch))}
        />
      )}
      {dialog === 'add-node' && (
        <JsonDialog
          title={`Add a node to ${name}`}
          label="The node (JSON)"
          description="As in the configuration's chain.nodes: id, member, role (validator or member), optional instanceType."
          initial={'{\n  "id": "",\n  "member": "",\n  "role": "member"\n}'}
          submitText="Add node"
          onClose={() => setDialog(undefined)}
          onSubmit={async (node) => done('Adding a node to', await api.addNode(tenantId, environmentId, node))}
        />
      )}
      <Modal
        visible={dialog === 'remove-node'}
        onDismiss={() => setDialog(undefined)}
        closeAriaLabel="Close dialog"
        header={nodeToRemove ? `Remove node ${nodeToRemove} from ${name}?` : `Remove a node from ${name}`}
        footer={
          <Box float="right">
            <SpaceBetween direction="horizontal" size="xs">
              <Button variant="link" onClick={() => setDialog(undefined)}>
                Cancel
              </Button>
              <Button variant="primary" disabled={!nodeToRemove} loading={busy} onClick={() => void act(async () => done(`Removing node ${nodeToRemove} from`, await api.removeNode(tenantId, environmentId, nodeToRemove!)))}>
                {nodeToRemove ? `Remove ${nodeToRemove}` : 'Remove'}
              </Button>
            </SpaceBetween>
          </Box>
        }
      >
        <SpaceBetween size="m">
          <Box variant="p">The deployment removes the node's instance and route; its file system follows the environment's removal policy (kept by default).</Box>
          <FormField label="Node">
            <Select
              selectedOption={nodeToRemove ? { value: nodeToRemove, label: nodeToRemove } : null}
              options={(nodeIds ?? []).map((id) => ({ value: id, label: id }))}
              statusType={nodeIds ? 'finished' : 'loading'}
              loadingText="Loading the configuration"
              placeholder="Choose a node"
              onChange={(e) => setNodeToRemove(e.detail.selectedOption.value)}
            />
          </FormField>
          {error && <ErrorAlert error={error} />}
        </SpaceBetween>
      </Modal>
      <Modal
        visible={dialog === 'delete'}
        onDismiss={() => setDialog(undefined)}
        closeAriaLabel="Close dialog"
        header={`Delete environment ${name}?`}
        footer={
          <Box float="right">
            <SpaceBetween direction="horizontal" size="xs">
              <Button variant="link" onClick={() => setDialog(undefined)}>
                Cancel
              </Button>
              <Button
                variant="primary"
                disabled={confirmText !== environmentId}
                loading={busy}
                onClick={() => void act(async () => done('Deleting', await api.deleteEnvironment(tenantId, environmentId, purge ? { confirm: confirmText } : undefined)))}
              >
                {purge ? 'Delete and destroy data' : 'Delete'}
              </Button>
            </SpaceBetween>
          </Box>
        }
      >
        <SpaceBetween size="m">
          <Box variant="p">
            {purge
              ? 'Its stack is deleted and its data destroyed: file systems, keys, secrets and logs. This cannot be undone.'
              : 'Its stack is deleted; file systems, keys, secrets and logs are kept per its removal policy.'}
          </Box>
          <Checkbox checked={purge} onChange={(e) => setPurge(e.detail.checked)} description="Destroys the data instead of keeping it per the removal policy.">
            Also destroy its data (purge)
          </Checkbox>
          <FormField label={`Type ${environmentId} to confirm`}>
            <Input value={confirmText} onChange={(e) => setConfirmText(e.detail.value)} />
          </FormField>
          {error && <ErrorAlert error={error} />}
        </SpaceBetween>
      </Modal>
    </>
  );
}
