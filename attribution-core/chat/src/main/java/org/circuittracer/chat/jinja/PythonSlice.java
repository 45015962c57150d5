package org.circuittracer.chat.jinja;

import com.hubspot.jinjava.el.ext.AstRangeBracket;
import com.hubspot.jinjava.objects.collections.PyList;
import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.List;
import jinjava.de.odysseus.el.tree.Bindings;
import jinjava.de.odysseus.el.tree.impl.ast.AstNode;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELException;

/**
 * {@code sequence[start:stop:step]} with Python's rules: each part optional or {@code none}, negative indices count
 * from the end, out-of-range bounds are clamped, a negative step walks backwards. Strings are sliced by code point, as
 * Python does; lists and other iterables give a list.
 */
final class PythonSlice extends AstRangeBracket {

    private final AstNode step;

    PythonSlice(AstNode base, AstNode start, AstNode stop, AstNode step, boolean lvalue, boolean strict,
            boolean ignoreReturnType) {
        super(base, start, stop, lvalue, strict, ignoreReturnType);
        this.step = step;
    }

    @Override
    public Object eval(Bindings bindings, ELContext context) {
        Object base = prefix.eval(bindings, context);
        Integer start = index(property, "start", bindings, context);
        Integer stop = index(rangeMax, "stop", bindings, context);
        Integer stride = index(step, "step", bindings, context);
        int by = stride == null ? 1 : stride;
        if (by == 0) {
            throw new ELException("Slice step cannot be zero in " + this);
        }
        if (base instanceof CharSequence text) {
            int[] codePoints = text.codePoints().toArray();
            StringBuilder sliced = new StringBuilder();
            for (int i : positions(codePoints.length, start, stop, by)) {
                sliced.appendCodePoint(codePoints[i]);
            }
            return sliced.toString();
        }
        List<Object> items = items(base);
        List<Object> sliced = new ArrayList<>();
        for (int i : positions(items.size(), start, stop, by)) {
            sliced.add(items.get(i));
        }
        return new PyList(sliced);
    }

    /** The indices {@code slice(start, stop, step).indices(length)} visits. */
    static List<Integer> positions(int length, Integer start, Integer stop, int step) {
        int lower = step > 0 ? 0 : -1;
        int upper = step > 0 ? length : length - 1;
        int from = bound(start, step > 0 ? lower : upper, length, lower, upper);
        int to = bound(stop, step > 0 ? upper : lower, length, lower, upper);
        List<Integer> positions = new ArrayList<>();
        for (int i = from; step > 0 ? i < to : i > to; i += step) {
            positions.add(i);
        }
        return positions;
    }

    private static int bound(Integer value, int absent, int length, int lower, int upper) {
        if (value == null) {
            return absent;
        }
        int v = value < 0 ? value + length : value;
        return Math.max(lower, Math.min(upper, v));
    }

    private Integer index(AstNode node, String part, Bindings bindings, ELContext context) {
        if (node == null) {
            return null;
        }
        Object value = node.eval(bindings, context);
        if (value == null) {
            return null;
        }
        if (!(value instanceof Number number)) {
            throw new ELException("The slice " + part + " in " + this + " is not an integer: " + value);
        }
        return number.intValue();
    }

    private List<Object> items(Object base) {
        List<Object> items = new ArrayList<>();
        if (base instanceof Iterable<?> iterable) {
            iterable.forEach(items::add);
        } else if (base != null && base.getClass().isArray()) {
            for (int i = 0; i < Array.getLength(base); i++) {
                items.add(Array.get(base, i));
            }
        } else {
            throw new ELException(prefix + " is not a sequence and cannot be sliced (it is " + base + ")");
        }
        return items;
    }

    @Override
    public String toString() {
        return "[::]";
    }
}
