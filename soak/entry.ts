/** What the soak bundle exports to `run.ts` (bundled with the SDK and the sandbox from source). */

export { formatMemoryReport, runMemorySoak } from './memory.js';
export { formatReport } from './report.js';
export { runSoak } from './soak.js';
