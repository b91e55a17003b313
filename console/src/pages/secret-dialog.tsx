import Alert from '@cloudscape-design/components/alert';
import Box from '@cloudscape-design/components/box';
import Button from '@cloudscape-design/components/button';
import CopyToClipboard from '@cloudscape-design/components/copy-to-clipboard';
import FormField from '@cloudscape-design/components/form-field';
import Modal from '@cloudscape-design/components/modal';
import SpaceBetween from '@cloudscape-design/components/space-between';
import Tabs from '@cloudscape-design/components/tabs';
import { connectionSnippets, withoutCredential } from '../../../lib/contracts/connection-snippets';
import type { SecretAnswer } from '../api';

/**
 * The one-time secret of a created or regenerated credential, with copy buttons and connection
 * snippets. The parent drops the answer from its state when this closes: the secret is then gone
 * from the page (the API never returns it again).
 */
export function SecretDialog({ answer, regenerated, onClose }: { answer: SecretAnswer; regenerated: boolean; onClose: () => void }) {
  const { credential, secret, urls } = answer;
  const reachable = urls.filter((u) => u.https && u.wss);
  return (
    <Modal
      visible
      size="large"
      onDismiss={onClose}
      closeAriaLabel="Close dialog (the secret is not shown again)"
      header={regenerated ? `New secret of ${credential.id}` : `Credential ${credential.id} created`}
      footer={
        <Box float="right">
          <Button variant="primary" onClick={onClose}>
            I have saved the secret
          </Button>
        </Box>
      }
    >
      <SpaceBetween size="l">
        <Alert type="warning" header="Copy the secret now">
          It is shown once and stored nowhere (only its argon2id hash is kept). When this dialog closes it is gone; {regenerated ? 'the old secret no longer works.' : 'if you lose it, regenerate the credential.'}
        </Alert>
        <FormField label="Credential id">
          <CopyToClipboard variant="inline" textToCopy={credential.id} copyButtonAriaLabel="Copy credential id" copySuccessText="Credential id copied" copyErrorText="Credential id not copied" />
        </FormField>
        <FormField label="Secret">
          <span data-secret="secret">
            <CopyToClipboard variant="inline" textToCopy={secret} copyButtonAriaLabel="Copy secret" copySuccessText="Secret copied" copyErrorText="Secret not copied" />
          </span>
        </FormField>
        <FormField label="Authorization header" description="Send it with every JSON-RPC request (HTTP, and the WebSocket upgrade).">
          <CopyToClipboard
            variant="inline"
            textToCopy={`Authorization: Basic ${btoa(`${credential.id}:${secret}`)}`}
            textToDisplay="Authorization: Basic …"
            copyButtonAriaLabel="Copy Authorization header"
            copySuccessText="Header copied"
            copyErrorText="Header not copied"
          />
        </FormField>
        {reachable.length === 0 ? (
          <Box variant="p">The member&apos;s nodes have no public endpoint (the environment has no ingress): connect from inside its network.</Box>
        ) : (
          <Tabs
            ariaLabel="Connection snippets by node"
            tabs={reachable.map((u) => ({
              id: u.node,
              label: u.node,
              content: (
                <SpaceBetween size="m">
                  <Box variant="p">
                    HTTP <Box variant="code">{withoutCredential(u.https!)}</Box> and WebSocket <Box variant="code">{withoutCredential(u.wss!)}</Box>
                  </Box>
                  {connectionSnippets(credential.id, secret, u).map((s) => {
                    const label = `${s.library}, ${s.transport}`;
                    return (
                      <FormField
                        key={label}
                        label={label}
                        secondaryControl={<CopyToClipboard variant="icon" textToCopy={s.code} copyButtonAriaLabel={`Copy ${label} snippet for ${u.node}`} copySuccessText="Snippet copied" copyErrorText="Snippet not copied" />}
                      >
                        <Box variant="code">
                          <pre className="snippet" data-secret="snippet">{s.code}</pre>
                        </Box>
                      </FormField>
                    );
                  })}
                </SpaceBetween>
              ),
            }))}
          />
        )}
      </SpaceBetween>
    </Modal>
  );
}
