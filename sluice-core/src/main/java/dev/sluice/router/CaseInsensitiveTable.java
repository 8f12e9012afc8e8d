package dev.sluice.router;

import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * An immutable open-addressing hash table from lower-case ASCII keys to values, looked up by a
 * region of any {@link CharSequence} with ASCII case folding and no allocation: the request's
 * {@code :authority} (or a suffix/prefix of it) is never copied or lower-cased to find its host.
 */
final class CaseInsensitiveTable<V> {
  private final String[] keys;
  private final Object[] values;
  private final int mask;

  /** @param entries keys already lower-case */
  CaseInsensitiveTable(Map<String, V> entries) {
    int capacity = Integer.highestOneBit(Math.max(4, entries.size() * 2 - 1)) << 1;
    keys = new String[capacity];
    values = new Object[capacity];
    mask = capacity - 1;
    for (Map.Entry<String, V> e : entries.entrySet()) {
      int i = hash(e.getKey(), 0, e.getKey().length()) & mask;
      while (keys[i] != null) {
        i = (i + 1) & mask;
      }
      keys[i] = e.getKey();
      values[i] = e.getValue();
    }
  }

  @SuppressWarnings("unchecked")
  @Nullable V get(CharSequence s, int from, int to) {
    int len = to - from;
    int i = hash(s, from, to) & mask;
    String k;
    while ((k = keys[i]) != null) {
      if (k.length() == len && StringMatcher.regionMatches(s, from, k, true)) {
        return (V) values[i];
      }
      i = (i + 1) & mask;
    }
    return null;
  }

  private static int hash(CharSequence s, int from, int to) {
    int h = 0;
    for (int i = from; i < to; i++) {
      h = 31 * h + StringMatcher.toLowerAscii(s.charAt(i));
    }
    return h ^ (h >>> 16);
  }
}
