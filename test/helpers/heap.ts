import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// The test runner does not pass --expose-gc; this turns it on for this process.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap in use after two full collections (the second frees what the first's finalizers released), in bytes. */
export function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
