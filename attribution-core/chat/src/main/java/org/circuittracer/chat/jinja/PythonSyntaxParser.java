package org.circuittracer.chat.jinja;

import com.hubspot.jinjava.el.ExtendedSyntaxBuilder;
import com.hubspot.jinjava.el.ext.AstNamedParameter;
import com.hubspot.jinjava.el.ext.ExtendedParser;
import java.util.ArrayList;
import java.util.List;
import jinjava.de.odysseus.el.tree.impl.Builder;
import jinjava.de.odysseus.el.tree.impl.Parser;
import jinjava.de.odysseus.el.tree.impl.Scanner.ScanException;
import jinjava.de.odysseus.el.tree.impl.Scanner.Symbol;
import jinjava.de.odysseus.el.tree.impl.ast.AstNode;
import jinjava.de.odysseus.el.tree.impl.ast.AstParameters;
import jinjava.de.odysseus.el.tree.impl.ast.AstProperty;
import jinjava.de.odysseus.el.tree.impl.ast.AstUnary;

/**
 * jinjava's expression parser with the pieces of Jinja syntax that chat templates use and jinjava parses differently:
 * keyword arguments whose value is a whole expression ({@code namespace(i=messages|length - 1)}; jinjava binds
 * {@code =} like {@code +}, giving {@code (i=messages|length) - 1}), slices with a step ({@code messages[::-1]}), and
 * {@code not} binding looser than tests and comparisons ({@code not x is defined} is {@code not (x is defined)};
 * jinjava reads {@code (not x) is defined}, which is always true).
 *
 * <p>Needs jinjava's natural operator precedence ({@link JinjaEnvironment} turns it on): with it, {@link #value()}
 * only parses members, subscripts and calls, and the operators are parsed by the levels above.
 */
final class PythonSyntaxParser extends ExtendedParser {

    PythonSyntaxParser(Builder context, String input) {
        super(context, input);
    }

    @Override
    protected AstParameters params(Symbol left, Symbol right) throws ScanException, ParseException {
        consumeToken(left);
        List<AstNode> nodes = new ArrayList<>();
        AstNode first = parameter(false);
        if (first != null) {
            nodes.add(first);
            while (getToken().getSymbol() == Symbol.COMMA) {
                consumeToken();
                nodes.add(parameter(true));
            }
        }
        consumeToken(right);
        return createAstParameters(nodes);
    }

    private AstNode parameter(boolean required) throws ScanException, ParseException {
        if (getToken().getSymbol() == Symbol.IDENTIFIER && "=".equals(lookahead(0).getImage())) {
            String name = consumeToken().getImage();
            consumeToken(); // '='
            return new AstNamedParameter(identifier(name), expr(true));
        }
        return expr(required);
    }

    @Override
    protected AstNode unary(boolean required) throws ScanException, ParseException {
        if (getToken().getSymbol() == Symbol.NOT) {
            consumeToken();
            return createAstUnary(eq(true), AstUnary.NOT);
        }
        return super.unary(required);
    }

    @Override
    protected AstNode value() throws ScanException, ParseException {
        boolean lvalue = true;
        AstNode v = nonliteral();
        if (v == null) {
            v = literal();
            if (v == null) {
                return null;
            }
            lvalue = false;
        }
        while (true) {
            Symbol symbol = getToken().getSymbol();
            if (symbol == Symbol.DOT) {
                consumeToken();
                v = callIfCalled(createAstDot(v, consumeToken(Symbol.IDENTIFIER).getImage(), lvalue));
            } else if (symbol == Symbol.LBRACK) {
                v = subscript(v, lvalue);
            } else {
                return v;
            }
        }
    }

    /** {@code base[i]}, {@code base[start:stop]} or {@code base[start:stop:step]}, each part optional in a slice. */
    private AstNode subscript(AstNode base, boolean lvalue) throws ScanException, ParseException {
        consumeToken(Symbol.LBRACK);
        boolean strict = !context.isEnabled(Builder.Feature.NULL_PROPERTIES);
        AstNode start = expr(false);
        if (getToken().getSymbol() == Symbol.RBRACK) {
            if (start == null) {
                fail("an index");
            }
            consumeToken();
            return callIfCalled(createAstBracket(base, start, lvalue, strict));
        }
        consumeToken(Symbol.COLON);
        AstNode stop = expr(false);
        AstNode step = null;
        if (getToken().getSymbol() == Symbol.COLON) {
            consumeToken();
            step = expr(false);
        }
        consumeToken(Symbol.RBRACK);
        return new PythonSlice(base, start, stop, step, lvalue, strict,
                context.isEnabled(Builder.Feature.IGNORE_RETURN_TYPE));
    }

    private AstNode callIfCalled(AstProperty property) throws ScanException, ParseException {
        if (getToken().getSymbol() == Symbol.LPAREN && context.isEnabled(Builder.Feature.METHOD_INVOCATIONS)) {
            return createAstMethod(property, params());
        }
        return property;
    }

    /** Builds expression trees with this parser. */
    static final class SyntaxBuilder extends ExtendedSyntaxBuilder {

        private static final long serialVersionUID = 1L;

        SyntaxBuilder(Builder.Feature... features) {
            super(features);
        }

        @Override
        protected Parser createParser(String expression) {
            return new PythonSyntaxParser(this, expression);
        }
    }
}
