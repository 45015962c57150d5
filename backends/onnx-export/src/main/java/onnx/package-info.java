/**
 * The ONNX protobuf messages ({@code Onnx.ModelProto}, {@code GraphProto}, ...), generated from {@code onnx.proto}
 * (ONNX IR version 8). Exported (OSGi) for the onnx backend bundle, which reads and rewrites graphs with them.
 */
@Export
@Version("1.12.0")
package onnx;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
