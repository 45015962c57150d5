/** The {@code saelens} dictionary format: SAELens transcoders, one directory per layer. */
package org.circuittracer.transcoders.saelens;
