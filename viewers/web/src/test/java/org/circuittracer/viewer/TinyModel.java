package org.circuittracer.viewer;

import java.nio.file.Path;
import org.circuittracer.attribution.TinyFixtures;
import org.circuittracer.attribution.exact.ExactAttributorProvider;
import org.circuittracer.spi.attribution.AttributionListener;
import org.circuittracer.spi.attribution.AttributorOptions;
import org.circuittracer.testkit.SharedFixtures;
import org.circuittracer.viewer.work.NewGraphRequest;
import org.circuittracer.viewer.work.ReplacementWorkbench;

/**
 * The tiny llama with its per-layer ReLU transcoders as a real workbench, loaded once per test JVM (loading PyTorch
 * is the slow part); tests that need it are skipped when the shared fixtures are absent (they fail under CI=true).
 */
final class TinyModel {

    private static ReplacementWorkbench workbench;

    private TinyModel() {
    }

    static synchronized ReplacementWorkbench workbench() {
        SharedFixtures.require();
        if (workbench == null) {
            workbench = new ReplacementWorkbench(TinyFixtures.openModel("llama"),
                    TinyFixtures.openDictionary("llama-plt-relu"), new ExactAttributorProvider().create(AttributorOptions.none(ExactAttributorProvider.NAME)));
        }
        return workbench;
    }

    static int[] promptIds() {
        return TinyFixtures.prompt("llama", 0).ids();
    }

    /** Attributes golden prompt 0 and exports it as {@code <slug>.json} into {@code dir}. */
    static void graph(Path dir, String slug) {
        workbench().createGraph(new NewGraphRequest(null, promptIds(), slug, 10, 0.95, 0, 256, 0.8, 0.98), dir,
                AttributionListener.NONE);
    }
}
