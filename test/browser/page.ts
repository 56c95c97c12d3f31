/** Test page entry: exposes the suite to the runner (page.evaluate) and, with ?run, runs it here. */
import { runSuite, type SuiteResult } from './suite.js';

declare global {
  interface Window {
    __runSuite?: (filter?: string) => Promise<SuiteResult>;
    __suiteReady?: boolean;
  }
}

window.__runSuite = runSuite;
window.__suiteReady = true;

const params = new URLSearchParams(location.search);
if (params.has('run')) {
  const log = document.getElementById('log')!;
  void runSuite(params.get('run') || undefined).then((r) => {
    log.textContent = r.results.map((t) => `${t.status.toUpperCase().padEnd(4)} ${t.name} — ${t.detail}`).join('\n');
  });
}
