package org.circuittracer.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.circuittracer.attribution.intervention.Intervention;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.model.Positions;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.Tokenizer;

/**
 * One {@code --intervention} value: {@code LAYER:POSITION:FEATURE=VALUE} (set the activation) or
 * {@code LAYER:POSITION:FEATURE*FACTOR} (scale it).
 *
 * <ul>
 *   <li>POSITION: {@code 7}; {@code -1} (from the end); {@code 3..6} (positions 3, 4, 5); {@code 4..} (4 on, generated
 *       positions included); {@code *} (every position, generated ones included); {@code @Dallas} (the last prompt
 *       position whose token reads {@code Dallas}).</li>
 *   <li>FEATURE: a feature index, or {@code all} for every feature of the layer (for a scale, or {@code =0} to
 *       ablate: features that are not active are not changed by a scale).</li>
 * </ul>
 *
 * @param text the value as given, for messages
 */
record InterventionSpec(String text, int layer, String position, String feature, Intervention.Mode mode,
                        double value) {

    private static final Pattern SYNTAX = Pattern.compile("(\\d+):([^:]+):(\\d+|all)\\s*([=*])\\s*(.+)");
    private static final Pattern RANGE = Pattern.compile("(-?\\d+)\\.\\.(-?\\d+)?");

    /** Parses the syntax only; layers, positions and features are checked against the model in {@link #resolve}. */
    static InterventionSpec parse(String text) {
        Matcher m = SYNTAX.matcher(text.trim());
        if (!m.matches()) {
            throw invalid("--intervention '" + text + "' is not LAYER:POSITION:FEATURE=VALUE or "
                    + "LAYER:POSITION:FEATURE*FACTOR (e.g. 3:7:1234=5, 0:@Dallas:all*-1, 2:4..:17*2).");
        }
        double value;
        try {
            value = Double.parseDouble(m.group(5));
        } catch (NumberFormatException e) {
            throw invalid("--intervention '" + text + "': '" + m.group(5) + "' is not a number.");
        }
        if (!Double.isFinite(value)) {
            throw invalid("--intervention '" + text + "': the value must be finite.");
        }
        int layer;
        try {
            layer = Integer.parseInt(m.group(1));
        } catch (NumberFormatException e) {
            throw invalid("--intervention '" + text + "': layer " + m.group(1) + " is out of range.");
        }
        return new InterventionSpec(text, layer, m.group(2).trim(), m.group(3),
                m.group(4).equals("=") ? Intervention.Mode.SET : Intervention.Mode.SCALE, value);
    }

    /** The interventions this value stands for on {@code tokens}, checked against the dictionary. */
    List<Intervention> resolve(SparseDictionary dictionary, TokenSequence tokens, Tokenizer tokenizer) {
        if (layer >= dictionary.layers()) {
            throw invalid("--intervention '" + text + "': layer " + layer + " does not exist; the transcoders have "
                    + "layers 0 to " + (dictionary.layers() - 1) + ".");
        }
        Positions positions = positions(tokens, tokenizer);
        int features = dictionary.features(layer);
        List<Intervention> out = new ArrayList<>();
        if (feature.equals("all")) {
            for (int f = 0; f < features; f++) {
                out.add(new Intervention(layer, positions, f, mode, value));
            }
            return out;
        }
        int index;
        try {
            index = Integer.parseInt(feature);
        } catch (NumberFormatException e) {
            index = Integer.MAX_VALUE;
        }
        if (index >= features) {
            throw invalid("--intervention '" + text + "': feature " + feature + " does not exist; layer " + layer
                    + " has features 0 to " + (features - 1) + ".");
        }
        out.add(new Intervention(layer, positions, index, mode, value));
        return out;
    }

    private Positions positions(TokenSequence tokens, Tokenizer tokenizer) {
        if (position.equals("*")) {
            return Positions.all();
        }
        if (position.startsWith("@")) {
            String word = position.substring(1);
            for (int p = tokens.length() - 1; p >= 0; p--) {
                if (tokenizer.tokenText(tokens.get(p)).strip().equals(word)) {
                    return Positions.at(p);
                }
            }
            throw invalid("--intervention '" + text + "': no prompt token reads '" + word + "'. The prompt's tokens: "
                    + describe(tokens, tokenizer) + ".");
        }
        Matcher range = RANGE.matcher(position);
        try {
            if (range.matches()) {
                int start = Integer.parseInt(range.group(1));
                return range.group(2) == null ? Positions.from(start)
                        : Positions.range(start, Integer.parseInt(range.group(2)));
            }
            return Positions.at(Integer.parseInt(position));
        } catch (NumberFormatException e) {
            throw invalid("--intervention '" + text + "': position '" + position + "' is not N, A..B, A.., * or @TOKEN.");
        }
    }

    /** {@code 0:<bos> 1:Fact ...}: the prompt's positions, to choose from. */
    static String describe(TokenSequence tokens, Tokenizer tokenizer) {
        StringBuilder s = new StringBuilder();
        for (int p = 0; p < tokens.length(); p++) {
            s.append(p == 0 ? "" : " ").append(p).append(':').append(tokenizer.tokenText(tokens.get(p)));
        }
        return s.toString();
    }

    private static CircuitTracerException invalid(String message) {
        return new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, message);
    }
}
