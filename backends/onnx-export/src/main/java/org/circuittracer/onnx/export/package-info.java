/**
 * The Java ONNX exporter: a Hugging Face model directory of transformer-core's architectures written as ONNX in the
 * Hugging Face Optimum layout ({@link org.circuittracer.onnx.export.OnnxExporter}). Called by
 * {@code circuit-tracer export-onnx} from the host class path, in the class path runtime and under {@code --osgi}.
 */
@Export
@Version("0.1.0")
package org.circuittracer.onnx.export;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
