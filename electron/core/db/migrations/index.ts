// Numbered migrations, applied in order. Never edit one that has shipped: add the next number.
import * as m001 from './001_library.js';
import * as m002 from './002_training.js';
import * as m003 from './003_predictions.js';
import * as m004 from './004_exports.js';

export interface Migration {
  version: number;
  name: string;
  up: string;
}

export const migrations: Migration[] = [
  { version: 1, name: 'library', up: m001.up },
  { version: 2, name: 'training', up: m002.up },
  { version: 3, name: 'predictions', up: m003.up },
  { version: 4, name: 'exports', up: m004.up },
];
