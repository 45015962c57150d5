package org.circuittracer.spark;

import java.io.Serializable;

/**
 * What the counting pass found in one partition: its documents and the sequences they split into, or the first
 * document that cannot be read (then the driver reports it before any model pass).
 *
 * @param partition     the partition's index
 * @param documents     documents (non-blank lines) in it
 * @param sequences     the sequences they are split into
 * @param errorCode     the first error's code name, or null
 * @param errorMessage  its message (which names the line)
 * @param errorDocument the partition-local (0-based) index of the document it concerns, or -1 for a line that is not
 *                      a document
 */
record SliceCount(int partition, long documents, long sequences, String errorCode, String errorMessage,
                  long errorDocument) implements Serializable {
}
