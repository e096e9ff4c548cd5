// The one client of the contract for the whole UI, and image URLs by id.
import type { StudioApi } from '../../../electron/shared/contract';
import { createTransport } from './transport';
import type { ImageVariant } from './transport';

export const transport = createTransport();

/**
 * Every call's failure is shown to the user as its message alone; which call failed is for the
 * console (and a developer), never for the message a person reads.
 */
export const api: StudioApi = {
  call: (method, args) =>
    transport.api.call(method, args).catch((err: unknown) => {
      console.warn(`[studio] ${method} failed:`, err instanceof Error ? err.message : err);
      throw err;
    }),
  on: (event, listener) => transport.api.on(event, listener),
};
export const imageUrl = (imageId: number, variant: ImageVariant): string => transport.imageUrl(imageId, variant);
