/**
 * Matching-pursuit transcoders (provider {@code matching-pursuit}): the worked example of a dictionary plugin whose
 * encoder is not "linear map + nonlinearity".
 *
 * <p>For an input {@code x} the encoder starts from the residual {@code r = x − b_pre} and, {@code steps} times, picks
 * the atom {@code e_j} (unit rows of {@code atoms [F, d]}) with the largest positive score {@code s_j = ⟨r, e_j⟩},
 * adds {@code s_j} to activation {@code a_j} and removes {@code s_j·e_j} from {@code r}. The decoder is an ordinary
 * linear transcoder decoder {@code ŷ = a·W_dec + b_dec}, which is what keeps attribution exact: edges out of its
 * features are inner products with decoder rows. Its pre-activation, the quantity attribution explains when a feature
 * is a target, is the first step's score {@code h = (x − b_pre)·atomsᵀ}.
 *
 * <p>On disk: {@code matching-pursuit.json} (format name, format version, layers, width, features, steps, sites) and
 * {@code layer_{i}.safetensors} with {@code atoms [F, d]}, {@code W_dec [F, d]}, {@code b_pre [d]},
 * {@code b_dec [d]}.
 */
@Export
@Version("1.0.0")
package org.circuittracer.transcoders.mp;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
