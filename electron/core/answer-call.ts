// What one call of the contract answers, whatever the transport: its handler's result checked
// against the contract, or an error a client may see. A full disk gets the space reserve back
// (and a call that frees space one more try); an unexpected error is kept for the diagnostics file.
import { calls, StudioError, type Method } from '../shared/contract.js';
import { recordError } from './diagnostics/recent-errors.js';
import { releaseReserves } from './storage/reserve.js';
import { asDiskFull, DiskFullError, isDiskFull } from './storage/disk-full.js';
import { scrubInstallPaths } from './install-paths.js';

/** Calls that free space: on a full disk they get one more try once the reserve is given back. */
const FREES_SPACE = new Set<Method>(['projects.delete', 'images.remove', 'runs.delete', 'exports.delete', 'labels.delete']);

/** Runs `handler` (its arguments already validated) and checks what it returns against the contract. */
export async function answerCall(m: Method, handler: () => unknown): Promise<unknown> {
  try {
    return calls[m].result.parse(await handler());
  } catch (first) {
    let err = first;
    if (isDiskFull(err) && !(err instanceof DiskFullError)) {
      // Give the reserve back; a call that frees space gets one more try with that room.
      const freed = releaseReserves();
      if (freed > 0 && FREES_SPACE.has(m)) {
        try {
          return calls[m].result.parse(await handler());
        } catch (again) {
          err = again;
        }
      }
      err = asDiskFull(err, 'This change was not saved.');
    }
    // A user's mistake (StudioError) is answered, not kept; anything else is kept for the diagnostics file.
    if (!(err instanceof StudioError)) {
      recordError(m, err);
      // An unexpected error's message may name files of the installation: the client gets their names only.
      if (err instanceof Error) {
        const shown = scrubInstallPaths(err.message);
        if (shown !== err.message) throw Object.assign(new Error(shown), { code: (err as NodeJS.ErrnoException).code });
      }
    }
    throw err;
  }
}
