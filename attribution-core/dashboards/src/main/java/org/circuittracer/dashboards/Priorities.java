package org.circuittracer.dashboards;

/**
 * The sampling priority of one activation: a fixed hash of (layer, feature, sequence, position). Keeping the
 * activations with the smallest priorities gives a uniform sample that depends on neither the batch size nor the
 * order of arrival, so sampled outputs are reproducible.
 */
final class Priorities {

    private Priorities() {
    }

    static long of(int layer, int feature, long sequence, int position) {
        long h = mix(0x5EEDL ^ ((long) layer << 32 | (feature & 0xFFFFFFFFL)));
        h = mix(h ^ sequence);
        return mix(h ^ position);
    }

    /** The SplitMix64 finaliser. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Orders (priority, sequence, position) keys; priorities compare unsigned. */
    static int compare(long priority, long sequence, int position, long otherPriority, long otherSequence,
                       int otherPosition) {
        int c = Long.compareUnsigned(priority, otherPriority);
        if (c != 0) {
            return c;
        }
        c = Long.compare(sequence, otherSequence);
        return c != 0 ? c : Integer.compare(position, otherPosition);
    }
}
