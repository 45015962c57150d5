package org.circuittracer.spi.model;

import ai.djl.ndarray.NDArray;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;

/**
 * Sources of direct effects, given by what they add to the residual stream: write {@code w} adds {@code vectors[w]}
 * at position {@code positions[w]} of {@code sites[w]} on behalf of source {@code owners[w]}. A transcoder feature
 * writes once ({@code a · decoder row} at its layer's write site), a cross-layer feature once per output layer, an
 * error node once, a token once at {@code hook_embed}.
 *
 * @param sources   the number of sources {@code S}; every source may own any number of writes (none: it has no effect)
 * @param owners    {@code [W]} the source of each write, in {@code 0 … S−1}
 * @param sites     {@code [W]} where each write enters: the linearisation's write site of a layer, or
 *                  {@code hook_embed}
 * @param positions {@code [W]} the position of each write
 * @param vectors   {@code [W, d]} what each write adds
 */
public record SourceWrites(int sources, int[] owners, List<HookSite> sites, int[] positions, NDArray vectors) {

    public SourceWrites {
        Objects.requireNonNull(owners, "owners");
        Objects.requireNonNull(sites, "sites");
        Objects.requireNonNull(positions, "positions");
        Objects.requireNonNull(vectors, "vectors");
        int writes = owners.length;
        if (sites.size() != writes || positions.length != writes || vectors.getShape().dimension() != 2
                || vectors.getShape().get(0) != writes) {
            throw CircuitTracerException.invalidArgument("Source writes need W owners, W sites, W positions and a "
                    + "[W, d] vector array; got " + writes + " owners, " + sites.size() + " sites, "
                    + positions.length + " positions and " + vectors.getShape() + ".");
        }
        if (sources < 0) {
            throw CircuitTracerException.invalidArgument("The number of sources must be >= 0, got " + sources + ".");
        }
        for (int w = 0; w < writes; w++) {
            if (owners[w] < 0 || owners[w] >= sources) {
                throw CircuitTracerException.invalidArgument("Write " + w + " belongs to source " + owners[w]
                        + ", but there are " + sources + " sources (0 to " + (sources - 1) + ").");
            }
            if (positions[w] < 0) {
                throw CircuitTracerException.invalidArgument("Write " + w + " is at position " + positions[w]
                        + "; positions start at 0.");
            }
        }
        owners = owners.clone();
        sites = List.copyOf(sites);
        positions = positions.clone();
    }

    /** The number of writes {@code W}. */
    public int writes() {
        return owners.length;
    }

    @Override
    public int[] owners() {
        return owners.clone();
    }

    @Override
    public int[] positions() {
        return positions.clone();
    }

    /** Whether write {@code w} enters at the token embeddings. */
    public boolean atEmbedding(int w) {
        return sites.get(w).kind() == SiteKind.EMBED;
    }

    /** By content: the int arrays element by element (the vectors as {@link NDArray#equals} compares them). */
    @Override
    public boolean equals(Object other) {
        return other instanceof SourceWrites that && sources == that.sources && Arrays.equals(owners, that.owners)
                && sites.equals(that.sites) && Arrays.equals(positions, that.positions)
                && vectors.equals(that.vectors);
    }

    @Override
    public int hashCode() {
        return Objects.hash(sources, Arrays.hashCode(owners), sites, Arrays.hashCode(positions), vectors);
    }

    @Override
    public String toString() {
        return "SourceWrites[" + sources + " sources, owners " + Arrays.toString(owners) + ", sites " + sites
                + ", positions " + Arrays.toString(positions) + ", vectors " + vectors.getShape() + "]";
    }
}
