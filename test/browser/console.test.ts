import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminInitiateAuthCommand,
  AdminSetUserPasswordCommand,
  AssociateSoftwareTokenCommand,
  CognitoIdentityProviderClient,
  CreateGroupCommand,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  SetUserMFAPreferenceCommand,
  SetUserPoolMfaConfigCommand,
  VerifySoftwareTokenCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { CognitoIdentityClient, CreateIdentityPoolCommand, GetCredentialsForIdentityCommand, GetIdCommand } from '@aws-sdk/client-cognito-identity';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { Browser, BrowserContext, Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialService } from '../../lambda/credentials/credential-service';
import { handleIssuer } from '../../lambda/issuer/handler';
import { ManagementDeps } from '../../lambda/management/api';
import { handleRecorder } from '../../lambda/management/control-plane/recorder';
import { prebuiltAssetDir } from '../../lib/assets/prebuilt-assets';
import { RecorderInput } from '../../lib/contracts/control-plane';
import { LocalControlPlane, createLocalControlPlane } from '../../lib/local/control-plane';
import { LocalSessionCredentials, ManagementServer, serveManagementApi } from '../../lib/local/management-server';
import { ensureChromium } from '../support/chromium';
import { ConsoleServer, serveConsole, totp } from '../support/console-server';
import { seedEnvironments } from '../support/management-fixture';
import { MOTO_CREDENTIALS, MOTO_REGION, MotoServer, startMoto } from '../support/moto';

// The web console (dist/assets/console, built by scripts/build-assets.ts) in a real Chromium
// (Debian's package, driven by playwright-core), served with the security headers CloudFront
// sends, talking to the real management handlers (lib/local/management-server.ts: SigV4 checked
// for real) on moto (SSM, EC2, Secrets Manager), signed in through the Cognito calls it makes in
// production (USER_SRP_AUTH, SOFTWARE_TOKEN_MFA, NEW_PASSWORD_REQUIRED, MFA_SETUP, then the identity
// pool's GetId + GetCredentialsForIdentity) answered by moto's cognito-idp and cognito-identity.
// The browser asks the production Cognito host names; the test routes those requests to moto.
//
// What moto does not check (so this test cannot): the SRP password proof (moto accepts any
// PASSWORD_CLAIM_SIGNATURE: a wrong password is refused only in AWS), the ID token the identity
// pool gets (moto hands every identity the same fixed key pair) and so the token-based role
// mapping from the user's tenant group to its role, and that role's IAM policy at API Gateway
// (the local API accepts the key pair; AWS evaluates grantManage's policy).
//
// The lifecycle pages (config.json lifecycle: true) talk to the same handlers with the control
// plane on the same moto (lib/local/control-plane.ts: its table and event bus). No engine runs
// here (no Step Functions, CodeBuild or CloudFormation deploy): the test plays the engine by
// calling the real recorder handler with the reports the state machine sends (started, then
// succeeded), and the console must follow them on its own (it polls a running deployment).

const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'console');
const PASSWORD = 'Correct-Horse-9-Battery';

describe('web console in Chromium: Cognito sign-in (moto), management API (real handlers on moto)', () => {
  let moto: MotoServer;
  let api: ManagementServer;
  let site: ConsoleServer;
  let lifecycleSite: ConsoleServer;
  let bobTotpSecret = '';
  /** The origin the local API answers CORS for (API Gateway's CORS names the console's one origin). */
  let consoleOrigin = '';
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let plane: LocalControlPlane;
  let idp: CognitoIdentityProviderClient;
  let userPoolId: string;
  let aliceTotpSecret: string;
  const ec2Calls: { command: string; input: unknown }[] = [];
  const apiRequests: { method: string; path: string; status: number }[] = [];
  const consoleLines: string[] = [];
  const pageErrors: string[] = [];
  const instances: Record<string, string> = {};
  let secret = '';
  let credentialId = '';
  const started = Date.now();


  beforeAll(async () => {
    rmSync(ARTIFACTS, { recursive: true, force: true });
    mkdirSync(ARTIFACTS, { recursive: true });
    const executablePath = ensureChromium();
    const consoleDir = prebuiltAssetDir('console');
    // moto checks TOTP codes only with this setting (one fixed secret for every user).
    moto = await startMoto({ MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP: 'true' });

    // Environments, their nodes (EC2 instances tagged as the constructs tag them), credentials.
    const ssm = new SSMClient(moto.clientConfig);
    const ec2 = new EC2Client(moto.clientConfig);
    ec2.middlewareStack.add((next, ctx) => async (args) => {
      ec2Calls.push({ command: String(ctx.commandName), input: args.input });
      return next(args);
    }, { step: 'initialize', name: 'recordCalls' });
    const sm = new SecretsManagerClient(moto.clientConfig);
    Object.assign(instances, await seedEnvironments(ssm, ec2));
    const services = new Map<string, CredentialService>();
    plane = await createLocalControlPlane(moto.clientConfig);
    const deps: ManagementDeps = {
      controlPlane: plane.deps,
      ssm,
      ec2: async () => ec2,
      autoscaling: async () => new AutoScalingClient(moto.clientConfig),
      log: () => undefined,
      invokeIssuer: async (arn, request) => {
        const [, tenantId, environmentId] = /issuer-([a-z0-9]+)-([a-z0-9]+)$/.exec(arn)!;
        if (!services.has(arn)) services.set(arn, new CredentialService({ secretsManager: sm, tenantId, environmentId }));
        return handleIssuer(services.get(arn)!, request);
      },
    };

    // The user pool as the hosting construct makes it: SRP sign-in, TOTP MFA required, groups.
    idp = new CognitoIdentityProviderClient(moto.clientConfig);
    const pool = await idp.send(
      new CreateUserPoolCommand({
        PoolName: 'console',
        Policies: { PasswordPolicy: { MinimumLength: 12, RequireUppercase: true, RequireLowercase: true, RequireNumbers: true, RequireSymbols: true } },
        AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      }),
    );
    userPoolId = pool.UserPool!.Id!;
    const client = await idp.send(new CreateUserPoolClientCommand({ UserPoolId: userPoolId, ClientName: 'console', GenerateSecret: false, ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'] }));
    const clientId = client.UserPoolClient!.ClientId!;
    await idp.send(new CreateGroupCommand({ UserPoolId: userPoolId, GroupName: 'tenant-acme' }));
    // alice: a confirmed user with an authenticator app enrolled.
    await idp.send(new AdminCreateUserCommand({ UserPoolId: userPoolId, Username: 'alice', TemporaryPassword: 'Temporary-Pass-1', MessageAction: 'SUPPRESS' }));
    await idp.send(new AdminSetUserPasswordCommand({ UserPoolId: userPoolId, Username: 'alice', Password: PASSWORD, Permanent: true }));
    await idp.send(new AdminAddUserToGroupCommand({ UserPoolId: userPoolId, Username: 'alice', GroupName: 'tenant-acme' }));
    const admin = await idp.send(new AdminInitiateAuthCommand({ UserPoolId: userPoolId, ClientId: clientId, AuthFlow: 'ADMIN_USER_PASSWORD_AUTH', AuthParameters: { USERNAME: 'alice', PASSWORD } }));
    const accessToken = admin.AuthenticationResult!.AccessToken!;
    aliceTotpSecret = (await idp.send(new AssociateSoftwareTokenCommand({ AccessToken: accessToken }))).SecretCode!;
    await idp.send(new VerifySoftwareTokenCommand({ AccessToken: accessToken, UserCode: totp(aliceTotpSecret) }));
    await idp.send(new SetUserMFAPreferenceCommand({ AccessToken: accessToken, SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true } }));
    await idp.send(new SetUserPoolMfaConfigCommand({ UserPoolId: userPoolId, MfaConfiguration: 'ON', SoftwareTokenMfaConfiguration: { Enabled: true } }));
    // bob: created by an administrator, first sign-in still to come (temporary password, no MFA yet).
    await idp.send(new AdminCreateUserCommand({ UserPoolId: userPoolId, Username: 'bob', TemporaryPassword: 'Temporary-Pass-2', MessageAction: 'SUPPRESS' }));
    await idp.send(new AdminAddUserToGroupCommand({ UserPoolId: userPoolId, Username: 'bob', GroupName: 'tenant-acme' }));

    const identity = new CognitoIdentityClient(moto.clientConfig);
    const idPool = await identity.send(
      new CreateIdentityPoolCommand({ IdentityPoolName: 'console', AllowUnauthenticatedIdentities: false, CognitoIdentityProviders: [{ ProviderName: `cognito-idp.${MOTO_REGION}.amazonaws.com/${userPoolId}`, ClientId: clientId }] }),
    );
    const identityPoolId = idPool.IdentityPoolId!;
    // The key pair moto's identity pool hands out (the same to every identity): the local API
    // accepts it, with its session token, as API Gateway accepts a role's temporary credentials.
    const probe = await identity.send(new GetIdCommand({ IdentityPoolId: identityPoolId }));
    const issued = (await identity.send(new GetCredentialsForIdentityCommand({ IdentityId: probe.IdentityId! }))).Credentials!;
    const browserCredentials: LocalSessionCredentials = { accessKeyId: issued.AccessKeyId!, secretAccessKey: issued.SecretKey!, sessionToken: issued.SessionToken! };
    expect(browserCredentials.accessKeyId).not.toBe(MOTO_CREDENTIALS.accessKeyId);

    api = await serveManagementApi({
      deps,
      credentials: MOTO_CREDENTIALS,
      resolveCredentials: (id) => (id === browserCredentials.accessKeyId ? browserCredentials : undefined),
      region: MOTO_REGION,
      get corsAllowOrigin() {
        return consoleOrigin;
      },
      onRequest: (e) => apiRequests.push(e),
    });
    site = await serveConsole(consoleDir, () => ({ region: MOTO_REGION, apiEndpoint: api.endpoint, userPoolId, userPoolClientId: clientId, identityPoolId, lifecycle: false }));
    consoleOrigin = site.url;
    // The same console with the control-plane pages on (config.json lifecycle: true).
    lifecycleSite = await serveConsole(consoleDir, () => ({ region: MOTO_REGION, apiEndpoint: api.endpoint, userPoolId, userPoolClientId: clientId, identityPoolId, lifecycle: true }));

    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
    context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    // Cognito's production endpoints, answered by moto.
    await context.route(/^https:\/\/cognito-(idp|identity)\.us-east-1\.amazonaws\.com\//, async (route) => {
      const req = route.request();
      const origin = req.headers().origin ?? site.url;
      const headers = Object.fromEntries(Object.entries(req.headers()).filter(([k]) => ['content-type', 'x-amz-target', 'authorization', 'x-amz-date', 'x-amz-security-token'].includes(k)));
      const res = await fetch(`${moto.endpoint}/`, { method: req.method(), headers, body: req.postDataBuffer() ?? undefined });
      await route.fulfill({ status: res.status, headers: { 'content-type': res.headers.get('content-type') ?? 'application/x-amz-json-1.1', 'access-control-allow-origin': origin, 'access-control-expose-headers': 'x-amzn-requestid,x-amzn-errortype,x-amzn-errormessage' }, body: Buffer.from(await res.arrayBuffer()) });
    });
    page = await context.newPage();
    page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });

  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await lifecycleSite?.close();
    await api?.close();
    await moto?.stop();
    console.log(`console browser test: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  /** axe-core on the page as it is: no serious or critical violations (printed when there are). */
  const axe = async (name: string) => {
    // Evaluated through the DevTools protocol, which the page's CSP (script-src 'self') does not govern.
    await page.evaluate(readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));
    // (page functions as strings: this file is type-checked without the DOM library)
    const violations = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((out) => out.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => v.impact + ' ' + v.id + ': ' + v.help + ' (' + v.nodes.map((n) => n.target.join(' ')).join(', ') + ')'))`)) as string[];
    if (violations.length) console.error(`axe violations on ${name}:\n${violations.join('\n')}`);
    expect(violations, `axe on ${name}`).toEqual([]);
  };
  /** A screenshot in test-artifacts/console; the secret (when shown) masked. */
  const shot = async (name: string) => {
    await page.waitForTimeout(150); // transitions
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true, mask: [page.locator('[data-secret]')], animations: 'disabled' });
  };
  /** Types a TOTP code computed now (waiting for a fresh 30 s window when this one is about to end). */
  const typeCode = async (label: string, base32: string) => {
    if (Date.now() % 30_000 > 27_000) await page.waitForTimeout(30_000 - (Date.now() % 30_000) + 200);
    await page.getByLabel(label).fill(totp(base32));
  };
  const signIn = async (name: string, screenshots: boolean) => {
    await expect.poll(() => page.getByRole('heading', { name: 'Sign in' }).isVisible()).toBe(true);
    await page.getByLabel('User name').fill(name);
    await page.getByLabel('Password').fill(PASSWORD);
    if (screenshots) {
      await shot('01-sign-in');
      await axe('sign-in');
    }
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Authenticator code' }).waitFor();
    if (screenshots) {
      await shot('02-totp');
      await axe('authenticator code');
    }
    await typeCode('Code from your authenticator app', aliceTotpSecret);
    await page.getByRole('button', { name: 'Continue' }).click();
    await signedIn();
  };
  /** Waits for the console (on the page of the URL's route); fails with what the page says instead. */
  const signedIn = async () => {
    try {
      await page.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: 15_000 });
    } catch {
      throw new Error(`not signed in; the page says: ${(await page.evaluate('document.body.innerText')) as string}`);
    }
  };
  /** A link of the side navigation (opened first when the layout has collapsed it). */
  const navLink = async (name: string) => {
    const nav = page.getByRole('navigation', { name: 'Side navigation' });
    if (!(await nav.isVisible())) await page.getByRole('button', { name: 'Open side navigation' }).click();
    return nav.getByRole('link', { name });
  };
  /** Everything the browser keeps outside the page's memory, and what it printed. */
  const traces = async () => ({
    storage: (await page.evaluate('JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, cookie: document.cookie })')) as string,
    cookies: JSON.stringify(await context.cookies()),
    url: page.url(),
    console: consoleLines.join('\n'),
  });

  it('signs in with the password (SRP) and the TOTP code, and lists the environments', async () => {
    await page.goto(site.url);
    const response = await page.goto(site.url);
    expect(response!.headers()['content-security-policy']).toMatch(/script-src 'self';/);
    await signIn('alice', true);
    await page.getByRole('heading', { name: 'Environments', level: 1 }).first().waitFor();
    // The API was called with SigV4 (the local server verified the signature with the identity pool's key pair).
    await expect.poll(() => apiRequests).toContainEqual({ method: 'GET', path: '/v1/environments', status: 200 });
    const table = page.getByRole('table', { name: 'Environments' });
    await table.getByRole('link', { name: 'acme/dev' }).waitFor();
    await expect.poll(() => table.getByRole('row').count()).toBe(3); // header + 2
    await shot('03-environments');
    await axe('environments');
    const t = await traces();
    expect(t.storage).toBe('{"local":{},"session":{},"cookie":""}');
    expect(t.cookies).toBe('[]');
  });

  it('shows an environment with its nodes (state, owner, endpoints) and the dashboard link', async () => {
    await page.getByRole('link', { name: 'acme/dev' }).click();
    await page.getByRole('heading', { name: 'acme/dev', level: 1 }).waitFor();
    const nodes = page.getByRole('table', { name: 'Nodes of acme/dev' });
    await nodes.getByRole('row', { name: /validator-1/ }).waitFor();
    expect(await nodes.getByRole('row').count()).toBe(4);
    const row = await nodes.getByRole('row', { name: /validator-1/ }).innerText();
    expect(row).toContain('running');
    expect(row).toContain('acme');
    expect(row).toContain(instances['validator-1']);
    expect(row).toContain('https://validator-1.dev.acme.example.com/');
    expect(row).toContain('wss://validator-1.dev.acme.example.com/ws');
    expect(await page.getByRole('link', { name: /CloudWatch dashboard of acme\/dev/ }).getAttribute('href')).toBe(
      'https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards/dashboard/blockchain-acme-dev',
    );
    // No lifecycle actions: config.json says the control plane is off.
    expect(await page.getByRole('button', { name: 'Delete' }).count()).toBe(0);
    await shot('04-environment-detail');
    await axe('environment detail');
  });

  it('reboots a node after a confirmation naming it; the EC2 call reaches moto', async () => {
    await (await navLink('Nodes')).click();
    await page.getByRole('heading', { name: 'Nodes', level: 1 }).waitFor();
    await page.getByRole('radio', { name: 'Select node validator-1' }).check();
    await page.getByRole('button', { name: 'Reboot' }).click();
    const dialog = page.getByRole('dialog', { name: 'Reboot node validator-1?' });
    await dialog.waitFor();
    expect(await dialog.innerText()).toContain(instances['validator-1']);
    await shot('05-nodes-reboot-confirm');
    await axe('reboot confirmation');
    const before = ec2Calls.length;
    await dialog.getByRole('button', { name: 'Reboot validator-1' }).click();
    await page.getByText('Rebooting node validator-1').waitFor();
    expect(ec2Calls.slice(before)).toContainEqual({ command: 'RebootInstancesCommand', input: { InstanceIds: [instances['validator-1']] } });
    expect(apiRequests).toContainEqual({ method: 'POST', path: '/v1/environments/acme/dev/nodes/validator-1/reboot', status: 202 });
    const state = (await (new EC2Client(moto.clientConfig)).send(new DescribeInstancesCommand({ InstanceIds: [instances['validator-1']] }))).Reservations![0].Instances![0].State!.Name;
    expect(state).toBe('running');
    await shot('06-nodes');
    await axe('nodes');
  });

  it('shows an API error as the API gave it, with its field', async () => {
    await (await navLink('App credentials')).click();
    await page.getByRole('heading', { name: 'App credentials', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Create credential' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create an app credential in acme/dev' });
    await dialog.getByRole('button', { name: /^Member/ }).click();
    await page.getByRole('option', { name: 'acme' }).click();
    await dialog.getByLabel('Lifetime in days').fill('9999');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await dialog.getByText('400 BadRequest').waitFor();
    const text = await dialog.innerText();
    expect(text).toMatch(/Field: lifetimeDays/);
    expect(text).toMatch(/lifetimeDays: must be a whole number of days from 1 to 365/);
    expect(text).not.toMatch(/at .*\.(ts|js):\d+/); // never a stack trace
    await shot('07-credential-error');
    await axe('create credential with an error');
    await dialog.getByLabel('Lifetime in days').fill('7');
    await dialog.getByLabel('Description').fill('browser test wallet');
  });

  it('creates a credential: the secret is shown once with copy buttons and snippets, and is gone when the dialog closes', async () => {
    const form = page.getByRole('dialog', { name: 'Create an app credential in acme/dev' });
    await form.getByRole('button', { name: 'Create' }).click();
    const dialog = page.getByRole('dialog', { name: /^Credential bt[a-z2-7]{24} created$/ });
    await dialog.waitFor();
    credentialId = /bt[a-z2-7]{24}/.exec((await dialog.getAttribute('aria-label')) ?? (await dialog.innerText()))![0];
    secret = (await dialog.locator('[data-secret="secret"]').innerText()).trim();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    for (const label of ['Copy credential id', 'Copy secret', 'Copy Authorization header', 'Copy ethers v6, HTTP snippet for validator-1', 'Copy curl, HTTP snippet for validator-1']) {
      expect(await dialog.getByRole('button', { name: label }).count(), label).toBe(1);
    }
    const snippets = await dialog.locator('pre').allInnerTexts();
    expect(snippets.length).toBe(7);
    expect(snippets.join('\n')).toContain("new FetchRequest('https://validator-1.dev.acme.example.com/')");
    expect(snippets.join('\n')).toContain(`webSocket('wss://${credentialId}:${secret}@validator-1.dev.acme.example.com/ws')`);
    expect(snippets.join('\n')).toContain(`curl -sS -u '${credentialId}:${secret}'`);
    await shot('08-credential-secret');
    await axe('one-time secret');
    await dialog.getByRole('button', { name: 'I have saved the secret' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('row', { name: new RegExp(credentialId) }).waitFor();
    const html = await page.content();
    expect(html).not.toContain(secret);
    expect(await page.evaluate('document.body.innerText')).not.toContain(secret);
    const t = await traces();
    for (const [where, value] of Object.entries(t)) expect(value, where).not.toContain(secret);
    await shot('09-credentials');
    await axe('credentials');
  });

  it('after a reload the session and the secret are gone; signed in again, the list shows the credential without it', async () => {
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.content()).not.toContain(secret);
    await signIn('alice', false);
    await page.goto(`${site.url}/#/environments/acme/dev/credentials`);
    const row = page.getByRole('row', { name: new RegExp(credentialId) });
    await row.waitFor();
    expect(await row.innerText()).toContain('browser test wallet');
    expect(await page.content()).not.toContain(secret);
    const t = await traces();
    for (const [where, value] of Object.entries(t)) expect(value, where).not.toContain(secret);
  });

  it('regenerates the credential: a new one-time secret, the old one no longer shown', async () => {
    // Keyboard only: the dialog opens with Enter and closes with Escape.
    await page.getByRole('radio', { name: `Select credential ${credentialId}` }).check();
    await page.getByRole('button', { name: 'Regenerate' }).focus();
    await page.keyboard.press('Enter');
    const confirm = page.getByRole('dialog', { name: `Regenerate credential ${credentialId}?` });
    await confirm.waitFor();
    await page.keyboard.press('Escape');
    await confirm.waitFor({ state: 'hidden' });
    await page.getByRole('button', { name: 'Regenerate' }).click();
    await confirm.getByRole('button', { name: 'Regenerate' }).click();
    const dialog = page.getByRole('dialog', { name: `New secret of ${credentialId}` });
    await dialog.waitFor();
    const renewed = (await dialog.locator('[data-secret="secret"]').innerText()).trim();
    expect(renewed).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(renewed).not.toBe(secret);
    expect(await dialog.innerText()).toContain('the old secret no longer works');
    await dialog.getByRole('button', { name: 'I have saved the secret' }).click();
    await dialog.waitFor({ state: 'detached' });
    const html = await page.content();
    expect(html).not.toContain(renewed);
    const t = await traces();
    for (const [where, value] of Object.entries(t)) expect(value, where).not.toContain(renewed);
    expect(apiRequests).toContainEqual({ method: 'POST', path: `/v1/environments/acme/dev/credentials/${credentialId}/regenerate`, status: 200 });
  });

  it('revokes the credential after a confirmation', async () => {
    await page.getByRole('radio', { name: `Select credential ${credentialId}` }).check();
    await page.getByRole('button', { name: 'Revoke' }).click();
    const dialog = page.getByRole('dialog', { name: `Revoke credential ${credentialId}?` });
    await dialog.waitFor();
    await axe('revoke confirmation');
    await dialog.getByRole('button', { name: 'Revoke' }).click();
    await page.getByText(`Credential ${credentialId} revoked`).waitFor();
    await expect.poll(async () => page.getByRole('row', { name: new RegExp(credentialId) }).innerText()).toMatch(/Revoked/);
    expect(apiRequests).toContainEqual({ method: 'DELETE', path: `/v1/environments/acme/dev/credentials/${credentialId}`, status: 200 });
    await shot('10-credential-revoked');
  });

  it('signs out: back to the sign-in page, nothing kept; the secret never reached storage, the URL or the console', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.goto(`${site.url}/#/environments/acme/dev/nodes`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.getByRole('table').count()).toBe(0);
    const t = await traces();
    expect(t.storage).toBe('{"local":{},"session":{},"cookie":""}');
    for (const [where, value] of Object.entries(t)) expect(value, where).not.toContain(secret);
    expect(consoleLines.filter((l) => /Content Security Policy|Refused to/i.test(l))).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('first sign-in: a new password, then authenticator enrollment (MFA_SETUP) with the secret the page shows', async () => {
    await page.getByLabel('User name').fill('bob');
    await page.getByLabel('Password').fill('Temporary-Pass-2');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    await axe('new password');
    await page.getByLabel('New password').fill('short');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText('InvalidPasswordException').waitFor();
    await page.getByLabel('New password').fill('Another-Horse-7-Battery');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Set up your authenticator app' }).waitFor();
    const key = (await page.locator('[data-secret="totp-key"]').innerText()).trim();
    bobTotpSecret = key;
    expect(key).toMatch(/^[A-Z2-7a-z]+$/);
    await shot('11-mfa-setup');
    await axe('authenticator setup');
    await typeCode('Code from your authenticator app', key);
    await page.getByRole('button', { name: 'Continue' }).click();
    await signedIn();
    // The page the URL named before sign-in (a deep link survives sign-in).
    await page.getByRole('heading', { name: 'Nodes', level: 1 }).waitFor();
    expect(await page.getByRole('button', { name: 'Signed in as bob' }).count()).toBe(1);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  });

  describe('with lifecycle on (config.json lifecycle: true) and the control plane on moto', () => {
    const QA = {
      cidr: '10.20.0.0/16',
      region: MOTO_REGION,
      chain: {
        chainId: 4343,
        members: [{ id: 'acme' }],
        nodes: [
          { id: 'validator-1', member: 'acme', role: 'validator' },
          { id: 'validator-2', member: 'acme', role: 'validator' },
          { id: 'validator-3', member: 'acme', role: 'validator' },
          { id: 'validator-4', member: 'acme', role: 'validator' },
          { id: 'rpc-1', member: 'acme', role: 'member' },
        ],
      },
    };
    const deploymentsTable = () => page.getByRole('table', { name: 'Deployments of acme/qa' });
    /** The live region that announces the deployment's status. */
    const liveStatus = () => page.locator('[role="status"][aria-live="polite"]').filter({ hasText: /^Deployment d-/ });
    const newest = async () => (await plane.store.listDeployments('acme', 'qa'))[0];
    /** The engine's report to the recorder (the state machine's call), as the deployed engine sends it. */
    const engine = (deploymentId: string, phase: 'started' | 'succeeded' | 'failed', error?: RecorderInput['error']) =>
      handleRecorder(
        { tenantId: 'acme', environmentId: 'qa', deploymentId, phase, ...(phase === 'started' ? { buildId: `deploy:${deploymentId}` } : {}), ...(error ? { error } : {}) },
        { ...plane.recorder, log: () => undefined },
      );
    /** Waits until the page (without a reload) announces the deployment's status. */
    const announced = async (deploymentId: string, status: string) => {
      await liveStatus().filter({ hasText: `Deployment ${deploymentId} ` }).filter({ hasText: ` is ${status}.` }).waitFor({ timeout: 15_000 });
      await deploymentsTable().getByRole('row', { name: new RegExp(`${deploymentId}.*${status}`) }).waitFor();
    };
    /** Runs a deployment to ready as the engine would, and sees the console follow. */
    const runToReady = async (deploymentId: string) => {
      await engine(deploymentId, 'started');
      await announced(deploymentId, 'deploying');
      await engine(deploymentId, 'succeeded');
      await announced(deploymentId, 'ready');
    };
    const getsPerDeploymentsList = () => apiRequests.filter((r) => r.method === 'GET' && r.path === '/v1/environments/acme/qa/deployments').length;

    beforeAll(async () => {
      consoleOrigin = lifecycleSite.url;
      await page.goto(`${lifecycleSite.url}/#/environments`);
      await page.getByLabel('User name').fill('bob');
      await page.getByLabel('Password').fill('Another-Horse-7-Battery');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Authenticator code' }).waitFor();
      await typeCode('Code from your authenticator app', bobTotpSecret);
      await page.getByRole('button', { name: 'Continue' }).click();
      await signedIn();
    });
    afterAll(() => {
      consoleOrigin = site.url;
    });

    it('create: a bad configuration shows the 400 with its field path in the form; fixed, it is created and its deployment shows as queued', async () => {
      await page.getByRole('button', { name: 'Create environment' }).click();
      const dialog = page.getByRole('dialog', { name: 'Create environment' });
      await dialog.getByLabel('Tenant id').fill('acme');
      await dialog.getByLabel('Environment id').fill('qa');
      const json = dialog.getByLabel('Environment configuration (JSON)');
      await json.fill(JSON.stringify({ ...QA, flowLogRetentionDays: 2 }, null, 2));
      await dialog.getByRole('button', { name: 'Create' }).click();
      await dialog.getByText('400 BadRequest').waitFor();
      const text = await dialog.innerText();
      expect(text).toMatch(/Field: body\.flowLogRetentionDays/);
      expect(text).toContain('body.flowLogRetentionDays');
      expect(text).not.toMatch(/at .*\.(ts|js):\d+/);
      // Nothing was stored or queued, and the form keeps what was typed.
      expect(await plane.store.getEnvironment('acme', 'qa')).toBeUndefined();
      expect(await json.inputValue()).toContain('"flowLogRetentionDays": 2');
      await shot('12-lifecycle-create-error');
      await axe('create environment with an error');

      await json.fill(JSON.stringify(QA, null, 2));
      await dialog.getByRole('button', { name: 'Create' }).click();
      await dialog.waitFor({ state: 'detached' });
      // The console goes to the new environment's page, which follows its deployment.
      await page.getByRole('heading', { name: 'acme/qa', level: 1 }).waitFor();
      expect(page.url()).toBe(`${lifecycleSite.url}/#/environments/acme/qa`);
      await page.getByText('Not deployed yet').waitFor();
      const d = await newest();
      expect(d).toMatchObject({ action: 'create', status: 'queued', configVersion: 1 });
      await announced(d.deploymentId, 'queued');
      expect(await liveStatus().innerText()).toContain('This page reads its status every 3 s.');
      expect(apiRequests).toContainEqual({ method: 'POST', path: '/v1/environments/acme/qa', status: 201 });
      await shot('13-lifecycle-queued');
      await axe('environment being created');
    });

    it('follows the deployment without a reload: deploying, then ready (the engine simulated through the real recorder); a second change meanwhile gets the 409 naming the running deployment', async () => {
      const d = await newest();
      // A mark in the page's memory: a reload would lose it.
      await page.evaluate('window.__sameDocument = true');
      await engine(d.deploymentId, 'started');
      await announced(d.deploymentId, 'deploying');
      await shot('14-lifecycle-deploying');
      await axe('deployment in progress');

      // One deployment per environment: a change now is refused with the running one named.
      await page.getByRole('button', { name: 'Change' }).click();
      const change = page.getByRole('dialog', { name: 'Change acme/qa' });
      await change.getByLabel('JSON merge patch (RFC 7396) of the configuration').fill('{ "flowLogRetentionDays": 30 }');
      await change.getByRole('button', { name: 'Deploy change' }).click();
      await change.getByText('409 DeploymentInProgress').waitFor();
      expect(await change.innerText()).toContain(`deployment ${d.deploymentId} of acme/qa is running`);
      await shot('15-lifecycle-change-409');
      await axe('change refused while a deployment runs');
      await change.getByRole('button', { name: 'Cancel' }).click();
      await change.waitFor({ state: 'detached' });

      await engine(d.deploymentId, 'succeeded');
      await announced(d.deploymentId, 'ready');
      expect(await page.evaluate('window.__sameDocument')).toBe(true);
      expect(await liveStatus().innerText()).not.toContain('reads its status');
      // Polling stops once no deployment runs.
      const reads = getsPerDeploymentsList();
      await page.waitForTimeout(4000);
      expect(getsPerDeploymentsList()).toBe(reads);
      await shot('16-lifecycle-ready');
      await axe('deployment ready');
    });

    it('changes the environment with a merge patch: a failed deployment shows the reason; the next change deploys', async () => {
      const patch = async (json: string) => {
        await page.getByRole('button', { name: 'Change' }).click();
        const change = page.getByRole('dialog', { name: 'Change acme/qa' });
        await change.getByLabel('JSON merge patch (RFC 7396) of the configuration').fill(json);
        await change.getByRole('button', { name: 'Deploy change' }).click();
        await change.waitFor({ state: 'detached' });
        return newest();
      };
      const failing = await patch('{ "flowLogRetentionDays": 30 }');
      expect(failing).toMatchObject({ action: 'update', status: 'queued', configVersion: 2 });
      expect((await plane.store.getConfigVersion('acme', 'qa', 2))?.config).toMatchObject({ flowLogRetentionDays: 30, chain: QA.chain });
      await engine(failing.deploymentId, 'started');
      await announced(failing.deploymentId, 'deploying');
      // The state machine's error when the deploy job's build fails (no stack events: moto has no stack).
      const cause = { Build: { Phases: [{ PhaseType: 'SUBMITTED', PhaseStatus: 'SUCCEEDED' }, { PhaseType: 'BUILD', PhaseStatus: 'FAILED', Contexts: [{ StatusCode: 'COMMAND_EXECUTION_ERROR', Message: 'Error while executing command: cdk deploy. Reason: exit status 1' }] }] } };
      await engine(failing.deploymentId, 'failed', { Error: 'States.TaskFailed', Cause: JSON.stringify(cause) });
      const reason = 'States.TaskFailed: build phase BUILD FAILED: Error while executing command: cdk deploy. Reason: exit status 1';
      await liveStatus().filter({ hasText: `Deployment ${failing.deploymentId} (update) failed: ${reason}` }).waitFor({ timeout: 15_000 });
      expect(await deploymentsTable().getByRole('row', { name: new RegExp(failing.deploymentId) }).innerText()).toContain(reason);
      await shot('17-lifecycle-failed');
      await axe('deployment failed');

      const d = await patch('{ "flowLogRetentionDays": 60 }');
      expect(d).toMatchObject({ action: 'update', status: 'queued', configVersion: 3 });
      await announced(d.deploymentId, 'queued');
      await runToReady(d.deploymentId);
    });

    it('adds a node and removes one after a confirmation naming it', async () => {
      await page.getByRole('button', { name: 'Add node' }).click();
      const add = page.getByRole('dialog', { name: 'Add a node to acme/qa' });
      await add.getByLabel('The node (JSON)').fill('{ "id": "rpc-2", "member": "acme", "role": "member" }');
      await shot('18-lifecycle-add-node');
      await axe('add node');
      await add.getByRole('button', { name: 'Add node' }).click();
      await add.waitFor({ state: 'detached' });
      const added = await newest();
      expect(added).toMatchObject({ action: 'update', configVersion: 4 });
      expect(apiRequests).toContainEqual({ method: 'POST', path: '/v1/environments/acme/qa/nodes', status: 202 });
      await runToReady(added.deploymentId);

      await page.getByRole('button', { name: 'Remove node' }).click();
      const remove = page.getByRole('dialog', { name: 'Remove a node from acme/qa' });
      await remove.waitFor();
      expect(await remove.getByRole('button', { name: 'Remove' }).isDisabled()).toBe(true);
      await remove.getByRole('button', { name: /Choose a node/ }).click();
      await page.getByRole('option', { name: 'rpc-1' }).click();
      const confirm = page.getByRole('dialog', { name: 'Remove node rpc-1 from acme/qa?' });
      await confirm.waitFor();
      await shot('19-lifecycle-remove-node');
      await axe('remove node confirmation');
      await confirm.getByRole('button', { name: 'Remove rpc-1' }).click();
      await confirm.waitFor({ state: 'hidden' });
      const removed = await newest();
      expect(removed).toMatchObject({ action: 'update', configVersion: 5 });
      expect(apiRequests).toContainEqual({ method: 'DELETE', path: '/v1/environments/acme/qa/nodes/rpc-1', status: 202 });
      const nodes = ((await plane.store.getConfigVersion('acme', 'qa', 5))?.config.chain?.nodes ?? []).map((n) => n.id);
      expect(nodes).toEqual(['validator-1', 'validator-2', 'validator-3', 'validator-4', 'rpc-2']);
      await runToReady(removed.deploymentId);
    });

    it('an environment deployed with cdk deploy (no stored config) says it is not managed by the control plane and offers no change', async () => {
      await page.goto(`${lifecycleSite.url}/#/environments/acme/dev`);
      await page.getByText('Not managed by the control plane').waitFor();
      await shot('22-lifecycle-not-managed');
      expect(await page.getByText('NotFound').count()).toBe(0);
      await page.getByRole('button', { name: 'Refresh deployments' }).waitFor();
      for (const name of ['Change', 'Delete', 'Add node', 'Remove node']) expect(await page.getByRole('button', { name, exact: true }).count()).toBe(0);
      await axe('environment not managed by the control plane');
      await page.goto(`${lifecycleSite.url}/#/environments/acme/qa`);
      await page.getByRole('button', { name: 'Delete', exact: true }).waitFor();
    });

    it('deletes with purge only after the environment id is typed; the delete deploys and the environment is gone', async () => {
      await page.getByRole('button', { name: 'Delete' }).click();
      const del = page.getByRole('dialog', { name: 'Delete environment acme/qa?' });
      await del.waitFor();
      await del.getByText('Also destroy its data (purge)').click();
      const button = del.getByRole('button', { name: 'Delete and destroy data' });
      expect(await button.isDisabled()).toBe(true);
      await del.getByLabel('Type qa to confirm').fill('q');
      expect(await button.isDisabled()).toBe(true);
      await del.getByLabel('Type qa to confirm').fill('qa');
      expect(await button.isDisabled()).toBe(false);
      await shot('20-lifecycle-delete-purge');
      await axe('delete with purge');
      await button.click();
      await del.waitFor({ state: 'hidden' });
      const d = await newest();
      expect(d).toMatchObject({ action: 'delete', status: 'queued', purge: true });
      expect(apiRequests).toContainEqual({ method: 'DELETE', path: '/v1/environments/acme/qa', status: 202 });
      await runToReady(d.deploymentId);
      expect(await plane.store.getEnvironment('acme', 'qa')).toMatchObject({ state: 'deleted' });
      expect(await liveStatus().innerText()).toContain('acme/qa is deleted and its data destroyed.');
      expect(await deploymentsTable().getByRole('button', { name: 'Change' }).count()).toBe(0);
      await shot('21-lifecycle-deleted');
      expect(pageErrors).toEqual([]);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    });
  });
});
