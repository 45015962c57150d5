package org.circuittracer.dashboards;

import java.util.Arrays;

/**
 * The tokens a feature's decoder direction promotes and suppresses most through the unembedding: token ids with their
 * scores {@code ⟨d, U[:, t]⟩}, best first. Ties go to the smaller token id.
 *
 * @param topIds       ids with the largest scores, descending
 * @param topScores    their scores
 * @param bottomIds    ids with the smallest scores, ascending
 * @param bottomScores their scores
 */
public record OutputTokenRanking(int[] topIds, float[] topScores, int[] bottomIds, float[] bottomScores) {

    public OutputTokenRanking {
        topIds = topIds.clone();
        topScores = topScores.clone();
        bottomIds = bottomIds.clone();
        bottomScores = bottomScores.clone();
        if (topIds.length != topScores.length || bottomIds.length != bottomScores.length) {
            throw new IllegalArgumentException("ids and scores must have equal lengths");
        }
    }

    static final OutputTokenRanking EMPTY = new OutputTokenRanking(new int[0], new float[0], new int[0], new float[0]);

    @Override
    public int[] topIds() {
        return topIds.clone();
    }

    @Override
    public float[] topScores() {
        return topScores.clone();
    }

    @Override
    public int[] bottomIds() {
        return bottomIds.clone();
    }

    @Override
    public float[] bottomScores() {
        return bottomScores.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof OutputTokenRanking that && Arrays.equals(topIds, that.topIds)
                && Arrays.equals(topScores, that.topScores) && Arrays.equals(bottomIds, that.bottomIds)
                && Arrays.equals(bottomScores, that.bottomScores);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(topIds) * 31 + Arrays.hashCode(bottomIds);
    }

    @Override
    public String toString() {
        return "OutputTokenRanking[top " + Arrays.toString(topIds) + ", bottom " + Arrays.toString(bottomIds) + "]";
    }
}
