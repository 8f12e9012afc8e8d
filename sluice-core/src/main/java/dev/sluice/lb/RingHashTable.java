package dev.sluice.lb;

import dev.sluice.api.upstream.Host;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's ketama-style hash ring. The least-weighted host gets {@code ceil(min_weight *
 * minimum_ring_size)} entries and the others proportionally more (capped at
 * {@code maximum_ring_size} in total); entry {@code i} of a host hashes {@code "<ip:port>_<i>"}
 * with xxHash64 (or MurmurHash2). A key maps to the first entry whose hash is not below it,
 * wrapping around.
 */
final class RingHashTable implements HashTable {
  private final long[] hashes;
  private final Host[] hosts;

  RingHashTable(WeightedHosts input, long minRingSize, long maxRingSize, boolean murmur,
      boolean useHostname) {
    int n = input.hosts().size();
    if (n == 0) {
      hashes = new long[0];
      hosts = new Host[0];
      return;
    }
    double scale = Math.min(Math.ceil(input.min() * minRingSize) / input.min(), (double) maxRingSize);
    int ringSize = (int) Math.ceil(scale);
    long[] entryHash = new long[ringSize + n];
    int[] entryHost = new int[ringSize + n];
    int count = 0;
    double current = 0;
    double target = 0;
    for (int h = 0; h < n; h++) {
      byte[] prefix = (WeightedHosts.hashKey(input.hosts().get(h), useHostname) + "_")
          .getBytes(StandardCharsets.UTF_8);
      target += scale * input.weights()[h];
      for (long i = 0; current < target; i++) {
        byte[] suffix = Long.toString(i).getBytes(StandardCharsets.UTF_8);
        byte[] key = Arrays.copyOf(prefix, prefix.length + suffix.length);
        System.arraycopy(suffix, 0, key, prefix.length, suffix.length);
        long hash = murmur ? MurmurHash2.hash(key, MurmurHash2.STD_HASH_SEED) : XxHash64.hash(key, 0);
        if (count == entryHash.length) {
          entryHash = Arrays.copyOf(entryHash, count * 2);
          entryHost = Arrays.copyOf(entryHost, count * 2);
        }
        entryHash[count] = hash;
        entryHost[count] = h;
        count++;
        current++;
      }
    }
    // Sort entries by unsigned hash; stable so equal hashes keep host order, as std::sort's result
    // for distinct hashes is the same either way.
    Integer[] idx = new Integer[count];
    for (int i = 0; i < count; i++) {
      idx[i] = i;
    }
    final long[] eh = entryHash;
    Arrays.sort(idx, (a, b) -> Long.compareUnsigned(eh[a], eh[b]));
    hashes = new long[count];
    hosts = new Host[count];
    for (int i = 0; i < count; i++) {
      hashes[i] = entryHash[idx[i]];
      hosts[i] = input.hosts().get(entryHost[idx[i]]);
    }
  }

  int size() {
    return hashes.length;
  }

  @Override
  public @Nullable Host choose(long hash, int attempt) {
    if (hashes.length == 0) {
      return null;
    }
    int lo = 0;
    int hi = hashes.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (Long.compareUnsigned(hashes[mid], hash) < 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    int index = lo == hashes.length ? 0 : lo;
    if (attempt > 0) {
      // As Envoy: behave as if the chosen entry were absent by walking further round the ring.
      index = (int) ((index + (long) attempt) % hashes.length);
    }
    return hosts[index];
  }
}
