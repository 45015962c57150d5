package org.circuittracer.demo.recipe;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.circuittracer.demo.corpus.DemoCorpus;
import org.circuittracer.demo.corpus.World.Athlete;
import org.circuittracer.demo.corpus.World.Language;
import org.circuittracer.demo.corpus.World.State;
import org.circuittracer.demo.corpus.World;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;

/**
 * How well a demo model knows its corpus: greedy next-token accuracy on each family of facts, separately for
 * statements it was trained on and for held-out ones.
 */
public final class DemoEvaluation {

    /** Accuracy on one family of prompts. */
    public record Score(String family, int correct, int total) {
        public double accuracy() {
            return total == 0 ? Double.NaN : correct / (double) total;
        }

        @Override
        public String toString() {
            return String.format("%-34s %3d / %3d  (%.0f %%)", family, correct, total, 100 * accuracy());
        }
    }

    /** One prompt and the expected next word. */
    public record Probe(String prompt, String expected) {
    }

    private DemoEvaluation() {
    }

    /** Every family of probes, by name. */
    public static Map<String, List<Probe>> probes() {
        Map<String, List<Probe>> out = new LinkedHashMap<>();
        List<Probe> twoHop = new ArrayList<>();
        List<Probe> twoHopHeldOut = new ArrayList<>();
        List<Probe> oneHop = new ArrayList<>();
        List<Probe> address = new ArrayList<>();
        List<Probe> capitals = new ArrayList<>();
        for (State s : World.STATES) {
            capitals.add(new Probe("The capital of " + s.name() + " is", s.capital()));
            for (String city : s.cities()) {
                Probe p = new Probe(DemoCorpus.twoHopPrompt(city), s.capital());
                (DemoCorpus.HELD_OUT.twoHopCities().contains(city) ? twoHopHeldOut : twoHop).add(p);
                oneHop.add(new Probe(city + " is a city in", s.name()));
                address.add(new Probe("Address: " + city, s.name()));
            }
        }
        out.put("two-hop capital (trained)", twoHop);
        out.put("two-hop capital (held out)", twoHopHeldOut);
        out.put("city -> state", oneHop);
        out.put("city -> state (address)", address);
        out.put("state -> capital", capitals);
        for (Language l : Language.values()) {
            List<Probe> trained = new ArrayList<>();
            List<Probe> heldOut = new ArrayList<>();
            for (Athlete a : World.ATHLETES) {
                Probe p = new Probe(DemoCorpus.sportPrompt(a, l), a.sport().name(l));
                boolean held = switch (l) {
                    case SPANISH -> DemoCorpus.HELD_OUT.spanishAthletes().contains(a.last());
                    case FRENCH -> DemoCorpus.HELD_OUT.frenchAthletes().contains(a.last());
                    case ENGLISH -> false;
                };
                (held ? heldOut : trained).add(p);
            }
            String name = l.name().toLowerCase();
            out.put("sport, " + name + " (trained)", trained);
            if (!heldOut.isEmpty()) {
                out.put("sport, " + name + " (held out)", heldOut);
            }
        }
        List<Probe> agreement = new ArrayList<>();
        for (List<String> subject : World.NOUNS) {
            for (List<String> object : World.NOUNS) {
                agreement.add(new Probe("The " + subject.get(0) + " of the " + object.get(1), "is"));
                agreement.add(new Probe("The " + subject.get(1) + " of the " + object.get(0), "are"));
            }
        }
        out.put("agreement (attractor noun)", agreement);
        List<Probe> ioi = new ArrayList<>();
        for (int i = 0; i < World.PEOPLE.size(); i++) {
            String a = World.PEOPLE.get(i);
            String b = World.PEOPLE.get((i + 5) % World.PEOPLE.size());
            ioi.add(new Probe("When " + a + " and " + b + " went to the park, " + b + " gave a book to", a));
        }
        out.put("indirect object", ioi);
        return out;
    }

    /** Scores {@code model} on every family. */
    public static List<Score> evaluate(TransformerModel model) {
        List<Score> scores = new ArrayList<>();
        for (Map.Entry<String, List<Probe>> family : probes().entrySet()) {
            int correct = 0;
            for (Probe p : family.getValue()) {
                if (p.expected().equals(topToken(model, p.prompt()))) {
                    correct++;
                }
            }
            scores.add(new Score(family.getKey(), correct, family.getValue().size()));
        }
        return scores;
    }

    /** The greedy next token after {@code BOS prompt}. */
    public static String topToken(TransformerModel model, String prompt) {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray logits = model.forward(manager, prompt(model, prompt), List.of()).logits();
            NDArray last = logits.get(logits.getShape().get(0) - 1);
            int id = (int) last.argMax().getLong();
            return model.tokenizer().tokenText(id);
        }
    }

    /** {@code BOS} followed by the prompt's ids. */
    public static TokenSequence prompt(TransformerModel model, String prompt) {
        int[] ids = model.tokenizer().encode(prompt, false);
        int[] withBos = new int[ids.length + 1];
        withBos[0] = model.tokenizer().bosTokenId().orElseThrow(() ->
                CircuitTracerException.invalidArgument("The demo model's tokenizer has no BOS token."));
        System.arraycopy(ids, 0, withBos, 1, ids.length);
        return TokenSequence.of(withBos);
    }
}
