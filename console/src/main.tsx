import '@cloudscape-design/global-styles/index.css';
import './console.css';
import { createRoot } from 'react-dom/client';
import { parseConsoleConfig } from '../../lib/contracts/console-config';
import { App } from './app';

async function start(): Promise<void> {
  const root = createRoot(document.getElementById('root')!);
  try {
    const res = await fetch('/config.json', { cache: 'no-store', credentials: 'omit' });
    if (!res.ok) throw new Error(`/config.json answered ${res.status}: the console is not configured (the hosting stack writes it at deploy time)`);
    const config = parseConsoleConfig(await res.json());
    root.render(<App config={config} />);
  } catch (e) {
    root.render(
      <main>
        <h1>The console could not start</h1>
        <p role="alert">{(e as Error).message}</p>
      </main>,
    );
  }
}

void start();
