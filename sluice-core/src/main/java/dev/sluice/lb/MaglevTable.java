package dev.sluice.lb;

import dev.sluice.api.upstream.Host;
import org.jspecify.annotations.Nullable;

/**
 * Maglev lookup table (Eisenbud et al., NSDI 2016) with Envoy's weighting: each host walks its
 * permutation {@code (offset + skip * j) % size}, where {@code offset = xxHash64(key) % size} and
 * {@code skip = xxHash64(key, seed 1) % (size - 1) + 1}; in iteration {@code k} a host claims a slot
 * only when {@code k * weight >= target}, its target then growing by the largest weight.
 */
final class MaglevTable implements HashTable {
  private final Host[] table;

  MaglevTable(WeightedHosts input, long tableSize, boolean useHostname) {
    int n = input.hosts().size();
    if (n == 0) {
      table = new Host[0];
      return;
    }
    int size = (int) tableSize;
    long[] offset = new long[n];
    long[] skip = new long[n];
    long[] next = new long[n];
    double[] targetWeight = new double[n];
    for (int i = 0; i < n; i++) {
      String key = WeightedHosts.hashKey(input.hosts().get(i), useHostname);
      offset[i] = Long.remainderUnsigned(XxHash64.hash(key, 0), size);
      skip[i] = Long.remainderUnsigned(XxHash64.hash(key, 1), size - 1) + 1;
    }
    Host[] t = new Host[size];
    int filled = 0;
    for (long iteration = 1; filled < size; iteration++) {
      for (int i = 0; i < n && filled < size; i++) {
        if (iteration * input.weights()[i] < targetWeight[i]) {
          continue;
        }
        targetWeight[i] += input.max();
        int slot = (int) ((offset[i] + skip[i] * next[i]) % size);
        while (t[slot] != null) {
          next[i]++;
          slot = (int) ((offset[i] + skip[i] * next[i]) % size);
        }
        t[slot] = input.hosts().get(i);
        next[i]++;
        filled++;
      }
    }
    table = t;
  }

  @Override
  public @Nullable Host choose(long hash, int attempt) {
    if (table.length == 0) {
      return null;
    }
    if (attempt > 0) {
      // Envoy flips many bits of the hash per retry attempt so retries spread across hosts.
      hash ^= ~0L - attempt + 1;
    }
    return table[(int) Long.remainderUnsigned(hash, table.length)];
  }
}
