// Example tokens as shown: byte-fragment tokens ("\xe2\x80") merged with their neighbours until they decode as
// UTF-8 (docs/reference/graph-format.md §4.2); a merged piece takes the largest activation of its parts.

const BYTES = /^(\\x[0-9a-fA-F]{2})+$/;
const decoder = new TextDecoder('utf-8', { fatal: true });

function bytesOf(token) {
  if (BYTES.test(token)) {
    return token.match(/\\x([0-9a-fA-F]{2})/g).map((h) => parseInt(h.slice(2), 16));
  }
  return [...new TextEncoder().encode(token)];
}

/** Returns [{text, act, isTrain, parts}] for one example. */
export function mergeTokens(tokens, acts, trainIndex) {
  const out = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = String(tokens[i]);
    if (BYTES.test(t)) {
      let bytes = bytesOf(t);
      let act = acts[i] ?? 0;
      let isTrain = i === trainIndex;
      let j = i;
      let text = null;
      while (text === null && j - i <= 4) {
        try {
          text = decoder.decode(new Uint8Array(bytes));
        } catch {
          if (j + 1 >= tokens.length || j - i === 4) break;
          j++;
          bytes = bytes.concat(bytesOf(String(tokens[j])));
          act = Math.max(act, acts[j] ?? 0);
          isTrain = isTrain || j === trainIndex;
        }
      }
      if (text === null) { // never decodes: show the escapes themselves
        out.push({ text: t, act: acts[i] ?? 0, isTrain: i === trainIndex });
        continue;
      }
      out.push({ text, act, isTrain });
      i = j;
    } else {
      out.push({ text: t, act: acts[i] ?? 0, isTrain: i === trainIndex });
    }
  }
  return out;
}
