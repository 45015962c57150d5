/**
 * What the community formats share (not exported): their {@code DictionarySource} options
 * ({@link org.circuittracer.transcoders.community.FormatOptions}), tensor-shape checks, layer directories and JSON
 * configuration files of other tools.
 */
package org.circuittracer.transcoders.community;
