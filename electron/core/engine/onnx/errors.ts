/** A layer the converter has no ONNX translation for; the engine then keeps that part in tfjs. */
export class UnsupportedLayerError extends Error {
  constructor(
    readonly layerName: string,
    readonly className: string,
    detail = '',
  ) {
    super(`cannot convert layer "${layerName}" (${className}) to ONNX${detail ? `: ${detail}` : ''}`);
    this.name = 'UnsupportedLayerError';
  }
}
