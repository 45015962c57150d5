package org.circuittracer.dashboards;

/**
 * A kept example: where it is in the corpus, its activation, and its window (token ids and the feature's activations,
 * copied out of the sequence so the sequence itself is not retained).
 */
final class ExampleCandidate {

    final float value;
    final long sequence;
    final int position;
    final long priority;
    final int[] tokenIds;
    final float[] activations;
    final int peakIndex;

    ExampleCandidate(float value, long sequence, int position, long priority, int[] tokenIds, float[] activations,
                     int peakIndex) {
        this.value = value;
        this.sequence = sequence;
        this.position = position;
        this.priority = priority;
        this.tokenIds = tokenIds;
        this.activations = activations;
        this.peakIndex = peakIndex;
    }

    /** An upper estimate of the bytes this object holds (headers, fields, arrays). */
    long retainedBytes() {
        return 56 + 16 + 4L * tokenIds.length + 16 + 4L * activations.length;
    }

    /** Top-example order, best first: larger value, then earlier sequence. */
    static int byValue(ExampleCandidate a, ExampleCandidate b) {
        int c = Float.compare(b.value, a.value);
        return c != 0 ? c : Long.compare(a.sequence, b.sequence);
    }

    /** Sample order, kept first: smaller priority, then earlier sequence and position. */
    static int byPriority(ExampleCandidate a, ExampleCandidate b) {
        return Priorities.compare(a.priority, a.sequence, a.position, b.priority, b.sequence, b.position);
    }
}
