// The ONNX graph builder lives with the model generators (models/onnx-builder.mjs, plain JS run
// at build time); stages that build graphs from their parameters load it from the package root,
// which works from sources and from dist/ alike.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../../runtime/util/paths.js';

export type OnnxBuilder = typeof import('../../models/onnx-builder.mjs');

let mod: Promise<OnnxBuilder> | undefined;

export function builder(): Promise<OnnxBuilder> {
  mod ??= import(pathToFileURL(join(packageRoot(), 'models', 'onnx-builder.mjs')).href) as Promise<OnnxBuilder>;
  return mod;
}
