/**
 * Environment lifecycle through the control plane (shown only when config.json's `lifecycle` is
 * true): create an environment from its configuration (the schema of tenants.json's environment),
 * change it with a JSON merge patch, delete it (data kept per its removal policy), and follow the
 * deployments. The API validates; its errors are shown as they are, with the field.
 */
import { useState } from 'react';
import Box from '@cloudscape-design/components/box';
import Button from '@cloudscape-design/components/button';
import FormField from '@cloudscape-design/components/form-field';
import Header from '@cloudscape-design/components/header';
import Input from '@cloudscape-design/components/input';
import Modal from '@cloudscape-design/components/modal';
import SpaceBetween from '@cloudscape-design/components/space-between';
import StatusIndicator, { type StatusIndicatorProps } from '@cloudscape-design/components/status-indicator';
import Table from '@cloudscape-design/components/table';
import Textarea from '@cloudscape-design/components/textarea';
import type { Deployment, ManagementApi } from '../api';
import type { Notify, PageProps } from '../app';
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
          <>
            <FormField label="Tenant id" errorText={error?.field === 'tenant' ? error.message : undefined}>
              <Input value={t} onChange={(x) => setT(x.detail.value)} />
            </FormField>
            <FormField label="Environment id" errorText={error?.field === 'environment' ? error.message : undefined}>
              <Input value={e} onChange={(x) => setE(x.detail.value)} />
            </FormField>
          </>
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
          }}
        />
      )}
    </>
  );
}

const deploymentType = (s: Deployment['status']): StatusIndicatorProps.Type => (s === 'ready' ? 'success' : s === 'failed' ? 'error' : s === 'queued' ? 'pending' : 'in-progress');

export function LifecycleEnvironment({ api, notify, tenantId, environmentId }: PageProps & { tenantId: string; environmentId: string }) {
  const name = `${tenantId}/${environmentId}`;
  const deployments = useLoad(() => api.listDeployments(tenantId, environmentId));
  const [dialog, setDialog] = useState<'change' | 'delete' | undefined>();
  const [confirmText, setConfirmText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ShownError | undefined>();
  const remove = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const out = await api.deleteEnvironment(tenantId, environmentId);
      notify({ type: 'success', header: `Deleting ${name}`, content: `Deployment ${out.deploymentId} is ${out.status}; data is kept per the environment's removal policy.` });
      setDialog(undefined);
      deployments.reload();
    } catch (e) {
      setError(toShownError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      {deployments.error && <ErrorAlert error={deployments.error} />}
      <Table<Deployment>
        variant="container"
        loading={deployments.loading}
        loadingText="Loading deployments"
        items={deployments.data ?? []}
        trackBy="deploymentId"
        ariaLabels={{ tableLabel: `Deployments of ${name}` }}
        header={
          <Header
            variant="h2"
            description="Newest first."
            actions={
              <SpaceBetween direction="horizontal" size="xs">
                <Button iconName="refresh" ariaLabel="Refresh deployments" onClick={deployments.reload} />
                <Button onClick={() => setDialog('change')}>Change</Button>
                <Button onClick={() => { setConfirmText(''); setError(undefined); setDialog('delete'); }}>Delete</Button>
              </SpaceBetween>
            }
          >
            Deployments
          </Header>
        }
        columnDefinitions={[
          { id: 'id', header: 'Deployment', cell: (d) => d.deploymentId, isRowHeader: true },
          { id: 'action', header: 'Action', cell: (d) => d.action },
          { id: 'status', header: 'Status', cell: (d) => <StatusIndicator type={deploymentType(d.status)}>{d.status}</StatusIndicator> },
          { id: 'version', header: 'Config version', cell: (d) => d.configVersion },
          { id: 'updated', header: 'Updated', cell: (d) => d.updatedAt },
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
          onSubmit={async (patch) => {
            const out = await api.patchEnvironment(tenantId, environmentId, patch);
            notify({ type: 'success', header: `Changing ${name}`, content: `Deployment ${out.deploymentId} (config version ${out.configVersion}) is ${out.status}.` });
            deployments.reload();
          }}
        />
      )}
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
              <Button variant="primary" disabled={confirmText !== environmentId} loading={busy} onClick={() => void remove()}>
                Delete
              </Button>
            </SpaceBetween>
          </Box>
        }
      >
        <SpaceBetween size="m">
          <Box variant="p">Its stack is deleted; file systems, keys, secrets and logs are kept per its removal policy.</Box>
          <FormField label={`Type ${environmentId} to confirm`}>
            <Input value={confirmText} onChange={(e) => setConfirmText(e.detail.value)} />
          </FormField>
          {error && <ErrorAlert error={error} />}
        </SpaceBetween>
      </Modal>
    </>
  );
}
