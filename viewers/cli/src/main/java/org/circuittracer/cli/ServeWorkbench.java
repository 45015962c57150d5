package org.circuittracer.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.circuittracer.attribution.export.GraphJsonExporter;
import org.circuittracer.chat.ChatMessage;
import org.circuittracer.chat.ChatPrompt;
import org.circuittracer.chat.ChatTemplate;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.ErrorCategory;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.attribution.AttributionListener;
import org.circuittracer.spi.attribution.Attributor;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.viewer.work.ModelWorkbench;
import org.circuittracer.viewer.work.NewGraphRequest;
import org.circuittracer.viewer.work.ReplacementWorkbench;
import org.circuittracer.viewer.work.SteerRequest;
import org.circuittracer.viewer.work.SteerResult;
import org.circuittracer.viewer.work.WorkbenchInfo;

/**
 * The workbench of {@code serve} and {@code attribute --server}: the viewer's {@link ReplacementWorkbench} for prompts
 * and steering, plus new graphs from a chat, which the model's own chat template turns into the prompt and which go
 * through {@link PromptAttribution} as {@code attribute --chat-file} does (so the graph records the template
 * positions the same way). The viewer module knows no chat template; this side of the command line does.
 */
final class ServeWorkbench implements ModelWorkbench {

    private final ReplacementWorkbench plain;
    private final TransformerModel model;
    private final PromptAttribution pipeline;
    private final Path modelDirectory;
    private final boolean chatTemplate;

    /** @param modelDirectory the model's Hugging Face directory, where its chat template is; null when it has none */
    ServeWorkbench(TransformerModel model, SparseDictionary dictionary, Attributor attributor, Path modelDirectory) {
        this.plain = new ReplacementWorkbench(model, dictionary, attributor);
        this.model = model;
        this.pipeline = new PromptAttribution(model, dictionary, attributor);
        this.modelDirectory = modelDirectory;
        this.chatTemplate = modelDirectory != null && hasChatTemplate(modelDirectory);
    }

    /** Whether the directory has a chat template; a broken one counts, so that a chat request says what is wrong. */
    private static boolean hasChatTemplate(Path modelDirectory) {
        try {
            ChatTemplate.load(modelDirectory);
            return true;
        } catch (CircuitTracerException e) {
            return e.errorCode() != StandardErrorCode.FILE_NOT_FOUND;
        }
    }

    @Override
    public WorkbenchInfo info() {
        return plain.info().withChatTemplate(chatTemplate);
    }

    @Override
    public GraphJsonExporter.Result createGraph(NewGraphRequest r, Path directory, AttributionListener listener) {
        if (r.chat() == null) {
            return plain.createGraph(r, directory, listener);
        }
        ChatPrompt prompt = chatPrompt(r);
        PromptAttribution.Settings settings = new PromptAttribution.Settings(r.maxNLogits(), r.desiredLogitProb(),
                r.maxFeatureNodes(), r.batchSize(), r.nodeThreshold(), r.edgeThreshold(), false);
        PromptAttribution.Request request = new PromptAttribution.Request(null, prompt.ids().ids(), r.slug(),
                r.targets().isEmpty() ? null : r.targets(), settings, directory, null, true, List.of(),
                List.copyOf(prompt.templatePositions()));
        List<String> warnings = new ArrayList<>();
        prompt.warning().ifPresent(warnings::add);
        GraphJsonExporter.Result e = pipeline.run(request, listener, warnings::add).export();
        if (warnings.isEmpty()) {
            return e;
        }
        warnings.addAll(e.warnings());
        return new GraphJsonExporter.Result(e.graphFile(), e.indexFile(), e.nodes(), e.links(), e.renamed(), warnings,
                e.scores());
    }

    @Override
    public void checkPrompt(NewGraphRequest r) {
        if (r.chat() == null) {
            plain.checkPrompt(r);
            return;
        }
        // the template's tokens, checked as token ids are (vocabulary, context, not only special tokens)
        plain.checkPrompt(new NewGraphRequest(null, chatPrompt(r).ids().ids(), r.slug(), r.maxNLogits(),
                r.desiredLogitProb(), r.maxFeatureNodes(), r.batchSize(), r.nodeThreshold(), r.edgeThreshold(),
                r.targets()));
    }

    @Override
    public void checkTargets(List<String> targets) {
        plain.checkTargets(targets);
    }

    @Override
    public SteerResult steer(SteerRequest request) {
        return plain.steer(request);
    }

    /**
     * The request's chat through the model's template, as {@code attribute --chat-file} builds it. The template's
     * refusals (no template, roles it does not take) are the request's fault: they become INVALID_ARGUMENT (HTTP 400)
     * with their message, not a missing file (404) or an internal error.
     */
    private ChatPrompt chatPrompt(NewGraphRequest r) {
        if (modelDirectory == null) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Model '"
                    + model.config().modelName() + "' has no model directory with a chat template; give a plain "
                    + "prompt instead of a chat.");
        }
        List<ChatMessage> messages = r.chat().stream().map(t -> new ChatMessage(t.role(), t.content())).toList();
        try {
            return ChatPrompts.build(messages, modelDirectory, model);
        } catch (CircuitTracerException e) {
            if (e.errorCode() == StandardErrorCode.FILE_NOT_FOUND
                    || e.errorCode().category() == ErrorCategory.USER_ERROR) {
                throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, e.getMessage(), e);
            }
            throw e;
        }
    }
}
