// Why a model folder or download was refused. `reason` lets callers (and tests) tell the cases
// apart; the message is what the user reads, and it names the file at fault.
import { StudioError, type WireError } from '../../shared/contract.js';

export type ModelFailure =
  | 'notFolder'
  | 'noModelJson'
  | 'notJson'
  | 'notTfjs'
  | 'unknownFormat'
  | 'badManifest'
  | 'unsafePath'
  | 'missingWeights'
  | 'wrongWeightSize'
  | 'badInput'
  | 'badMetadata'
  | 'unloadable'
  | 'needsScaling'
  | 'exists'
  | 'http'
  | 'checksum'
  | 'cancelled';

const CODES: Record<ModelFailure, WireError['code']> = {
  notFolder: 'not_found',
  noModelJson: 'invalid',
  notJson: 'invalid',
  notTfjs: 'invalid',
  unknownFormat: 'unsupported',
  badManifest: 'invalid',
  unsafePath: 'invalid',
  missingWeights: 'invalid',
  wrongWeightSize: 'invalid',
  badInput: 'unsupported',
  badMetadata: 'invalid',
  unloadable: 'invalid',
  needsScaling: 'invalid',
  exists: 'conflict',
  http: 'internal',
  checksum: 'invalid',
  cancelled: 'cancelled',
};

export class ModelStoreError extends StudioError {
  constructor(
    readonly reason: ModelFailure,
    message: string,
  ) {
    super(CODES[reason], message);
    this.name = 'ModelStoreError';
  }
}
