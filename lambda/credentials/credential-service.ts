import {
  CreateSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import * as argon2 from 'argon2';
import {
  ARGON2ID_PARAMETERS,
  CREDENTIAL_ID_PATTERN,
  MEMBER_ID_PATTERN,
  StoredCredential,
  credentialSecretName,
  credentialSecretPrefix,
  newCredentialId,
  newCredentialSecret,
} from '../../lib/contracts/credential-format';

/** A credential as callers see it (lib/contracts/credential-format.ts; the console reads the same shape). */
export type { CredentialSummary } from '../../lib/contracts/credential-summary';
import type { CredentialSummary } from '../../lib/contracts/credential-summary';

export interface CredentialServiceOptions {
  readonly secretsManager: SecretsManagerClient;
  readonly tenantId: string;
  readonly environmentId: string;
  /** KMS key for new credential secrets. @default - the account's Secrets Manager key */
  readonly kmsKeyId?: string;
  /** Lifetime when the caller gives none. @default 90 */
  readonly defaultLifetimeDays?: number;
  /** Longest lifetime a caller may ask for. @default 365 */
  readonly maxLifetimeDays?: number;
  readonly now?: () => Date;
}

/** Why a verification failed (for metrics and logs; callers must not tell clients which). */
export type VerifyOutcome = 'allowed' | 'unknown' | 'mismatch' | 'revoked' | 'expired' | 'wrong-environment' | 'wrong-member';

export class CredentialNotFoundError extends Error {
  constructor(id: string) {
    super(`credential ${id} does not exist in this environment`);
    this.name = 'CredentialNotFoundError';
  }
}

export class CredentialValidationError extends Error {
  constructor(
    public readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'CredentialValidationError';
  }
}

/** A dummy hash verified for unknown ids, so they cost the same time as wrong secrets. */
let decoyHash: Promise<string> | undefined;
function decoy(): Promise<string> {
  decoyHash ??= argon2.hash(newCredentialSecret(), { type: argon2.argon2id, ...ARGON2ID_PARAMETERS });
  return decoyHash;
}

const DAY_MS = 86_400_000;

/**
 * App credentials of one environment, stored only as salted argon2id hashes, one Secrets
 * Manager secret per credential under the environment's prefix and KMS key. The plaintext
 * secret is returned exactly once (create / regenerate) and never stored or logged.
 */
export class CredentialService {
  private readonly sm: SecretsManagerClient;
  private readonly now: () => Date;
  private readonly defaultDays: number;
  private readonly maxDays: number;

  constructor(private readonly options: CredentialServiceOptions) {
    this.sm = options.secretsManager;
    this.now = options.now ?? (() => new Date());
    this.maxDays = options.maxLifetimeDays ?? 365;
    this.defaultDays = options.defaultLifetimeDays ?? Math.min(90, this.maxDays);
    if (!Number.isInteger(this.maxDays) || this.maxDays < 1) throw new Error(`maxLifetimeDays is ${this.maxDays}; use a whole number of days >= 1`);
    if (!Number.isInteger(this.defaultDays) || this.defaultDays < 1 || this.defaultDays > this.maxDays) {
      throw new Error(`defaultLifetimeDays is ${this.defaultDays}; use a whole number from 1 to maxLifetimeDays (${this.maxDays})`);
    }
  }

  async create(input: { memberId: string; lifetimeDays?: number; description?: string }): Promise<{ credential: CredentialSummary; secret: string }> {
    if (typeof input.memberId !== 'string' || !MEMBER_ID_PATTERN.test(input.memberId)) {
      throw new CredentialValidationError('memberId', 'must be a member id: 2-24 characters of a-z, 0-9 and "-", e.g. "acme"');
    }
    const days = input.lifetimeDays ?? this.defaultDays;
    if (!Number.isInteger(days) || days < 1 || days > this.maxDays) {
      throw new CredentialValidationError('lifetimeDays', `must be a whole number of days from 1 to ${this.maxDays}`);
    }
    if (input.description !== undefined && (typeof input.description !== 'string' || input.description.length > 256)) {
      throw new CredentialValidationError('description', 'must be a string of at most 256 characters');
    }
    const id = newCredentialId();
    const secret = newCredentialSecret();
    const now = this.now();
    const record: StoredCredential = {
      version: 1,
      id,
      tenantId: this.options.tenantId,
      environmentId: this.options.environmentId,
      memberId: input.memberId,
      hash: await argon2.hash(secret, { type: argon2.argon2id, ...ARGON2ID_PARAMETERS }),
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + days * DAY_MS).toISOString(),
      revoked: false,
      ...(input.description ? { description: input.description } : {}),
    };
    await this.sm.send(
      new CreateSecretCommand({
        Name: credentialSecretName(this.options.tenantId, this.options.environmentId, id),
        ...(this.options.kmsKeyId ? { KmsKeyId: this.options.kmsKeyId } : {}),
        Description: `App credential ${id} of member ${input.memberId} (argon2id hash only)`,
        SecretString: JSON.stringify(record),
        Tags: [
          { Key: 'blockchain-tenancy:tenant', Value: this.options.tenantId },
          { Key: 'blockchain-tenancy:environment', Value: this.options.environmentId },
          { Key: 'blockchain-tenancy:member', Value: input.memberId },
        ],
      }),
    );
    return { credential: summary(record), secret };
  }

  async list(filter: { memberId?: string } = {}): Promise<CredentialSummary[]> {
    const prefix = credentialSecretPrefix(this.options.tenantId, this.options.environmentId);
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [prefix] }], NextToken: token, MaxResults: 100 }));
      for (const s of page.SecretList ?? []) if (s.Name?.startsWith(prefix)) names.push(s.Name);
      token = page.NextToken;
    } while (token);
    const records = await Promise.all(names.map((n) => this.read(n.slice(prefix.length))));
    return records
      .filter((r): r is StoredCredential => r !== undefined && (!filter.memberId || r.memberId === filter.memberId))
      .map(summary)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  async describe(id: string): Promise<CredentialSummary> {
    return summary(await this.mustRead(id));
  }

  async revoke(id: string): Promise<CredentialSummary> {
    const record = await this.mustRead(id);
    if (record.revoked) return summary(record);
    const updated: StoredCredential = { ...record, revoked: true, revokedAt: this.now().toISOString() };
    await this.write(updated);
    return summary(updated);
  }

  async regenerate(id: string): Promise<{ credential: CredentialSummary; secret: string }> {
    const record = await this.mustRead(id);
    if (record.revoked) throw new CredentialValidationError('id', `credential ${id} is revoked; create a new one instead`);
    const secret = newCredentialSecret();
    const updated: StoredCredential = { ...record, hash: await argon2.hash(secret, { type: argon2.argon2id, ...ARGON2ID_PARAMETERS }) };
    await this.write(updated);
    return { credential: summary(updated), secret };
  }

  /**
   * Verifies a presented credential for a node owned by `memberId` (when given). Unknown ids are
   * checked against a decoy hash so that they cost the same time as a wrong secret.
   */
  async verify(id: string, secret: string, memberId?: string): Promise<{ outcome: VerifyOutcome; credential?: CredentialSummary }> {
    const record = CREDENTIAL_ID_PATTERN.test(id) ? await this.read(id) : undefined;
    const matches = await argon2.verify(record?.hash ?? (await decoy()), secret).catch(() => false);
    if (!record) return { outcome: 'unknown' };
    if (!matches) return { outcome: 'mismatch' };
    const credential = summary(record);
    if (record.tenantId !== this.options.tenantId || record.environmentId !== this.options.environmentId) return { outcome: 'wrong-environment', credential };
    if (record.revoked) return { outcome: 'revoked', credential };
    if (Date.parse(record.expiresAt) <= this.now().getTime()) return { outcome: 'expired', credential };
    if (memberId !== undefined && record.memberId !== memberId) return { outcome: 'wrong-member', credential };
    return { outcome: 'allowed', credential };
  }

  private async mustRead(id: string): Promise<StoredCredential> {
    if (typeof id !== 'string' || !CREDENTIAL_ID_PATTERN.test(id)) {
      throw new CredentialValidationError('id', 'is not a credential id (bt + 24 characters of a-z and 2-7)');
    }
    const record = await this.read(id);
    if (!record) throw new CredentialNotFoundError(id);
    return record;
  }

  private async read(id: string): Promise<StoredCredential | undefined> {
    try {
      const out = await this.sm.send(new GetSecretValueCommand({ SecretId: credentialSecretName(this.options.tenantId, this.options.environmentId, id) }));
      const record = JSON.parse(out.SecretString ?? '{}') as StoredCredential;
      return record.version === 1 && record.id === id ? record : undefined;
    } catch (e) {
      if ((e as Error).name === 'ResourceNotFoundException') return undefined;
      throw e;
    }
  }

  private async write(record: StoredCredential): Promise<void> {
    await this.sm.send(
      new PutSecretValueCommand({
        SecretId: credentialSecretName(record.tenantId, record.environmentId, record.id),
        SecretString: JSON.stringify(record),
      }),
    );
  }
}

function summary(r: StoredCredential): CredentialSummary {
  return {
    id: r.id,
    tenantId: r.tenantId,
    environmentId: r.environmentId,
    memberId: r.memberId,
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    revoked: r.revoked,
    ...(r.revokedAt ? { revokedAt: r.revokedAt } : {}),
    ...(r.description ? { description: r.description } : {}),
  };
}
