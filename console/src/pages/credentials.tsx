import { useState } from 'react';
import Box from '@cloudscape-design/components/box';
import Button from '@cloudscape-design/components/button';
import Form from '@cloudscape-design/components/form';
import FormField from '@cloudscape-design/components/form-field';
import Header from '@cloudscape-design/components/header';
import Input from '@cloudscape-design/components/input';
import Modal from '@cloudscape-design/components/modal';
import Select from '@cloudscape-design/components/select';
import SpaceBetween from '@cloudscape-design/components/space-between';
import StatusIndicator from '@cloudscape-design/components/status-indicator';
import Table from '@cloudscape-design/components/table';
import type { Credential, SecretAnswer } from '../api';
import type { PageProps } from '../app';
import { ErrorAlert, toShownError, type ShownError } from '../errors';
import { useLoad } from '../use-load';
import { SecretDialog } from './secret-dialog';

const day = (iso: string) => iso.slice(0, 10);

/** App credentials of one environment: list (never secrets), create, regenerate, revoke. */
export function CredentialsPage({ api, notify, tenantId, environmentId }: PageProps & { tenantId: string; environmentId: string }) {
  const name = `${tenantId}/${environmentId}`;
  const creds = useLoad(() => api.listCredentials(tenantId, environmentId));
  const env = useLoad(() => api.getEnvironment(tenantId, environmentId));
  const members = [...new Set(Object.values(env.data?.nodes ?? {}))].sort();
  const [selected, setSelected] = useState<Credential[]>([]);
  const [creating, setCreating] = useState(false);
  const [confirm, setConfirm] = useState<'revoke' | 'regenerate' | undefined>();
  // The one-time answer; dropped (set to undefined) when its dialog closes.
  const [answer, setAnswer] = useState<{ value: SecretAnswer; regenerated: boolean } | undefined>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ShownError | undefined>();
  const [member, setMember] = useState<string | undefined>();
  const [days, setDays] = useState('');
  const [description, setDescription] = useState('');
  const current = selected[0];

  const closeForm = () => {
    setCreating(false);
    setConfirm(undefined);
    setError(undefined);
  };
  const create = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const body = { memberId: member ?? '', ...(days.trim() ? { lifetimeDays: Number(days) } : {}), ...(description.trim() ? { description: description.trim() } : {}) };
      const out = await api.createCredential(tenantId, environmentId, body);
      closeForm();
      setMember(undefined);
      setDays('');
      setDescription('');
      setAnswer({ value: out, regenerated: false });
      creds.reload();
    } catch (e) {
      setError(toShownError(e));
    } finally {
      setBusy(false);
    }
  };
  const act = async () => {
    if (!current || !confirm) return;
    setBusy(true);
    setError(undefined);
    try {
      if (confirm === 'revoke') {
        await api.revokeCredential(tenantId, environmentId, current.id);
        notify({ type: 'success', header: `Credential ${current.id} revoked`, content: 'Requests with it are refused within seconds (the gates refresh their revocation list).' });
      } else {
        const out = await api.regenerateCredential(tenantId, environmentId, current.id);
        setAnswer({ value: out, regenerated: true });
      }
      closeForm();
      setSelected([]);
      creds.reload();
    } catch (e) {
      setError(toShownError(e));
    } finally {
      setBusy(false);
    }
  };
  const fieldError = (f: string) => (error?.field === f ? error.message : undefined);

  return (
    <SpaceBetween size="l">
      {creds.error && <ErrorAlert error={creds.error} />}
      <Table<Credential>
        variant="full-page"
        loading={creds.loading}
        loadingText="Loading app credentials"
        items={creds.data ?? []}
        trackBy="id"
        selectionType="single"
        selectedItems={selected}
        onSelectionChange={(e) => setSelected(e.detail.selectedItems)}
        isItemDisabled={(c) => c.revoked}
        ariaLabels={{ tableLabel: `App credentials of ${name}`, selectionGroupLabel: 'Credential selection', itemSelectionLabel: (_s, c) => `Select credential ${c.id}` }}
        header={
          <Header
            variant="awsui-h1-sticky"
            counter={creds.data ? `(${creds.data.length})` : undefined}
            description={`Credentials that dApps use to call the nodes of ${name}. Secrets are never listed: they are shown once, when created or regenerated.`}
            actions={
              <SpaceBetween direction="horizontal" size="xs">
                <Button iconName="refresh" ariaLabel="Refresh credentials" onClick={creds.reload} />
                <Button disabled={!current} onClick={() => setConfirm('revoke')}>
                  Revoke
                </Button>
                <Button disabled={!current} onClick={() => setConfirm('regenerate')}>
                  Regenerate
                </Button>
                <Button variant="primary" onClick={() => setCreating(true)}>
                  Create credential
                </Button>
              </SpaceBetween>
            }
          >
            App credentials
          </Header>
        }
        columnDefinitions={[
          { id: 'id', header: 'Credential id', cell: (c) => c.id, isRowHeader: true },
          { id: 'member', header: 'Member', cell: (c) => c.memberId },
          { id: 'description', header: 'Description', cell: (c) => c.description ?? '-' },
          { id: 'created', header: 'Created', cell: (c) => day(c.createdAt) },
          { id: 'expires', header: 'Expires', cell: (c) => day(c.expiresAt) },
          {
            id: 'status',
            header: 'Status',
            cell: (c) =>
              c.revoked ? <StatusIndicator type="stopped">{`Revoked${c.revokedAt ? ` ${day(c.revokedAt)}` : ''}`}</StatusIndicator> : Date.parse(c.expiresAt) < Date.now() ? <StatusIndicator type="warning">Expired</StatusIndicator> : <StatusIndicator type="success">Active</StatusIndicator>,
          },
        ]}
        empty={
          <Box textAlign="center" color="inherit" padding="l">
            <b>No app credentials</b>
            <Box variant="p" color="inherit">Create one for a member to let its dApps call its nodes.</Box>
          </Box>
        }
      />
      <Modal visible={creating} onDismiss={closeForm} header={`Create an app credential in ${name}`} closeAriaLabel="Close dialog">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void create();
          }}
        >
          <Form
            actions={
              <SpaceBetween direction="horizontal" size="xs">
                <Button formAction="none" variant="link" onClick={closeForm}>
                  Cancel
                </Button>
                <Button variant="primary" formAction="submit" loading={busy}>
                  Create
                </Button>
              </SpaceBetween>
            }
          >
            <SpaceBetween size="m">
              {error && <ErrorAlert error={error} />}
              <FormField label="Member" description="The member whose nodes the credential opens." errorText={fieldError('memberId')}>
                <Select
                  selectedOption={member ? { value: member, label: member } : null}
                  onChange={(e) => setMember(e.detail.selectedOption.value)}
                  options={members.map((m) => ({ value: m, label: m }))}
                  placeholder="Choose a member"
                  statusType={env.loading ? 'loading' : 'finished'}
                  loadingText="Loading members"
                  empty="This environment has no members"
                />
              </FormField>
              <FormField label="Lifetime in days" description="Optional: the environment's default when empty." errorText={fieldError('lifetimeDays')}>
                <Input type="number" inputMode="numeric" value={days} onChange={(e) => setDays(e.detail.value)} />
              </FormField>
              <FormField label="Description" description="Optional: what uses it (never put a secret here)." errorText={fieldError('description')}>
                <Input value={description} onChange={(e) => setDescription(e.detail.value)} />
              </FormField>
            </SpaceBetween>
          </Form>
        </form>
      </Modal>
      <Modal
        visible={!!confirm && !!current}
        onDismiss={closeForm}
        closeAriaLabel="Close dialog"
        header={current && confirm ? `${confirm === 'revoke' ? 'Revoke' : 'Regenerate'} credential ${current.id}?` : ''}
        footer={
          <Box float="right">
            <SpaceBetween direction="horizontal" size="xs">
              <Button variant="link" onClick={closeForm}>
                Cancel
              </Button>
              <Button variant="primary" loading={busy} onClick={() => void act()}>
                {confirm === 'revoke' ? 'Revoke' : 'Regenerate'}
              </Button>
            </SpaceBetween>
          </Box>
        }
      >
        {current && (
          <SpaceBetween size="m">
            <Box variant="p">
              {confirm === 'revoke'
                ? `Revoke ${current.id} of member ${current.memberId}: every dApp using it is refused from now on. This cannot be undone.`
                : `Give ${current.id} of member ${current.memberId} a new secret: the old secret stops working at once, so update every dApp that uses it.`}
            </Box>
            {error && <ErrorAlert error={error} />}
          </SpaceBetween>
        )}
      </Modal>
      {answer && <SecretDialog answer={answer.value} regenerated={answer.regenerated} onClose={() => setAnswer(undefined)} />}
    </SpaceBetween>
  );
}
