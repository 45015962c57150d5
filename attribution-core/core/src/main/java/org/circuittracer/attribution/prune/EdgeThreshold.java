package org.circuittracer.attribution.prune;

/**
 * {@code find_threshold} over edge scores that are streamed rather than sorted: the same cut as
 * {@link GraphPruning#threshold(double[], long, double)} — the largest score {@code v} whose share
 * {@code Σ_{x ≥ v} x / Σ x} reaches the fraction — found with four passes over the scores and no per-entry memory.
 *
 * <p>Non-negative doubles sort like their bit patterns read as longs, so each pass narrows the cut to one bucket of the
 * next 16 bits: it adds up the scores per bucket (in compensated double sums), walks the buckets from the largest,
 * and keeps the bucket where the running share crosses the fraction. After four passes the bucket is one value. The
 * sums are compensated, so the shares are at least as accurate as a sorted running sum; only a share within a few
 * ulps of the fraction could fall the other way.
 */
final class EdgeThreshold {

    private static final int DIGIT_BITS = 16;
    private static final int BUCKETS = 1 << DIGIT_BITS;

    private EdgeThreshold() {
    }

    /**
     * @param scores   every stored entry's score (≥ 0)
     * @param zeros    further entries that are zero (the unstored part of the matrix)
     * @param fraction the share to reach, in [0, 1]
     */
    static double find(EdgeScores scores, long zeros, double fraction) {
        long[] count = {0};
        boolean[] anyZero = {false};
        double[] minimum = {Double.POSITIVE_INFINITY};
        Sum total = new Sum();
        scores.forEach(v -> {
            count[0]++;
            total.add(v);
            if (v == 0) {
                anyZero[0] = true;
            }
            minimum[0] = Math.min(minimum[0], v);
        });
        double totalSum = total.value();
        double above = 0; // the sum of the scores above the current bucket
        Sum aboveSum = new Sum();
        // level 0's mask fixes nothing; the shifts below stay within 0..48
        long prefix = 0;   // the bits fixed so far
        for (int level = 0; level < 64 / DIGIT_BITS; level++) {
            int shift = 64 - DIGIT_BITS * (level + 1);
            long fixedMask = level == 0 ? 0 : -1L << (shift + DIGIT_BITS);
            long wanted = prefix;
            double[] sums = new double[BUCKETS];
            double[] compensations = new double[BUCKETS];
            scores.forEach(v -> {
                long bits = Double.doubleToRawLongBits(v);
                if ((bits & fixedMask) != wanted) {
                    return;
                }
                int bucket = (int) ((bits >>> shift) & (BUCKETS - 1));
                // Neumaier's compensated addition, per bucket
                double s = sums[bucket];
                double t = s + v;
                compensations[bucket] += Math.abs(s) >= Math.abs(v) ? (s - t) + v : (v - t) + s;
                sums[bucket] = t;
            });
            int chosen = -1;
            for (int b = BUCKETS - 1; b >= 0; b--) {
                double bucketSum = sums[b] + compensations[b];
                if (bucketSum == 0) {
                    continue; // empty, or zeros, which never move the share
                }
                if ((above + bucketSum) / totalSum >= fraction) {
                    chosen = b;
                    break;
                }
                aboveSum.add(bucketSum);
                above = aboveSum.value();
            }
            if (chosen < 0) {
                // never reached (rounding at a fraction of 1, or an all-zero total): the smallest entry
                return zeros > 0 || anyZero[0] || count[0] == 0 ? 0 : minimum[0];
            }
            prefix |= (long) chosen << shift;
        }
        return Double.longBitsToDouble(prefix);
    }

    /** A compensated (Neumaier) running sum. */
    private static final class Sum {
        private double sum;
        private double compensation;

        void add(double v) {
            double t = sum + v;
            compensation += Math.abs(sum) >= Math.abs(v) ? (sum - t) + v : (v - t) + sum;
            sum = t;
        }

        double value() {
            return sum + compensation;
        }
    }
}
