package dev.sluice.lb.subset;

import com.google.protobuf.Struct;
import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.config.cluster.v3.Cluster.LbSubsetConfig;
import io.envoyproxy.envoy.config.cluster.v3.Cluster.LbSubsetConfig.LbSubsetSelector;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * A cluster's validated {@code lb_subset_config}.
 *
 * @param fallback what to do when no subset matches the request's metadata
 * @param defaultSubset {@code default_subset}: the endpoint metadata DEFAULT_SUBSET falls back to
 * @param selectors {@code subset_selectors}
 * @param localityWeightAware {@code locality_weight_aware}: subsets keep locality weights
 * @param scaleLocalityWeight {@code scale_locality_weight}: a locality's weight shrinks with the
 *     share of its hosts in the subset
 * @param panicModeAny {@code panic_mode_any}: when the fallback finds no host, any host
 * @param listAsAny {@code list_as_any}: an endpoint list value matches each of its elements
 * @param metadataFallbackList {@code metadata_fallback_policy: FALLBACK_LIST}
 */
public record SubsetConfig(
    Fallback fallback,
    Struct defaultSubset,
    List<Selector> selectors,
    boolean localityWeightAware,
    boolean scaleLocalityWeight,
    boolean panicModeAny,
    boolean listAsAny,
    boolean metadataFallbackList) {

  /** The cluster-wide {@code fallback_policy}. */
  public enum Fallback {
    NO_FALLBACK,
    ANY_ENDPOINT,
    DEFAULT_SUBSET
  }

  /** A selector's own {@code fallback_policy}; NOT_DEFINED defers to the cluster's. */
  public enum SelectorFallback {
    NOT_DEFINED,
    NO_FALLBACK,
    ANY_ENDPOINT,
    DEFAULT_SUBSET,
    KEYS_SUBSET
  }

  /**
   * One {@code subset_selectors} entry.
   *
   * @param keys the metadata keys, sorted
   * @param fallbackKeys {@code fallback_keys_subset} (KEYS_SUBSET only), sorted
   */
  public record Selector(Set<String> keys, boolean singleHostPerSubset, SelectorFallback fallback,
      Set<String> fallbackKeys) {}

  public SubsetConfig {
    selectors = List.copyOf(selectors);
  }

  public static SubsetConfig parse(LbSubsetConfig c, String path) {
    Fallback fallback = switch (c.getFallbackPolicy()) {
      case NO_FALLBACK -> Fallback.NO_FALLBACK;
      case ANY_ENDPOINT -> Fallback.ANY_ENDPOINT;
      case DEFAULT_SUBSET -> Fallback.DEFAULT_SUBSET;
      default -> throw new ConfigException(path + ".fallback_policy", "unknown value " + c.getFallbackPolicyValue());
    };
    List<Selector> selectors = new ArrayList<>();
    for (int i = 0; i < c.getSubsetSelectorsCount(); i++) {
      selectors.add(selector(c.getSubsetSelectors(i), path + ".subset_selectors[" + i + "]"));
    }
    return new SubsetConfig(fallback, c.getDefaultSubset(), selectors, c.getLocalityWeightAware(),
        c.getScaleLocalityWeight(), c.getPanicModeAny(), c.getListAsAny(),
        c.getMetadataFallbackPolicy() == LbSubsetConfig.LbSubsetMetadataFallbackPolicy.FALLBACK_LIST);
  }

  private static Selector selector(LbSubsetSelector s, String path) {
    Set<String> keys = new TreeSet<>(s.getKeysList());
    SelectorFallback fallback = switch (s.getFallbackPolicy()) {
      case NOT_DEFINED -> SelectorFallback.NOT_DEFINED;
      case NO_FALLBACK -> SelectorFallback.NO_FALLBACK;
      case ANY_ENDPOINT -> SelectorFallback.ANY_ENDPOINT;
      case DEFAULT_SUBSET -> SelectorFallback.DEFAULT_SUBSET;
      case KEYS_SUBSET -> SelectorFallback.KEYS_SUBSET;
      default -> throw new ConfigException(path + ".fallback_policy", "unknown value " + s.getFallbackPolicyValue());
    };
    Set<String> fallbackKeys = new TreeSet<>(s.getFallbackKeysSubsetList());
    if (fallback == SelectorFallback.KEYS_SUBSET) {
      // Envoy's checks on a KEYS_SUBSET selector.
      if (fallbackKeys.isEmpty()) {
        throw new ConfigException(path + ".fallback_keys_subset",
            "fallback_keys_subset cannot be empty when fallback_policy is KEYS_SUBSET");
      }
      if (!keys.containsAll(fallbackKeys)) {
        throw new ConfigException(path + ".fallback_keys_subset",
            "fallback_keys_subset must be a subset of selector keys");
      }
      if (fallbackKeys.equals(keys)) {
        throw new ConfigException(path + ".fallback_keys_subset",
            "fallback_keys_subset cannot be equal to keys");
      }
    }
    if (s.getSingleHostPerSubset() && keys.size() != 1) {
      throw new ConfigException(path + ".single_host_per_subset",
          "single_host_per_subset requires exactly one key");
    }
    return new Selector(java.util.Collections.unmodifiableSet(keys), s.getSingleHostPerSubset(),
        fallback, java.util.Collections.unmodifiableSet(fallbackKeys));
  }
}
