package org.circuittracer.demo;

import org.circuittracer.attribution.intervention.InterventionOptions;
import org.circuittracer.attribution.replacement.ReplacementModel;
import org.circuittracer.backend.djl.DjlBackendProvider;
import org.circuittracer.dashboards.files.DashboardReader;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.model.ModelSource;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.transcoders.reference.ReferencePerLayerProvider;

/** The committed demo opened the way a user's run opens it: DJL backend, reference loader, dashboards reader. */
record DemoFixture(DemoModel demo, TransformerModel model, SparseDictionary dictionary, FeatureTopics topics)
        implements AutoCloseable {

    /**
     * The layers the two-hop steering is constrained to. In this 4-layer model the city's state is computed by the
     * first two MLPs (its dashboards' state features sit in layers 0 and 1), and layers 2–3 carry it on to the answer.
     */
    static final InterventionOptions.LayerRange STEERING_LAYERS = new InterventionOptions.LayerRange(0, 2);

    static DemoFixture open() {
        DemoModel demo = DemoModel.locate();
        TransformerModel model = new DjlBackendProvider().create(ModelSource.of(demo.model()));
        SparseDictionary plt = new ReferencePerLayerProvider().create(DictionarySource.of(demo.perLayerTranscoders()));
        return new DemoFixture(demo, model, plt, new FeatureTopics(DashboardReader.open(demo.perLayerFeatures())));
    }

    ReplacementModel perLayer() {
        return ReplacementModel.of(model, dictionary);
    }

    /** The position of {@code word} in {@code tokens}; fails if absent. */
    int position(TokenSequence tokens, String word) {
        for (int i = 0; i < tokens.length(); i++) {
            if (model.tokenizer().tokenText(tokens.get(i)).equals(word)) {
                return i;
            }
        }
        throw new AssertionError(word + " is not a token of " + tokens);
    }

    @Override
    public void close() {
        dictionary.close();
        model.close();
    }
}
