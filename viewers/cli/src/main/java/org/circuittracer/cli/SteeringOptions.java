package org.circuittracer.cli;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.circuittracer.attribution.intervention.Intervention;
import org.circuittracer.attribution.intervention.InterventionOptions;
import org.circuittracer.attribution.intervention.ViewerUrl;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.Tokenizer;

import picocli.CommandLine;
import picocli.CommandLine.Option;

/** The interventions of {@code intervene} and {@code generate}, and how they are run. */
final class SteeringOptions {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = {"-i", "--intervention"}, paramLabel = "L:P:F=V|L:P:F*X",
            description = {"Set (=) or scale (*) feature F of layer L at position P (repeatable). P: N, -1, A..B "
                    + "(A to B-1), A.. (A on, generated tokens included), * (everywhere) or @TOKEN (the last prompt "
                    + "position whose token reads TOKEN). F: a feature index or 'all'. E.g. 3:7:1234=5, "
                    + "0:@Dallas:all*-1."})
    List<String> interventions = new ArrayList<>();

    @Option(names = "--supernodes", paramLabel = "URL|FILE",
            description = "A viewer URL with supernodes, or a JSON file holding one, or the supernodes array "
                    + "[[label, node_id, ...], ...] (or an object with a \"supernodes\" field).")
    String supernodes;

    @Option(names = "--scale-supernode", paramLabel = "LABEL=FACTOR",
            description = "Scale every feature of a supernode of --supernodes at its position by FACTOR (repeatable), "
                    + "e.g. \"say Austin=-2\".")
    List<String> scaleSupernodes = new ArrayList<>();

    @Option(names = "--mode", defaultValue = "iterative", paramLabel = "iterative|free|constrained|direct",
            description = "iterative: attention frozen, downstream features respond (default); free: nothing frozen; "
                    + "constrained: only --constrained-layers respond, against their clean values; direct: direct "
                    + "effects only (every layer constrained, norms frozen).")
    String mode;

    @Option(names = "--constrained-layers", paramLabel = "A..B",
            description = "Layers A to B-1, for --mode constrained (default: every layer).")
    String constrainedLayers;

    /** The parsed {@code --intervention} values; syntax errors are usage errors. */
    List<InterventionSpec> specs(CommandLine.Model.CommandSpec spec) {
        List<InterventionSpec> out = new ArrayList<>();
        for (String text : interventions) {
            try {
                out.add(InterventionSpec.parse(text));
            } catch (CircuitTracerException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "Invalid value: " + e.getMessage());
            }
        }
        if (out.isEmpty() && scaleSupernodes.isEmpty()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "Missing required option: give at least one "
                    + "--intervention (or --supernodes with --scale-supernode).");
        }
        if (!scaleSupernodes.isEmpty() && supernodes == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--scale-supernode needs --supernodes URL|FILE.");
        }
        for (String s : scaleSupernodes) {
            supernodeScale(s, spec);
        }
        options(Integer.MAX_VALUE, spec);
        return out;
    }

    /** The interventions of a run and how they are applied, resolved against the opened model and the prompt. */
    record Plan(List<Intervention> interventions, InterventionOptions options, String mode) {

        /** "N feature(s) (mode)" or, with a noun, "N feature noun(s) (mode)", for the progress line. */
        String describe(String noun) {
            int n = interventions.size();
            return n + " feature" + (noun.isEmpty() ? "" : " " + noun) + (n == 1 ? "" : "s") + " (" + mode + ")";
        }
    }

    /** {@code specs} and the scaled supernodes resolved on {@code loaded}'s model and dictionary for {@code tokens}. */
    Plan plan(List<InterventionSpec> specs, LoadedModel loaded, TokenSequence tokens, CommandLine.Model.CommandSpec spec) {
        return new Plan(resolve(specs, loaded.dictionary, tokens, loaded.model.tokenizer(), spec),
                options(loaded.model.config().layers(), spec), mode);
    }

    /** Every intervention: the explicit ones, then the scaled supernodes. */
    List<Intervention> resolve(List<InterventionSpec> specs, SparseDictionary dictionary, TokenSequence tokens,
                               Tokenizer tokenizer, CommandLine.Model.CommandSpec spec) {
        List<Intervention> out = new ArrayList<>();
        for (InterventionSpec s : specs) {
            out.addAll(s.resolve(dictionary, tokens, tokenizer));
        }
        if (!scaleSupernodes.isEmpty()) {
            ViewerUrl.Decoded decoded = ViewerUrl.decode(supernodeQuery(), dictionary.layers());
            for (String s : scaleSupernodes) {
                int eq = s.lastIndexOf('=');
                out.addAll(decoded.scale(s.substring(0, eq), supernodeScale(s, spec)));
            }
        }
        return out;
    }

    /** The intervention mode for a model of {@code layers} layers. */
    InterventionOptions options(int layers, CommandLine.Model.CommandSpec spec) {
        String chosen = mode.toLowerCase(Locale.ROOT);
        if (constrainedLayers != null && !chosen.equals("constrained")) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--constrained-layers goes with --mode "
                    + "constrained.");
        }
        return switch (chosen) {
            case "iterative" -> InterventionOptions.defaults();
            case "free" -> InterventionOptions.free();
            case "direct" -> InterventionOptions.directEffects(layers);
            case "constrained" -> {
                if (constrainedLayers == null) {
                    yield InterventionOptions.constrained(0, layers);
                }
                String[] parts = constrainedLayers.split("\\.\\.", -1);
                try {
                    yield InterventionOptions.constrained(Integer.parseInt(parts[0]), Integer.parseInt(parts[1]));
                } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "Invalid value for option "
                            + "'--constrained-layers': '" + constrainedLayers + "'; give A..B, e.g. 0..4.");
                }
            }
            default -> throw new CommandLine.ParameterException(spec.commandLine(), "Invalid value for option '--mode':"
                    + " '" + mode + "'; give iterative, free, constrained or direct.");
        };
    }

    private static double supernodeScale(String value, CommandLine.Model.CommandSpec spec) {
        int eq = value.lastIndexOf('=');
        try {
            if (eq > 0) {
                double factor = Double.parseDouble(value.substring(eq + 1));
                if (Double.isFinite(factor)) {
                    return factor;
                }
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new CommandLine.ParameterException(spec.commandLine(), "Invalid value for option '--scale-supernode': '"
                + value + "'; give LABEL=FACTOR, e.g. \"say Austin=-2\".");
    }

    /** The query string ViewerUrl reads: the URL itself, or {@code supernodes=<JSON>} from a file. */
    private String supernodeQuery() {
        Path file = Path.of(supernodes);
        if (!supernodes.contains("?") && !supernodes.startsWith("supernodes=") && Files.isRegularFile(file)) {
            try {
                String content = Files.readString(file).trim();
                if (content.startsWith("http") || content.startsWith("supernodes=") || content.startsWith("?")) {
                    return content;
                }
                JsonNode root = JSON.readTree(content);
                JsonNode groups = root != null && root.isObject() ? root.get("supernodes") : root;
                if (groups == null) {
                    throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "--supernodes " + file
                            + " has no \"supernodes\" field; give a viewer URL or [[label, node_id, ...], ...].");
                }
                String json = groups.isTextual() ? groups.asText() : groups.toString();
                return "supernodes=" + URLEncoder.encode(json, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, "--supernodes " + file
                        + " is neither a viewer URL nor JSON: " + e.getMessage(), e);
            }
        }
        if (!supernodes.contains("supernodes=") && !supernodes.contains("?")) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "--supernodes '" + supernodes + "' is "
                    + "neither a file nor a viewer URL with a supernodes parameter.");
        }
        return supernodes;
    }
}
