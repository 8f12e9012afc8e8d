package dev.sluice.stats;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import org.jspecify.annotations.Nullable;

/**
 * The stats of one kind by name: an insert-only open-addressing hash table whose slots hold the
 * stats themselves, so a stat costs one array slot and no key or node object (a mesh has ~70
 * stats for each of thousands of clusters). Lookups are lock-free: they read the published table
 * with acquire semantics; a miss retries under the lock, where creation and growth happen (config
 * time only). A grown table is built whole and then published, so a reader still on the old one
 * finds every stat it held.
 */
final class StatTable<T extends StatsStore.Metric> {
  private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(Object[].class);

  private volatile Object[] slots = new Object[64];
  /** Guarded by {@code this}. */
  private int size;

  /** The stat named {@code prefix + suffix}, made by {@code create} when there is none. */
  T computeIfAbsent(String prefix, String suffix, BiFunction<String, String, T> create) {
    int hash = StatName.hash(prefix, suffix);
    T found = find(slots, prefix, suffix, hash);
    if (found != null) {
      return found;
    }
    synchronized (this) {
      found = find(slots, prefix, suffix, hash);
      if (found != null) {
        return found;
      }
      T created = create.apply(prefix, suffix);
      Object[] s = slots;
      if ((size + 1) * 4L > s.length * 3L) {
        s = grown(s);
        slots = s;
      }
      insert(s, created, hash);
      size++;
      return created;
    }
  }

  /** Every stat, in no particular order. */
  List<T> values() {
    Object[] s = slots;
    List<T> out = new ArrayList<>(s.length / 2);
    for (int i = 0; i < s.length; i++) {
      @SuppressWarnings("unchecked")
      T m = (T) SLOT.getAcquire(s, i);
      if (m != null) {
        out.add(m);
      }
    }
    return out;
  }

  private static <T extends StatsStore.Metric> @Nullable T find(Object[] s, String prefix, String suffix, int hash) {
    int mask = s.length - 1;
    for (int i = index(hash, mask); ; i = (i + 1) & mask) {
      @SuppressWarnings("unchecked")
      T m = (T) SLOT.getAcquire(s, i);
      if (m == null) {
        return null;
      }
      if (StatName.sameName(m.namePrefix(), m.nameSuffix(), prefix, suffix)) {
        return m;
      }
    }
  }

  private static void insert(Object[] s, StatsStore.Metric m, int hash) {
    int mask = s.length - 1;
    int i = index(hash, mask);
    while (SLOT.getAcquire(s, i) != null) {
      i = (i + 1) & mask;
    }
    // Release: a reader that sees the slot sees the stat fully built.
    SLOT.setRelease(s, i, m);
  }

  private static Object[] grown(Object[] s) {
    Object[] bigger = new Object[s.length * 2];
    for (Object o : s) {
      if (o != null) {
        StatsStore.Metric m = (StatsStore.Metric) o;
        insert(bigger, m, StatName.hash(m.namePrefix(), m.nameSuffix()));
      }
    }
    return bigger;
  }

  /** Spreads the string hash (names share long prefixes) over the slots. */
  private static int index(int hash, int mask) {
    int h = hash * 0x9E3779B9;
    return (h ^ (h >>> 16)) & mask;
  }
}
