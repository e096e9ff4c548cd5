// Numbered migrations, applied in order. Never edit one that has shipped: add the next number.
import * as m001 from './001_library.js';

export interface Migration {
  version: number;
  name: string;
  up: string;
}

export const migrations: Migration[] = [{ version: 1, name: 'library', up: m001.up }];
