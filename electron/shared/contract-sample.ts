// The sample project: pictures shipped with the app (resources/sample), so a first-time user can
// try the whole loop offline. Handler in electron/core/sample/create.ts.
import { z } from 'zod';
import { Project } from './schemas.js';

const call = <A extends z.ZodType, R extends z.ZodType>(args: A, result: R) => ({ args, result });

export const sampleCalls = {
  /** Creates a new project from the shipped sample pictures (a folder per label) and imports them. */
  'sample.create': call(z.object({}), z.object({ project: Project, images: z.number().int(), labels: z.number().int() })),
} as const;
