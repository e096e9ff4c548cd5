// The import pipeline end to end: real files on disk, a real Studio with its SQLite file. Each
// behaviour is a module of its own under import/; they run here, in one file, so that they share
// one Studio and the libraries it loads (tfjs, ONNX Runtime, sharp) load once, not once a file.
import { useImportStudio } from './import/fixture.js';
import './import/clipart.js';
import './import/bad-files.js';
import './import/labels.js';
import './import/formats.js';
import './import/interrupted.js';
import './import/capture.js';

useImportStudio();
