// The one client of the contract for the whole UI, and image URLs by id.
import { createTransport } from './transport';
import type { ImageVariant } from './transport';

export const transport = createTransport();
export const api = transport.api;
export const imageUrl = (imageId: number, variant: ImageVariant): string => transport.imageUrl(imageId, variant);
