/** The {@code sparsify} dictionary format: EleutherAI sparsify transcoders, one directory per hook point. */
package org.circuittracer.transcoders.sparsify;
