// One-click export of a trained run, end to end on a real run fixture: every format
// round-trips (tfjs loads it, ONNX Runtime runs it, the Node example classifies the test images
// like the app, the Python example where onnxruntime for Python exists), parity is stored,
// verify-export catches tampering, a quantized export keeps the accuracy it showed, and a
// failing parity check is marked failed and not shipped. Each behaviour is a module of its own
// under export/; they run here, in one file, so that the run and its bundle are made once.
import { useBundle, useExportFixture } from './export/fixture.js';
import './export/bundle.js';
import './export/verify.js';
import './export/cli.js';
import './export/formats.js';
import './export/quantize.js';
import './export/failed-parity.js';

useExportFixture();
useBundle();
