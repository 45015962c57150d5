package org.circuittracer.chat.jinja;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.circuittracer.chat.ErrorCodes;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The Jinja semantics chat templates rely on, as Python's Jinja renders them. */
class JinjaEnvironmentTest {

    private static final Clock CLOCK = Clock.fixed(Instant.parse("2025-03-05T22:15:30Z"), ZoneOffset.UTC);
    private final JinjaEnvironment jinja = new JinjaEnvironment(CLOCK);

    private String render(String template, Map<String, ?> variables) {
        return jinja.render(template, variables, "the test template");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            // slices, with Python's clamping and steps
            "{{ xs[1:] }}                      | [2, 3, 4]",
            "{{ xs[-2:] }}                     | [3, 4]",
            "{{ xs[::-1] }}                    | [4, 3, 2, 1]",
            "{{ xs[::2] }}                     | [1, 3]",
            "{{ xs[3:0:-1] }}                  | [4, 3, 2]",
            "{{ xs[:10] }}                     | [1, 2, 3, 4]",
            "{{ xs[-1] }}                      | 4",
            "{{ s[1:3] }}{{ s[::-1] }}         | bcdcba",
            // keyword arguments take the whole expression
            "`{% set ns = namespace(last=xs|length - 1, seen=false) %}{{ ns.last }} {{ ns.seen }}` | 3 false",
            "{% set ns = namespace(n=0) %}{% for x in xs %}{% set ns.n = ns.n + x %}{% endfor %}{{ ns.n }}| 10",
            // not binds looser than tests and comparisons
            "{{ not missing is defined }}      | true",
            "{{ not xs is defined }}           | false",
            "{{ not 1 == 2 }}                  | true",
            "{{ not s and true }}              | false",
            "{{ 'a' if not missing is defined else 'b' }} | a",
            // Python string methods
            "{{ s.startswith('ab') }} {{ s.endswith(('x', 'cd')) }} {{ s.startswith('b') }} | true true false",
            "{{ 'a</t>b</t>c'.split('</t>')[-1] }} {{ ' a  b '.split() }} {{ 'a,b,c'.split(',', 1) }} | c ['a', 'b'] ['a', 'b,c']",
            "`{{ '\\n\\nx\\n'.lstrip('\\n') }}|{{ '  x  '.strip() }}|{{ 'xxay'.rstrip('y').lstrip('x') }}` | `x\n|x|a`",
            "{{ 'Ab'.upper() }}{{ 'Ab'.lower() }}{{ 'a-b-c'.replace('-', '+', 1) }} | ABaba+b-c",
            // tests and filters as Python defines them
            "{{ s is string }} {{ s is iterable }} {{ xs is iterable }} {{ m is iterable }} {{ 3 is iterable }} | true true true true false",
            "{{ flag is false }} {{ '' is false }} {{ none is none }} | true false true",
            "`{{ '\u00a0 x \\n' | trim }}|`      | `x|`",
            "`{{ m | tojson }}`                | `{\"a\": [1, \"x\\\"y\"], \"b\": null}`",
            "{{ 'tool_calls' in m }} {{ 'a' in m }} | false true",
            "{{ loop_check }}                  | ''",
    })
    void pythonSemantics(String template, String expected) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("a", List.of(1, "x\"y"));
        m.put("b", null);
        Map<String, Object> variables = Map.of("xs", List.of(1, 2, 3, 4), "s", "abcd", "m", m, "flag", false);
        assertThat(render(template, variables)).isEqualTo(expected.equals("''") ? "" : expected);
    }

    @Test
    void tojsonIndentsLikeJsonDumps() {
        Map<String, Object> tool = new LinkedHashMap<>();
        tool.put("name", "f");
        tool.put("args", List.of(1, Map.of()));
        tool.put("none", List.of());
        assertThat(render("{{ t | tojson(indent=4) }}", Map.of("t", tool))).isEqualTo("""
                {
                    "name": "f",
                    "args": [
                        1,
                        {}
                    ],
                    "none": []
                }""");
    }

    @Test
    void loopVariablesAndTrimBlocks() {
        String template = """
                {% for x in xs %}
                    {%- if loop.first %}[{% endif %}
                    {{- x }}{{ loop.index0 }}
                    {%- if not loop.last %},{% else %}]{% endif %}
                {% endfor %}
                """;
        assertThat(render(template, Map.of("xs", List.of("a", "b", "c")))).isEqualTo("[a0,b1,c2]");
    }

    @Test
    void oneTrailingNewlineOfTheTemplateIsDroppedButNotOfTheOutput() {
        assertThat(render("{{ x }}\n\n", Map.of("x", "a"))).isEqualTo("a\n");
        assertThat(render("{{ x }}\n", Map.of("x", "a\n"))).isEqualTo("a\n");
        assertThat(render("a\r\nb", Map.of())).isEqualTo("a\nb");
    }

    @Test
    void loopControlsWork() {
        assertThat(render("{% for x in xs %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}"
                + "{% endif %}{{ x }}{% endfor %}", Map.of("xs", List.of(1, 2, 3, 4, 5)))).isEqualTo("13");
    }

    @Test
    void templatesCannotIncludeFiles() {
        assertThatThrownBy(() -> render("{% include 'other.jinja' %}", Map.of()))
                .isInstanceOfSatisfying(CircuitTracerException.class, ErrorCodes.is(StandardErrorCode.MALFORMED_FILE));
    }

    @Test
    void whitespaceControlOnExpressionsAndComments() {
        assertThat(render("a\n  {{- x -}}  \nb {#- note -#}\n c", Map.of("x", "X"))).isEqualTo("aXbc");
    }

    @Test
    void strftimeNowIsDefinedAndReadsTheClock() {
        assertThat(render("{{ strftime_now is defined }} {{ strftime_now('%d %b %Y %H:%M') }}", Map.of()))
                .isEqualTo("true 05 Mar 2025 22:15");
    }

    @Test
    void raiseExceptionRefusesWithTheTemplatesMessage() {
        assertThatThrownBy(() -> render("a{{ raise_exception('Only user and assistant roles!') }}b", Map.of()))
                .isInstanceOfSatisfying(CircuitTracerException.class, ErrorCodes.is(StandardErrorCode.INVALID_ARGUMENT))
                .hasMessage("the test template refused the messages: Only user and assistant roles!");
    }

    @Test
    void brokenTemplatesFailInsteadOfRenderingHalf() {
        assertThatThrownBy(() -> render("{% if x %}unclosed", Map.of("x", true)))
                .isInstanceOfSatisfying(CircuitTracerException.class, ErrorCodes.is(StandardErrorCode.MALFORMED_FILE))
                .hasMessageStartingWith("the test template cannot be rendered: line ");
        assertThatThrownBy(() -> render("{{ no_such_function(1) }}", Map.of()))
                .hasMessageContaining("no_such_function");
        assertThatThrownBy(() -> render("{{ [1, 2][::0] }}", Map.of())).hasMessageContaining("step cannot be zero");
    }
}
