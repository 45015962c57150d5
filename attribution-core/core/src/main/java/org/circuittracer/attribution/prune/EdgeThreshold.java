package org.circuittracer.attribution.prune;

/**
 * {@code find_threshold} over edge scores that are streamed rather than sorted: the same cut as
 * {@link GraphPruning#threshold(double[], long, double)} — the largest score {@code v} whose share
 * {@code Σ_{x ≥ v} x / Σ x} reaches the fraction — found with at most five passes over the scores and no per-entry
 * memory beyond one bucket's scores (two passes when the cut lands in a bucket of at most {@link #GATHER_LIMIT}
 * scores, as it does in practice).
 *
 * <p>Non-negative doubles sort like their bit patterns read as longs, so each pass narrows the cut to one bucket of the
 * next 16 bits: it adds up the scores per bucket (in compensated double sums), walks the buckets from the largest,
 * and keeps the bucket where the running share crosses the fraction. After four passes the bucket is one value. The
 * sums are compensated, so the shares are at least as accurate as a sorted running sum; only a share within a few
 * ulps of the fraction could fall the other way. The first level's pass also takes the total, and the chosen bucket's
 * scores are gathered (when they fit in {@link #GATHER_LIMIT}) so that the remaining levels do not stream the matrix
 * again: two passes in all instead of five.
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
        return find(scores, zeros, fraction, GATHER_LIMIT);
    }

    /** The most scores of one bucket gathered into memory (8 bytes each) instead of streamed again: 32 MiB. */
    static final int GATHER_LIMIT = 1 << 22;

    /**
     * As {@link #find(EdgeScores, long, double)}, gathering the chosen bucket's scores once it holds at most
     * {@code gatherLimit} of them (0: always stream; for tests).
     */
    static double find(EdgeScores scores, long zeros, double fraction, int gatherLimit) {
        // the first pass also takes the totals: level 0 fixes no bits, so every score joins a bucket
        long[] count = {0};
        boolean[] anyZero = {false};
        double[] minimum = {Double.POSITIVE_INFINITY};
        Sum total = new Sum();
        Level first = new Level(0, 0);
        scores.forEach(v -> {
            count[0]++;
            total.add(v);
            if (v == 0) {
                anyZero[0] = true;
            }
            minimum[0] = Math.min(minimum[0], v);
            first.add(v);
        });
        double totalSum = total.value();
        Sum aboveSum = new Sum(); // the sum of the scores above the current bucket
        Level level = first;
        EdgeScores remaining = scores;
        for (int depth = 0; ; depth++) {
            int chosen = level.choose(aboveSum, totalSum, fraction);
            if (chosen < 0) {
                // never reached (rounding at a fraction of 1, or an all-zero total): the smallest entry
                return zeros > 0 || anyZero[0] || count[0] == 0 ? 0 : minimum[0];
            }
            long prefix = level.prefix | (long) chosen << level.shift;
            if (depth == LEVELS - 1) {
                return Double.longBitsToDouble(prefix);
            }
            long fixedMask = -1L << level.shift;
            if (remaining == scores && level.counts[chosen] <= gatherLimit) {
                // the later levels read only this bucket's scores: keep them, in stream order, instead of streaming
                // every score again three times (same values, same order, so the same sums)
                remaining = gather(scores, fixedMask, prefix, (int) level.counts[chosen]);
            }
            Level next = new Level(depth + 1, prefix);
            long wanted = prefix;
            remaining.forEach(v -> {
                if ((Double.doubleToRawLongBits(v) & fixedMask) == wanted) {
                    next.add(v);
                }
            });
            level = next;
        }
    }

    private static final int LEVELS = 64 / DIGIT_BITS;

    /** The scores whose bits under {@code mask} equal {@code prefix}, in stream order, replayable. */
    private static EdgeScores gather(EdgeScores scores, long mask, long prefix, int expected) {
        double[] kept = new double[expected];
        int[] size = {0};
        scores.forEach(v -> {
            if ((Double.doubleToRawLongBits(v) & mask) == prefix) {
                kept[size[0]++] = v;
            }
        });
        int n = size[0];
        return visitor -> {
            for (int i = 0; i < n; i++) {
                visitor.score(kept[i]);
            }
        };
    }

    /** One level's buckets: per value of the next 16 bits, the count and the compensated sum of its scores. */
    private static final class Level {
        final int shift;
        final long prefix;
        final long[] counts = new long[BUCKETS];
        private final double[] sums = new double[BUCKETS];
        private final double[] compensations = new double[BUCKETS];

        Level(int depth, long prefix) {
            this.shift = 64 - DIGIT_BITS * (depth + 1);
            this.prefix = prefix;
        }

        void add(double v) {
            int bucket = (int) ((Double.doubleToRawLongBits(v) >>> shift) & (BUCKETS - 1));
            counts[bucket]++;
            // Neumaier's compensated addition, per bucket
            double s = sums[bucket];
            double t = s + v;
            compensations[bucket] += Math.abs(s) >= Math.abs(v) ? (s - t) + v : (v - t) + s;
            sums[bucket] = t;
        }

        /**
         * The bucket, from the largest, where the running share crosses {@code fraction}; adds the buckets above it
         * to {@code above}. -1 if none does.
         */
        int choose(Sum above, double total, double fraction) {
            for (int b = BUCKETS - 1; b >= 0; b--) {
                double bucketSum = sums[b] + compensations[b];
                if (bucketSum == 0) {
                    continue; // empty, or zeros, which never move the share
                }
                if ((above.value() + bucketSum) / total >= fraction) {
                    return b;
                }
                above.add(bucketSum);
            }
            return -1;
        }
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
