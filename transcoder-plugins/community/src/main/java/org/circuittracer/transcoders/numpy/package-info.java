/**
 * NumPy's {@code .npy} and {@code .npz} files, read without NumPy:
 * {@link org.circuittracer.transcoders.numpy.NpyHeader} parses array headers (format versions 1.0, 2.0 and 3.0), {@link org.circuittracer.transcoders.numpy.NpzArchive}
 * exposes an archive's float arrays as a {@link org.circuittracer.safetensors.TensorSource}.
 */
@Export
@Version("1.0.0")
package org.circuittracer.transcoders.numpy;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
