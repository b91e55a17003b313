import { useState } from 'react';
import Box from '@cloudscape-design/components/box';
import Button from '@cloudscape-design/components/button';
import Container from '@cloudscape-design/components/container';
import CopyToClipboard from '@cloudscape-design/components/copy-to-clipboard';
import Form from '@cloudscape-design/components/form';
import FormField from '@cloudscape-design/components/form-field';
import Header from '@cloudscape-design/components/header';
import Input from '@cloudscape-design/components/input';
import SpaceBetween from '@cloudscape-design/components/space-between';
import type { ConsoleConfig } from '../../../lib/contracts/console-config';
import type { CognitoSignIn, SignInStep, SignedInSession } from '../auth/cognito';
import { ErrorAlert, toShownError, type ShownError } from '../errors';

type Step = Exclude<SignInStep, { kind: 'signed-in' }> | { kind: 'password' };

/**
 * Sign-in: user name and password (proven with SRP, never sent), then whatever Cognito asks:
 * the authenticator code, a new password on first sign-in, authenticator enrollment.
 */
export function SignInPage({ signIn, config, notice, onSignedIn }: { signIn: CognitoSignIn; config: ConsoleConfig; notice?: string | undefined; onSignedIn: (s: SignedInSession) => void }) {
  const [step, setStep] = useState<Step>({ kind: 'password' });
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [newPassword, setNewPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ShownError | undefined>();

  const run = async (f: () => Promise<SignInStep>) => {
    setBusy(true);
    setError(undefined);
    try {
      const next = await f();
      setPassword('');
      setCode('');
      setNewPassword('');
      if (next.kind === 'signed-in') onSignedIn(next.session);
      else setStep(next);
    } catch (e) {
      setError(toShownError(e));
      setCode('');
    } finally {
      setBusy(false);
    }
  };
  const submit = () => {
    if (step.kind === 'password') return run(() => signIn.start(username.trim(), password));
    if (step.kind === 'totp') return run(() => signIn.totp(step, code.trim()));
    if (step.kind === 'new-password') return run(() => signIn.newPassword(step, newPassword));
    return run(() => signIn.verifyTotpSetup(step, code.trim()));
  };
  const title = { password: 'Sign in', totp: 'Authenticator code', 'new-password': 'Choose a new password', 'mfa-setup': 'Set up your authenticator app' }[step.kind];

  return (
    <main className="sign-in">
      <Box padding={{ vertical: 'xxxl', horizontal: 'l' }}>
        <div className="sign-in-card">
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void submit();
            }}
          >
            <Form
              header={<Header variant="h1" description="Blockchain tenancy console">{title}</Header>}
              actions={
                <SpaceBetween direction="horizontal" size="xs">
                  {step.kind !== 'password' && (
                    <Button formAction="none" onClick={() => { setStep({ kind: 'password' }); setError(undefined); }}>
                      Start over
                    </Button>
                  )}
                  <Button variant="primary" loading={busy} formAction="submit">
                    {step.kind === 'password' ? 'Sign in' : 'Continue'}
                  </Button>
                </SpaceBetween>
              }
            >
              <Container>
                <SpaceBetween size="l">
                  {notice && step.kind === 'password' && <Box variant="p" color="text-status-info">{notice}</Box>}
                  {error && <ErrorAlert error={error} />}
                  {step.kind === 'password' && (
                    <SpaceBetween size="l">
                      <FormField label="User name">
                        <Input value={username} onChange={(e) => setUsername(e.detail.value)} autoComplete="username" autoFocus disabled={busy} />
                      </FormField>
                      <FormField label="Password">
                        <Input type="password" value={password} onChange={(e) => setPassword(e.detail.value)} autoComplete="current-password" disabled={busy} />
                      </FormField>
                    </SpaceBetween>
                  )}
                  {step.kind === 'totp' && (
                    <FormField label="Code from your authenticator app" description="Six digits; a new one every 30 seconds.">
                      <Input value={code} onChange={(e) => setCode(e.detail.value)} inputMode="numeric" autoComplete="one-time-code" autoFocus disabled={busy} />
                    </FormField>
                  )}
                  {step.kind === 'new-password' && (
                    <FormField label="New password" description="Your administrator set a temporary password: choose your own (the user pool's password policy applies).">
                      <Input type="password" value={newPassword} onChange={(e) => setNewPassword(e.detail.value)} autoComplete="new-password" autoFocus disabled={busy} />
                    </FormField>
                  )}
                  {step.kind === 'mfa-setup' && (
                    <SpaceBetween size="l">
                      <Box variant="p">
                        This console requires multi-factor authentication. Add this secret key to an authenticator app (time-based, 6 digits, 30 seconds), then enter the code it shows.
                      </Box>
                      <FormField label="Secret key">
                        <span data-secret="totp-key">
                          <CopyToClipboard variant="inline" textToCopy={step.secretCode} copyButtonAriaLabel="Copy secret key" copySuccessText="Secret key copied" copyErrorText="Secret key not copied" />
                        </span>
                      </FormField>
                      <FormField label="Setup URI" description="For apps that accept otpauth:// links.">
                        <CopyToClipboard
                          variant="inline"
                          textToDisplay="otpauth://totp/…"
                          textToCopy={`otpauth://totp/${encodeURIComponent(`Blockchain tenancy:${step.username}`)}?secret=${step.secretCode}&issuer=${encodeURIComponent('Blockchain tenancy')}`}
                          copyButtonAriaLabel="Copy setup URI"
                          copySuccessText="Setup URI copied"
                          copyErrorText="Setup URI not copied"
                        />
                      </FormField>
                      <FormField label="Code from your authenticator app">
                        <Input value={code} onChange={(e) => setCode(e.detail.value)} inputMode="numeric" autoComplete="one-time-code" disabled={busy} />
                      </FormField>
                    </SpaceBetween>
                  )}
                  <Box variant="small" color="text-body-secondary">
                    Region {config.region}. Your session lives in this tab only: reloading or closing it signs you out.
                  </Box>
                </SpaceBetween>
              </Container>
            </Form>
          </form>
        </div>
      </Box>
    </main>
  );
}
