package org.circuittracer.cli.batch;

import org.circuittracer.dashboards.files.DashboardWriter;

/**
 * What a distributed dashboards run wrote.
 *
 * @param written        the writer's result (directory, layout, features written)
 * @param scan           the transcoder set's identifier in the files
 * @param documents      documents read
 * @param sequences      sequences run through the model
 * @param tokens         tokens counted
 * @param features       features of the dictionary, fired or not
 * @param partitions     parts the corpus was cut into
 */
public record DashboardOutcome(DashboardWriter.Result written, String scan, long documents, long sequences,
                               long tokens, long features, int partitions) {
}
