/**
 * Sign-in: the Cognito user pool (USER_SRP_AUTH, then the challenges Cognito asks for: the TOTP
 * code of SOFTWARE_TOKEN_MFA, a new password on first sign-in (NEW_PASSWORD_REQUIRED), TOTP
 * enrollment (MFA_SETUP) when the pool requires MFA and the user has none yet), then the identity
 * pool (GetId + GetCredentialsForIdentity with the ID token) for temporary AWS credentials that
 * SigV4-sign the management API calls. Tokens and credentials live in this module's objects only
 * (memory): never in web storage, cookies or the URL.
 */
import {
  AssociateSoftwareTokenCommand,
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
  RespondToAuthChallengeCommand,
  RevokeTokenCommand,
  VerifySoftwareTokenCommand,
  type AuthenticationResultType,
  type ChallengeNameType,
} from '@aws-sdk/client-cognito-identity-provider';
import { CognitoIdentityClient, GetCredentialsForIdentityCommand, GetIdCommand } from '@aws-sdk/client-cognito-identity';
import type { ConsoleConfig } from '../../../lib/contracts/console-config';
import { ephemeral, passwordVerifierResponses, type PasswordVerifierChallenge } from './srp';

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
}

/** What the sign-in page shows next. */
export type SignInStep =
  | { readonly kind: 'totp'; readonly session: string; readonly username: string }
  | { readonly kind: 'new-password'; readonly session: string; readonly username: string }
  | { readonly kind: 'mfa-setup'; readonly session: string; readonly username: string; readonly secretCode: string }
  | { readonly kind: 'signed-in'; readonly session: SignedInSession };

/** A signed-in user: ID token for the identity pool, credentials refreshed before they expire. */
export class SignedInSession {
  private creds: AwsCredentials | undefined;
  private identityId: string | undefined;
  constructor(
    private readonly config: ConsoleConfig,
    private tokens: { idToken: string; accessToken: string; refreshToken?: string; expiresAt: number },
    readonly username: string,
    private readonly clients: Clients,
  ) {}

  /** The user's tenant groups (from the ID token's cognito:groups claim). */
  get groups(): string[] {
    try {
      const payload = JSON.parse(atob(this.tokens.idToken.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
      return Array.isArray(payload['cognito:groups']) ? (payload['cognito:groups'] as string[]) : [];
    } catch {
      return [];
    }
  }

  private get logins(): Record<string, string> {
    return { [`cognito-idp.${this.config.region}.amazonaws.com/${this.config.userPoolId}`]: this.tokens.idToken };
  }

  private async refreshTokens(): Promise<void> {
    if (Date.now() < this.tokens.expiresAt - 60_000) return;
    if (!this.tokens.refreshToken) throw new SessionExpired();
    try {
      const out = await this.clients.idp.send(new InitiateAuthCommand({ ClientId: this.config.userPoolClientId, AuthFlow: 'REFRESH_TOKEN_AUTH', AuthParameters: { REFRESH_TOKEN: this.tokens.refreshToken } }));
      const r = out.AuthenticationResult;
      if (!r?.IdToken || !r.AccessToken) throw new SessionExpired();
      this.tokens = { idToken: r.IdToken, accessToken: r.AccessToken, refreshToken: this.tokens.refreshToken, expiresAt: Date.now() + (r.ExpiresIn ?? 3600) * 1000 };
    } catch {
      throw new SessionExpired();
    }
  }

  /** Temporary credentials of the user's role, fetched again a minute before they expire. */
  async credentials(): Promise<AwsCredentials> {
    if (this.creds && this.creds.expiration.getTime() - Date.now() > 60_000) return this.creds;
    await this.refreshTokens();
    if (!this.identityId) {
      const id = await this.clients.identity.send(new GetIdCommand({ IdentityPoolId: this.config.identityPoolId, Logins: this.logins }));
      this.identityId = id.IdentityId;
    }
    const out = await this.clients.identity.send(new GetCredentialsForIdentityCommand({ IdentityId: this.identityId, Logins: this.logins }));
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretKey || !c.SessionToken) throw new Error('the identity pool returned no credentials');
    this.creds = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretKey, sessionToken: c.SessionToken, expiration: c.Expiration ?? new Date(Date.now() + 15 * 60_000) };
    return this.creds;
  }

  /** Revokes the refresh token (best effort) and forgets every token and credential. */
  async signOut(): Promise<void> {
    const refreshToken = this.tokens.refreshToken;
    this.tokens = { idToken: '', accessToken: '', expiresAt: 0 };
    this.creds = undefined;
    this.identityId = undefined;
    if (refreshToken) {
      try {
        await this.clients.idp.send(new RevokeTokenCommand({ ClientId: this.config.userPoolClientId, Token: refreshToken }));
      } catch {
        // The tokens are gone from memory either way; revocation only shortens their life.
      }
    }
  }
}

/** The session ended (refresh token expired or revoked): sign in again. */
export class SessionExpired extends Error {
  constructor() {
    super('your session has expired: sign in again');
  }
}

interface Clients {
  readonly idp: CognitoIdentityProviderClient;
  readonly identity: CognitoIdentityClient;
}

/** The sign-in flow of one user pool. */
export class CognitoSignIn {
  private readonly clients: Clients;
  constructor(private readonly config: ConsoleConfig) {
    this.clients = {
      idp: new CognitoIdentityProviderClient({ region: config.region, maxAttempts: 2 }),
      identity: new CognitoIdentityClient({ region: config.region, maxAttempts: 2 }),
    };
  }

  /** USER_SRP_AUTH: the password is proven, never sent. */
  async start(username: string, password: string): Promise<SignInStep> {
    const eph = ephemeral();
    const init = await this.clients.idp.send(
      new InitiateAuthCommand({ ClientId: this.config.userPoolClientId, AuthFlow: 'USER_SRP_AUTH', AuthParameters: { USERNAME: username, SRP_A: eph.A.toString(16) } }),
    );
    if (init.ChallengeName !== 'PASSWORD_VERIFIER') return this.next(init.ChallengeName, init.Session, init.ChallengeParameters, init.AuthenticationResult, username);
    const challenge = init.ChallengeParameters as unknown as PasswordVerifierChallenge & { USERNAME?: string };
    const name = challenge.USERNAME ?? challenge.USER_ID_FOR_SRP;
    const responses = await passwordVerifierResponses(this.config.userPoolId, password, eph, challenge);
    const out = await this.clients.idp.send(
      new RespondToAuthChallengeCommand({ ClientId: this.config.userPoolClientId, ChallengeName: 'PASSWORD_VERIFIER', Session: init.Session, ChallengeResponses: { USERNAME: name, ...responses } }),
    );
    return this.next(out.ChallengeName, out.Session, out.ChallengeParameters, out.AuthenticationResult, name);
  }

  async totp(step: { session: string; username: string }, code: string): Promise<SignInStep> {
    const out = await this.clients.idp.send(
      new RespondToAuthChallengeCommand({ ClientId: this.config.userPoolClientId, ChallengeName: 'SOFTWARE_TOKEN_MFA', Session: step.session, ChallengeResponses: { USERNAME: step.username, SOFTWARE_TOKEN_MFA_CODE: code } }),
    );
    return this.next(out.ChallengeName, out.Session, out.ChallengeParameters, out.AuthenticationResult, step.username);
  }

  async newPassword(step: { session: string; username: string }, password: string): Promise<SignInStep> {
    const out = await this.clients.idp.send(
      new RespondToAuthChallengeCommand({ ClientId: this.config.userPoolClientId, ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: step.session, ChallengeResponses: { USERNAME: step.username, NEW_PASSWORD: password } }),
    );
    return this.next(out.ChallengeName, out.Session, out.ChallengeParameters, out.AuthenticationResult, step.username);
  }

  /** Enrolls the authenticator app (the code it shows for the secret), then finishes MFA_SETUP. */
  async verifyTotpSetup(step: { session: string; username: string }, code: string): Promise<SignInStep> {
    const verified = await this.clients.idp.send(new VerifySoftwareTokenCommand({ Session: step.session, UserCode: code, FriendlyDeviceName: 'authenticator' }));
    if (verified.Status !== 'SUCCESS') throw new Error('the code does not match the secret: check the time on the device and try the next code');
    const out = await this.clients.idp.send(
      new RespondToAuthChallengeCommand({ ClientId: this.config.userPoolClientId, ChallengeName: 'MFA_SETUP', Session: verified.Session ?? step.session, ChallengeResponses: { USERNAME: step.username } }),
    );
    return this.next(out.ChallengeName, out.Session, out.ChallengeParameters, out.AuthenticationResult, step.username);
  }

  private async next(
    challenge: ChallengeNameType | string | undefined,
    session: string | undefined,
    params: Record<string, string> | undefined,
    result: AuthenticationResultType | undefined,
    username: string,
  ): Promise<SignInStep> {
    if (result?.IdToken && result.AccessToken) {
      const s = new SignedInSession(
        this.config,
        { idToken: result.IdToken, accessToken: result.AccessToken, ...(result.RefreshToken ? { refreshToken: result.RefreshToken } : {}), expiresAt: Date.now() + (result.ExpiresIn ?? 3600) * 1000 },
        username,
        this.clients,
      );
      await s.credentials(); // fails now, on the sign-in page, when the identity pool refuses
      return { kind: 'signed-in', session: s };
    }
    const user = params?.USERNAME ?? params?.USER_ID_FOR_SRP ?? username;
    if (!session) throw new Error(`Cognito asked for ${challenge ?? 'nothing'} without a session; sign in again`);
    switch (challenge) {
      case 'SOFTWARE_TOKEN_MFA':
        return { kind: 'totp', session, username: user };
      case 'NEW_PASSWORD_REQUIRED':
        return { kind: 'new-password', session, username: user };
      case 'MFA_SETUP': {
        const assoc = await this.clients.idp.send(new AssociateSoftwareTokenCommand({ Session: session }));
        if (!assoc.SecretCode || !assoc.Session) throw new Error('Cognito gave no authenticator secret; sign in again');
        return { kind: 'mfa-setup', session: assoc.Session, username: user, secretCode: assoc.SecretCode };
      }
      default:
        throw new Error(`this console does not support the sign-in challenge ${challenge}; ask your administrator to require TOTP MFA (not SMS or email)`);
    }
  }
}
