package dev.sluice.lb;

import org.jspecify.annotations.Nullable;

/**
 * A cluster's validated load-balancing settings, from {@code lb_policy} and its {@code *_lb_config}
 * or from the first supported {@code load_balancing_policy} entry; see {@link LbConfigParser}.
 *
 * @param choiceCount LEAST_REQUEST {@code choice_count} (2 by default)
 * @param activeRequestBias LEAST_REQUEST {@code active_request_bias} (1.0 by default)
 * @param fullScan LEAST_REQUEST {@code selection_method: FULL_SCAN}
 * @param minRingSize RING_HASH {@code minimum_ring_size} (1024 by default)
 * @param maxRingSize RING_HASH {@code maximum_ring_size} (8M by default)
 * @param murmurHash RING_HASH {@code hash_function: MURMUR_HASH_2} (else XX_HASH)
 * @param maglevTableSize MAGLEV {@code table_size} (65537 by default, a prime)
 * @param useHostnameForHashing {@code consistent_hashing_lb_config.use_hostname_for_hashing}
 * @param localityWeighted {@code locality_weighted_lb_config} is set
 * @param panicThreshold {@code healthy_panic_threshold} rounded to a percent (50 by default)
 * @param slowStart ROUND_ROBIN / LEAST_REQUEST {@code slow_start_config}, or null when off
 * @param subset {@code lb_subset_config}, or null when the cluster does not balance over subsets
 */
public record LbConfig(
    Policy policy,
    int choiceCount,
    double activeRequestBias,
    boolean fullScan,
    long minRingSize,
    long maxRingSize,
    boolean murmurHash,
    long maglevTableSize,
    boolean useHostnameForHashing,
    boolean localityWeighted,
    int panicThreshold,
    @Nullable SlowStart slowStart,
    dev.sluice.lb.subset.@Nullable SubsetConfig subset) {

  /** Settings without slow start or subsets. */
  public LbConfig(Policy policy, int choiceCount, double activeRequestBias, boolean fullScan,
      long minRingSize, long maxRingSize, boolean murmurHash, long maglevTableSize,
      boolean useHostnameForHashing, boolean localityWeighted, int panicThreshold) {
    this(policy, choiceCount, activeRequestBias, fullScan, minRingSize, maxRingSize, murmurHash,
        maglevTableSize, useHostnameForHashing, localityWeighted, panicThreshold, null, null);
  }

  public LbConfig withSlowStart(@Nullable SlowStart value) {
    return new LbConfig(policy, choiceCount, activeRequestBias, fullScan, minRingSize, maxRingSize,
        murmurHash, maglevTableSize, useHostnameForHashing, localityWeighted, panicThreshold, value,
        subset);
  }

  public LbConfig withSubset(dev.sluice.lb.subset.@Nullable SubsetConfig value) {
    return new LbConfig(policy, choiceCount, activeRequestBias, fullScan, minRingSize, maxRingSize,
        murmurHash, maglevTableSize, useHostnameForHashing, localityWeighted, panicThreshold,
        slowStart, value);
  }

  /** Envoy's load-balancing policies Sluice implements. */
  public enum Policy {
    ROUND_ROBIN,
    LEAST_REQUEST,
    RANDOM,
    RING_HASH,
    MAGLEV,
    /** The cluster picks hosts itself (ORIGINAL_DST). */
    CLUSTER_PROVIDED
  }

  public static final long DEFAULT_MIN_RING_SIZE = 1024;
  public static final long DEFAULT_MAX_RING_SIZE = 8 * 1024 * 1024;
  public static final long DEFAULT_MAGLEV_TABLE_SIZE = 65537;

  /** Defaults for a policy, as Envoy's. */
  public static LbConfig defaults(Policy policy) {
    return new LbConfig(policy, 2, 1.0, false, DEFAULT_MIN_RING_SIZE, DEFAULT_MAX_RING_SIZE, false,
        DEFAULT_MAGLEV_TABLE_SIZE, false, false, 50);
  }
}
