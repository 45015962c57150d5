package org.circuittracer.demo.recipe;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.circuittracer.backend.djl.DjlBackendProvider;
import org.circuittracer.dashboards.CollectedDashboards;
import org.circuittracer.dashboards.Corpus;
import org.circuittracer.dashboards.DashboardListener;
import org.circuittracer.dashboards.DashboardOptions;
import org.circuittracer.dashboards.FeatureDashboards;
import org.circuittracer.dashboards.files.DashboardLayout;
import org.circuittracer.dashboards.files.DashboardWriter;
import org.circuittracer.demo.DemoModel;
import org.circuittracer.demo.corpus.DemoCorpus.Document;
import org.circuittracer.demo.corpus.DemoCorpus;
import org.circuittracer.demo.tokenizer.WordLevelVocabulary;
import org.circuittracer.demo.training.ActivationSample;
import org.circuittracer.demo.training.LanguageModelTrainer;
import org.circuittracer.demo.training.LlamaShape;
import org.circuittracer.demo.training.Sequences;
import org.circuittracer.demo.training.TrainableLlama;
import org.circuittracer.demo.training.TranscoderFiles;
import org.circuittracer.demo.training.TranscoderTrainer;
import org.circuittracer.safetensors.DType;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.model.ModelSource;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.spi.site.SiteKind;
import org.circuittracer.transcoders.reference.ReferenceCrossLayerProvider;
import org.circuittracer.transcoders.reference.ReferencePerLayerProvider;

/**
 * Reproduces the demo artifacts from nothing: corpus, tokenizer, model, transcoders and dashboards. Usage:
 * {@code DemoRecipe <artifacts-dir> [stage...]} with stages {@code model}, {@code transcoders}, {@code dashboards}
 * (all by default). Every stage is seeded; the model stage takes a few minutes on two cores.
 */
public final class DemoRecipe {

    public static final long CORPUS_SEED = 20261124L;
    public static final int TRAINING_DOCUMENTS = 40_000;
    public static final int SEQUENCE_LENGTH = DemoCorpus.MAX_DOCUMENT_TOKENS + 2;

    /**
     * The label the dashboards of transcoder directory {@code name} ({@code transcoders-plt}, {@code transcoders-clt})
     * record as their scan ({@code dashboards.json}, {@code index.json.gz}, each feature's {@code transcoder_id}). The
     * transcoders themselves name no scan, so theirs is their directory's absolute path, which depends on where the
     * demo is unpacked; the dashboards keep a fixed, informational label so that the recipe writes the same files on
     * every machine. Nothing looks feature files up by it: viewers are given the features directory.
     */
    public static String dashboardScan(String name) {
        return "circuit-tracer/demo-" + name;
    }

    /** The model's shape once the vocabulary is known. */
    public static LlamaShape shape(WordLevelVocabulary vocabulary) {
        return new LlamaShape(vocabulary.size(), 128, 4, 4, 512, 128, 10_000.0, 1e-5f, vocabulary.bos(),
                vocabulary.eos(), vocabulary.pad());
    }

    /** The training documents (deterministic). */
    public static List<Document> trainingDocuments() {
        return new DemoCorpus(CORPUS_SEED).documents(TRAINING_DOCUMENTS);
    }

    /** The vocabulary: every word of every template and of the training documents. */
    public static WordLevelVocabulary vocabulary(List<Document> documents) {
        Set<String> texts = new LinkedHashSet<>(DemoCorpus.allSentences());
        documents.forEach(d -> texts.add(d.text()));
        return WordLevelVocabulary.of(texts);
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 1) {
            System.err.println("usage: DemoRecipe <artifacts-dir> [model] [transcoders] [dashboards]");
            System.exit(2);
        }
        Path out = Path.of(args[0]);
        Set<String> all = Set.of("model", "transcoders", "dashboards");
        Set<String> stages = args.length > 1 ? Set.of(java.util.Arrays.copyOfRange(args, 1, args.length)) : all;
        if (!all.containsAll(stages)) {
            System.err.println("unknown stage in " + stages + "; the stages are " + all);
            System.exit(2);
        }
        List<Document> documents = trainingDocuments();
        WordLevelVocabulary vocabulary = vocabulary(documents);
        Path modelDir = out.resolve("model");
        if (stages.contains("model")) {
            trainModel(modelDir, documents, vocabulary, Integer.getInteger("demo.steps", 2400));
        }
        if (stages.contains("transcoders")) {
            trainTranscoders(modelDir, out, vocabulary);
        }
        if (stages.contains("dashboards")) {
            buildDashboards(DemoModel.at(out));
        }
        DemoModel.writeIndex(out);
    }

    /** Dashboards for both transcoder sets over the sample documents, in the packed layout the viewer serves. */
    static void buildDashboards(DemoModel demo) {
        List<String> texts = sampleDocuments(Integer.getInteger("demo.dashboardDocuments", 3000)).stream()
                .map(Document::text).toList();
        write(demo.root().resolve("corpus-sample.txt"), String.join("\n", texts.subList(0, 500)) + "\n");
        Corpus corpus = Corpus.ofTexts(texts);
        DashboardOptions options = DashboardOptions.defaults().withTopExamples(16).withContext(16, 4);
        try (TransformerModel model = new DjlBackendProvider().create(ModelSource.of(demo.model()))) {
            for (boolean crossLayer : new boolean[] {false, true}) {
                Path transcoders = crossLayer ? demo.crossLayerTranscoders() : demo.perLayerTranscoders();
                Path target = crossLayer ? demo.crossLayerFeatures() : demo.perLayerFeatures();
                try (SparseDictionary dictionary = crossLayer
                        ? new ReferenceCrossLayerProvider().create(DictionarySource.of(transcoders))
                        : new ReferencePerLayerProvider().create(DictionarySource.of(transcoders))) {
                    long start = System.nanoTime();
                    CollectedDashboards dashboards = FeatureDashboards.collect(model, dictionary, corpus,
                            options.withScan(dashboardScan(transcoders.getFileName().toString())),
                            DashboardListener.NONE);
                    DashboardWriter.Result r = DashboardWriter.write(dashboards, target, DashboardLayout.PACKED,
                            DashboardListener.NONE);
                    System.out.printf("dashboards %s: %d features, %d bytes, %.0f s%n", target.getFileName(),
                            r.features(), r.bytes(), (System.nanoTime() - start) / 1e9);
                }
            }
        }
    }

    /** Documents for transcoder training and dashboards: a different seed from the model's training set. */
    public static List<Document> sampleDocuments(int count) {
        return new DemoCorpus(CORPUS_SEED + 1).documents(count);
    }

    /** Trains the per-layer and cross-layer transcoders on the saved model's activations. */
    static void trainTranscoders(Path modelDir, Path out, WordLevelVocabulary vocabulary) {
        List<int[]> sequences = sampleDocuments(Integer.getInteger("demo.transcoderDocuments", 3000)).stream()
                .map(d -> Sequences.prompt(d, vocabulary)).toList();
        ActivationSample sample;
        try (TransformerModel model = new DjlBackendProvider().create(ModelSource.of(modelDir))) {
            sample = ActivationSample.collect(model, sequences, SiteKind.MLP_IN, SiteKind.MLP_OUT_RAW, n -> {
                if (n % 500 == 0) {
                    System.out.printf("activations: %d / %d sequences%n", n, sequences.size());
                }
            });
        }
        System.out.printf("activations: %d token positions%n", sample.rows());
        int steps = Integer.getInteger("demo.transcoderSteps", 2000);
        List<String> report = new ArrayList<>();
        for (boolean crossLayer : new boolean[] {false, true}) {
            String name = crossLayer ? "transcoders-clt" : "transcoders-plt";
            float sparsity = Float.parseFloat(System.getProperty("demo.sparsity." + (crossLayer ? "clt" : "plt"),
                    crossLayer ? "0.003" : "0.003"));
            TranscoderTrainer trainer = new TranscoderTrainer(
                    new TranscoderTrainer.Settings(1024, steps, 1024, 2e-3f, sparsity, crossLayer ? 23 : 19));
            System.out.println(name + ":");
            TranscoderTrainer.Weights weights = trainer.train(sample, crossLayer, System.out::println);
            report.add(name + " (" + weights.features() + " features per layer, sparsity " + sparsity + "):");
            for (TranscoderTrainer.LayerQuality q : TranscoderTrainer.quality(weights, sample)) {
                System.out.println("  " + q);
                report.add("  " + q);
            }
            TranscoderFiles.write(out.resolve(name), weights, DType.F16);
        }
        write(out.resolve("transcoders-report.txt"), String.join("\n", report) + "\n");
    }

    /** Trains the language model and writes a Hugging Face directory. */
    static void trainModel(Path modelDir, List<Document> documents, WordLevelVocabulary vocabulary, int steps)
            throws IOException {
        Files.createDirectories(modelDir);
        LlamaShape shape = shape(vocabulary);
        List<int[]> sequences = Sequences.of(documents, vocabulary, SEQUENCE_LENGTH);
        System.out.printf("corpus: %d documents, vocabulary %d, sequences of %d%n", documents.size(),
                vocabulary.size(), SEQUENCE_LENGTH);
        long start = System.nanoTime();
        try (NDManager manager = NDManager.newBaseManager()) {
            TrainableLlama model = TrainableLlama.initialise(shape, manager, 7);
            LanguageModelTrainer trainer = new LanguageModelTrainer(
                    new LanguageModelTrainer.Settings(steps, 32, 2e-3f, 200, 0.01f, 11));
            float loss = trainer.train(model, sequences, vocabulary.pad(), r -> System.out.printf(
                    "step %5d / %d  loss %.4f  |g| %.3f  %.0f s%n", r.step(), r.steps(), r.loss(), r.gradientNorm(),
                    (System.nanoTime() - start) / 1e9));
            System.out.printf("final loss (mean of last 50 steps): %.4f%n", loss);
            model.save(modelDir.resolve("model.safetensors"), DType.F16);
        }
        shape.writeConfig(modelDir);
        vocabulary.write(modelDir);
        List<String> report = new ArrayList<>();
        try (TransformerModel model = new DjlBackendProvider().create(ModelSource.of(modelDir))) {
            for (DemoEvaluation.Score s : DemoEvaluation.evaluate(model)) {
                System.out.println(s);
                report.add(s.toString());
            }
        }
        Files.write(modelDir.resolve("evaluation.txt"), report, StandardCharsets.UTF_8);
    }

    static void write(Path file, String text) {
        try {
            Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
