// Numbered migrations, applied in order. Never edit one that has shipped: add the next number.
import * as m001 from './001_library.js';
import * as m002 from './002_training.js';

export interface Migration {
  version: number;
  name: string;
  up: string;
}

export const migrations: Migration[] = [
  { version: 1, name: 'library', up: m001.up },
  { version: 2, name: 'training', up: m002.up },
];
