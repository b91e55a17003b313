/**
 * Ready-to-paste connection snippets for an app credential (pure; the web console shows them in
 * the one-time secret dialog). They are the forms test/e2e/dapp-clients.test.ts runs against the
 * real gate with ethers v6, web3.js v4 and viem 2 (and README "Connect a dApp"): the credential
 * goes in an `Authorization: Basic` header where the library takes headers, so the secret stays
 * out of URLs that libraries print in errors; viem's webSocket transport takes no headers, so it
 * gets the URL form.
 */

/** A node's endpoints as the management API returns them in a create / regenerate answer. */
export interface CredentialUrl {
  readonly node: string;
  /** https://ID:SECRET@host/ (absent when the environment has no ingress) */
  readonly https?: string;
  /** wss://ID:SECRET@host/ws */
  readonly wss?: string;
}

export interface ConnectionSnippet {
  /** e.g. 'ethers v6' */
  readonly library: 'ethers v6' | 'web3.js v4' | 'viem 2' | 'curl';
  readonly transport: 'HTTP' | 'WebSocket';
  /** 'typescript' or 'shell' */
  readonly language: 'typescript' | 'shell';
  readonly code: string;
}

/** The URL without its user info (the credential), e.g. https://validator-1.dev.acme.example.com/ */
export function withoutCredential(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.toString();
}

const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const shellQuote = (s: string) => `'${s.replace(/'/g, `'"'"'`)}'`;

/**
 * The snippets of one node: ethers v6, web3.js v4 and viem 2 over HTTP and WebSocket, and curl
 * over HTTP (curl's WebSocket support is experimental and off in most builds). Empty when the
 * node has no public endpoint.
 */
export function connectionSnippets(credentialId: string, secret: string, url: CredentialUrl): ConnectionSnippet[] {
  if (!url.https || !url.wss) return [];
  const http = withoutCredential(url.https);
  const ws = withoutCredential(url.wss);
  const head = [
    `const id = ${quote(credentialId)};`,
    `const secret = ${quote(secret)}; // shown once: keep it in your secret store`,
    "const authorization = 'Basic ' + Buffer.from(`${id}:${secret}`).toString('base64');",
  ].join('\n');
  const wsUrlForm = `wss://${credentialId}:${secret}@${ws.slice('wss://'.length)}`;
  return [
    {
      library: 'ethers v6',
      transport: 'HTTP',
      language: 'typescript',
      code: [
        "import { FetchRequest, JsonRpcProvider } from 'ethers';",
        head,
        `const request = new FetchRequest(${quote(http)});`,
        "request.setHeader('Authorization', authorization);",
        'const provider = new JsonRpcProvider(request);',
        'console.log(await provider.getBlockNumber());',
      ].join('\n'),
    },
    {
      library: 'ethers v6',
      transport: 'WebSocket',
      language: 'typescript',
      code: [
        "import { WebSocketProvider } from 'ethers';",
        "import WebSocket from 'ws';",
        head,
        `const provider = new WebSocketProvider(() => new WebSocket(${quote(ws)}, { headers: { Authorization: authorization } }));`,
        "provider.on('block', (n) => console.log(n));",
      ].join('\n'),
    },
    {
      library: 'web3.js v4',
      transport: 'HTTP',
      language: 'typescript',
      code: [
        "import { HttpProvider, Web3 } from 'web3';",
        head,
        `const web3 = new Web3(new HttpProvider(${quote(http)}, { providerOptions: { headers: { Authorization: authorization } } }));`,
        'console.log(await web3.eth.getBlockNumber());',
      ].join('\n'),
    },
    {
      library: 'web3.js v4',
      transport: 'WebSocket',
      language: 'typescript',
      code: [
        "import { Web3, WebSocketProvider } from 'web3';",
        head,
        `const web3 = new Web3(new WebSocketProvider(${quote(ws)}, { headers: { Authorization: authorization } }));`,
        "const sub = await web3.eth.subscribe('newBlockHeaders');",
        "sub.on('data', (h) => console.log(h.number));",
      ].join('\n'),
    },
    {
      library: 'viem 2',
      transport: 'HTTP',
      language: 'typescript',
      code: [
        "import { createPublicClient, http } from 'viem';",
        head,
        `const client = createPublicClient({ transport: http(${quote(http)}, { fetchOptions: { headers: { Authorization: authorization } } }) });`,
        'console.log(await client.getBlockNumber());',
      ].join('\n'),
    },
    {
      library: 'viem 2',
      transport: 'WebSocket',
      language: 'typescript',
      code: [
        "import { createPublicClient, webSocket } from 'viem';",
        "// viem's webSocket transport takes no headers: the credential goes in the URL.",
        `const client = createPublicClient({ transport: webSocket(${quote(wsUrlForm)}) });`,
        'client.watchBlockNumber({ onBlockNumber: (n) => console.log(n) });',
      ].join('\n'),
    },
    {
      library: 'curl',
      transport: 'HTTP',
      language: 'shell',
      code: [
        `curl -sS -u ${shellQuote(`${credentialId}:${secret}`)} \\`,
        "  -H 'content-type: application/json' \\",
        `  --data '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}' \\`,
        `  ${shellQuote(http)}`,
      ].join('\n'),
    },
  ];
}
