package org.circuittracer.cli;


import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.Tokenizer;
import org.circuittracer.testkit.fuzz.Fuzzer;
import org.junit.jupiter.api.Test;

/**
 * {@code --intervention} values ({@link InterventionSpec}: parsed, then resolved against a 4-layer dictionary and a
 * 5-token prompt), fuzzed with the testkit's harness (docs/develop/fuzzing.md). Main code is not changed here.
 */
class InterventionSpecFuzzTest {

    private static final String[] WORDS = {"<bos>", "Fact", ":", " Dallas", " is"};

    private static final SparseDictionary DICTIONARY = (SparseDictionary) Proxy.newProxyInstance(
            SparseDictionary.class.getClassLoader(), new Class<?>[] {SparseDictionary.class}, (proxy, method, args) ->
                    switch (method.getName()) {
                        case "layers" -> 4;
                        case "features" -> 16;
                        case "toString" -> "a 4-layer dictionary";
                        default -> throw new UnsupportedOperationException(method.getName());
                    });
    private static final Tokenizer TOKENIZER = (Tokenizer) Proxy.newProxyInstance(
            Tokenizer.class.getClassLoader(), new Class<?>[] {Tokenizer.class}, (proxy, method, args) ->
                    switch (method.getName()) {
                        case "tokenText" -> WORDS[Math.floorMod(((Number) args[0]).intValue(), WORDS.length)];
                        case "toString" -> "a 5-word tokenizer";
                        default -> throw new UnsupportedOperationException(method.getName());
                    });

    @Test
    void mutatedInterventionsParseAndResolveOrFailWithCircuitTracerException() {
        List<String> seeds = List.of("3:7:1234=5", "0:@Dallas:all*-1", "2:4..:17*2", "1:3..6:5=0", "0:-1:3 * 0.5",
                "3:*:all=0", "2:-3..-1:15*1e3");
        TokenSequence tokens = TokenSequence.of(0, 1, 2, 3, 4);
        Fuzzer.Result r = Fuzzer.named("--intervention").text().seedTexts(seeds)
                .strings(List.of("@", "@Dallas", "*", "..", "all", "=", "-", "1..", "..3", "5..2"))
                .run((input, dir) -> InterventionSpec.parse(new String(input, StandardCharsets.UTF_8))
                        .resolve(DICTIONARY, tokens, TOKENIZER));
        r.assertSomeLoaded();
        r.assertSomeRejected();
    }
}
