// The in-page runner of the shared checks (test/shared/). Node drives it through
// `window.wgtTests` (test/browser/parity.test.ts runs each check as one vitest test); a person
// opening /tests.html clicks "Run all".
import { checksById, plainExpect, runCheck, type CheckResult } from '../test/shared/index.js';
import { showWebGpuStart, startWebGpu, type ReadyState } from './panels/adapter.js';

/** What this page offers its driver. */
export interface PageTests {
  /** Settles once WebGPU has started, or has been found missing. */
  ready: Promise<ReadyState>;
  /** Every check's id (`suite › check`), in order. */
  ids: string[];
  run(id: string): Promise<CheckResult>;
}

declare global {
  interface Window {
    wgtTests: PageTests;
  }
}

const checks = checksById();
const rows = new Map<string, HTMLTableRowElement>();
const body = document.querySelector<HTMLTableSectionElement>('#checks tbody')!;
for (const id of checks.keys()) {
  const row = body.insertRow();
  row.innerHTML = '<td class="status">·</td><td></td><td class="num"></td><td class="message"></td>';
  row.cells[1]!.textContent = id;
  rows.set(id, row);
}

const started = startWebGpu();
const ready = showWebGpuStart(document.querySelector<HTMLElement>('#adapter')!, started);

const results = new Map<string, CheckResult>();

async function run(id: string): Promise<CheckResult> {
  const check = checks.get(id);
  if (!check) throw new Error(`no shared check is named '${id}'`);
  const state = await started;
  if (!state.ok) throw new Error(`WebGPU is unavailable: ${state.reason.detail}`);
  const result = { ...(await runCheck(check, { expect: plainExpect, ctx: state.ctx })), name: id };
  show(result);
  return result;
}

function show(result: CheckResult): void {
  results.set(result.name, result);
  const row = rows.get(result.name)!;
  row.className = result.ok ? 'pass' : 'fail';
  row.cells[0]!.textContent = result.ok ? '✓' : '✗';
  row.cells[2]!.textContent = result.ms.toFixed(0);
  row.cells[3]!.textContent = result.ok ? '' : result.message.split('\n')[0]!;
  const failed = [...results.values()].filter((r) => !r.ok).length;
  document.querySelector('#summary')!.textContent = `${results.size} of ${checks.size} run, ${failed} failed`;
}

window.wgtTests = { ready, ids: [...checks.keys()], run };

const runAll = document.querySelector<HTMLButtonElement>('#run-all')!;
void ready.then((state) => (runAll.disabled = !state.ok));
runAll.addEventListener('click', async () => {
  runAll.disabled = true;
  for (const id of checks.keys()) await run(id);
  runAll.disabled = false;
});
