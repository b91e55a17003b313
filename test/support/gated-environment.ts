/**
 * The application layer of one environment on this machine: app credentials in Secrets Manager
 * (moto), the real authorizer handler (argon2id), and the real node gate in front of each node's
 * JSON-RPC, one gate per node as on the EC2 nodes. Production defaults except the authorizer's
 * log, which the test keeps (and can search for secrets).
 */
import { AddressInfo } from 'node:net';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createAuthorizer } from '../../lambda/authorizer/handler';
import { Decision } from '../../lambda/node-gate/decision-cache';
import { createGate } from '../../lambda/node-gate/gate';
import { authorizerEvent, decisionFromAnswer } from '../../lambda/node-gate/lambda-authorizer';
import { CredentialService } from '../../lambda/credentials/credential-service';
import { MotoServer, startMoto } from './moto';

/** A node the gates front: its id, owning member and client endpoints. */
export interface UpstreamNode {
  readonly id: string;
  readonly member: string;
  readonly rpcUrl: string;
  readonly wsUrl: string;
}

/** An app credential as a dApp receives it. */
export interface AppCredential {
  readonly id: string;
  readonly secret: string;
}

export interface GatedEnvironment {
  readonly service: CredentialService;
  /** Issues a credential for a member (the plaintext secret is returned once, as by the issuer). */
  issue(memberId: string): Promise<AppCredential>;
  /** The gate of a node, e.g. http://127.0.0.1:PORT (no credentials). */
  gateUrl(nodeId: string): string;
  /** `http://ID:SECRET@127.0.0.1:PORT/` (or ws://.../ws): the URL form users write. */
  urlWithCredential(nodeId: string, c: AppCredential, scheme?: 'http' | 'ws'): string;
  /** The `Authorization` header value of a credential (the header form). */
  authorization(c: AppCredential): string;
  /** Everything the gates and the authorizer logged. */
  readonly logs: readonly string[];
  stop(): Promise<void>;
}

export async function startGatedEnvironment(nodes: readonly UpstreamNode[], scope = { tenant: 'acme', environment: 'dev' }): Promise<GatedEnvironment> {
  const moto: MotoServer = await startMoto();
  const logs: string[] = [];
  const gates: { nodeId: string; gate: ReturnType<typeof createGate>; port: number }[] = [];
  try {
    const service = new CredentialService({ secretsManager: new SecretsManagerClient(moto.clientConfig), tenantId: scope.tenant, environmentId: scope.environment });
    const authorizer = createAuthorizer(service, {
      nodeMembers: Object.fromEntries(nodes.map((n) => [n.id, n.member])),
      scope,
      log: (e) => logs.push(JSON.stringify(e)),
    });
    for (const n of nodes) {
      const gate = createGate({
        nodeId: n.id,
        upstreamHttp: n.rpcUrl,
        upstreamWs: n.wsUrl,
        log: (e) => logs.push(JSON.stringify(e)),
        authorize: async (authorization, nodeId): Promise<Decision> => decisionFromAnswer(await authorizer.handle(authorizerEvent(authorization, nodeId))),
      });
      await new Promise<void>((r) => gate.server.listen(0, '127.0.0.1', r));
      gates.push({ nodeId: n.id, gate, port: (gate.server.address() as AddressInfo).port });
    }
  } catch (e) {
    await Promise.all(gates.map((g) => g.gate.close()));
    await moto.stop();
    throw e;
  }
  const service = new CredentialService({ secretsManager: new SecretsManagerClient(moto.clientConfig), tenantId: scope.tenant, environmentId: scope.environment });
  const port = (nodeId: string) => {
    const g = gates.find((x) => x.nodeId === nodeId);
    if (!g) throw new Error(`no gate for node ${nodeId}`);
    return g.port;
  };
  return {
    service,
    issue: async (memberId) => {
      const created = await service.create({ memberId, description: 'e2e dApp' });
      return { id: created.credential.id, secret: created.secret };
    },
    gateUrl: (nodeId) => `http://127.0.0.1:${port(nodeId)}`,
    urlWithCredential: (nodeId, c, scheme = 'http') => `${scheme}://${c.id}:${c.secret}@127.0.0.1:${port(nodeId)}${scheme === 'ws' ? '/ws' : '/'}`,
    authorization: (c) => `Basic ${Buffer.from(`${c.id}:${c.secret}`).toString('base64')}`,
    logs,
    stop: async () => {
      await Promise.all(gates.map((g) => g.gate.close()));
      await moto.stop();
    },
  };
}
