package dev.sluice.lb;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.sluice.api.config.ConfigException;
import dev.sluice.lb.LbConfig.Policy;
import dev.sluice.lb.subset.SubsetConfig;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.LoadBalancingPolicy;
import io.envoyproxy.envoy.extensions.load_balancing_policies.common.v3.LocalityLbConfig;
import io.envoyproxy.envoy.extensions.load_balancing_policies.least_request.v3.LeastRequest;
import io.envoyproxy.envoy.extensions.load_balancing_policies.maglev.v3.Maglev;
import io.envoyproxy.envoy.extensions.load_balancing_policies.random.v3.Random;
import io.envoyproxy.envoy.extensions.load_balancing_policies.ring_hash.v3.RingHash;
import io.envoyproxy.envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin;
import io.envoyproxy.envoy.extensions.load_balancing_policies.wrr_locality.v3.WrrLocality;
import java.math.BigInteger;
import org.jspecify.annotations.Nullable;

/**
 * Reads a cluster's load-balancing configuration: {@code load_balancing_policy} when present (the
 * first policy Sluice supports wins, as Envoy), otherwise {@code lb_policy} with the legacy
 * {@code *_lb_config} and {@code common_lb_config}.
 */
public final class LbConfigParser {
  private static final long MAX_RING_SIZE = 8 * 1024 * 1024;
  private static final long MAX_MAGLEV_TABLE_SIZE = 5000011;

  private LbConfigParser() {}

  public static LbConfig parse(Cluster cluster) {
    int panic = panicThreshold(cluster);
    boolean originalDst = cluster.getType() == Cluster.DiscoveryType.ORIGINAL_DST;
    LbConfig config;
    if (cluster.getLoadBalancingPolicy().getPoliciesCount() > 0) {
      config = fromPolicies(cluster.getLoadBalancingPolicy(), "load_balancing_policy", panic);
    } else {
      config = fromLegacy(cluster, panic);
    }
    if (originalDst && config.policy() != Policy.CLUSTER_PROVIDED) {
      throw new ConfigException("lb_policy", "LB policy " + config.policy()
          + " is not valid for Cluster type ORIGINAL_DST. Only 'CLUSTER_PROVIDED' is allowed with"
          + " cluster type 'ORIGINAL_DST'");
    }
    if (!originalDst && config.policy() == Policy.CLUSTER_PROVIDED) {
      throw new ConfigException("lb_policy", "LB policy CLUSTER_PROVIDED is not valid for Cluster"
          + " type " + cluster.getType());
    }
    if (cluster.hasLbSubsetConfig() && !cluster.getLbSubsetConfig().getSubsetSelectorsList().isEmpty()) {
      if (config.policy() == Policy.CLUSTER_PROVIDED) {
        throw new ConfigException("lb_subset_config", "subset load balancing is not supported with"
            + " lb_policy CLUSTER_PROVIDED");
      }
      config = config.withSubset(SubsetConfig.parse(cluster.getLbSubsetConfig(), "lb_subset_config"));
    }
    return config;
  }

  /** ROUND_ROBIN and LEAST_REQUEST {@code slow_start_config}; null when the window is unset or 0. */
  private static @Nullable SlowStart slowStart(boolean present, com.google.protobuf.Duration window,
      boolean hasAggression, double aggression, boolean hasMin, double minPercent, String path) {
    if (!present || window.getSeconds() == 0 && window.getNanos() == 0) {
      return null;
    }
    long nanos = java.time.Duration.ofSeconds(window.getSeconds(), window.getNanos()).toNanos();
    if (nanos < 0) {
      throw new ConfigException(path + ".slow_start_window", "must not be negative");
    }
    double a = hasAggression ? aggression : 1.0;
    if (!(a > 0) || Double.isInfinite(a)) {
      throw new ConfigException(path + ".aggression.default_value", "must be greater than 0.0, got " + a);
    }
    double min = hasMin ? minPercent : 10.0;
    if (!(min >= 0 && min <= 100)) {
      throw new ConfigException(path + ".min_weight_percent.value", "must be between 0 and 100, got " + min);
    }
    return new SlowStart(nanos, a, min / 100.0);
  }

  private static @Nullable SlowStart slowStart(Cluster.SlowStartConfig s, boolean present, String path) {
    return slowStart(present, s.getSlowStartWindow(), s.hasAggression(), s.getAggression().getDefaultValue(),
        s.hasMinWeightPercent(), s.getMinWeightPercent().getValue(), path);
  }

  private static @Nullable SlowStart slowStart(
      io.envoyproxy.envoy.extensions.load_balancing_policies.common.v3.SlowStartConfig s,
      boolean present, String path) {
    return slowStart(present, s.getSlowStartWindow(), s.hasAggression(), s.getAggression().getDefaultValue(),
        s.hasMinWeightPercent(), s.getMinWeightPercent().getValue(), path);
  }

  private static int panicThreshold(Cluster cluster) {
    if (!cluster.getCommonLbConfig().hasHealthyPanicThreshold()) {
      return 50;
    }
    double value = cluster.getCommonLbConfig().getHealthyPanicThreshold().getValue();
    if (value < 0 || value > 100 || Double.isNaN(value)) {
      throw new ConfigException("common_lb_config.healthy_panic_threshold.value",
          "must be between 0 and 100, got " + value);
    }
    return (int) Math.round(value);
  }

  private static LbConfig fromLegacy(Cluster c, int panic) {
    boolean localityWeighted = c.getCommonLbConfig().hasLocalityWeightedLbConfig();
    boolean useHostname = c.getCommonLbConfig().getConsistentHashingLbConfig().getUseHostnameForHashing();
    LbConfig d;
    switch (c.getLbPolicy()) {
      case ROUND_ROBIN -> {
        return new LbConfig(Policy.ROUND_ROBIN, 2, 1.0, false, 0, 0, false, 0, false,
            localityWeighted, panic).withSlowStart(slowStart(c.getRoundRobinLbConfig().getSlowStartConfig(),
                c.getRoundRobinLbConfig().hasSlowStartConfig(), "round_robin_lb_config.slow_start_config"));
      }
      case RANDOM -> d = LbConfig.defaults(Policy.RANDOM);
      case CLUSTER_PROVIDED -> d = LbConfig.defaults(Policy.CLUSTER_PROVIDED);
      case LEAST_REQUEST -> {
        var lr = c.getLeastRequestLbConfig();
        int choices = lr.hasChoiceCount() ? lr.getChoiceCount().getValue() : 2;
        if (choices < 2) {
          throw new ConfigException("least_request_lb_config.choice_count", "must be at least 2");
        }
        double bias = lr.hasActiveRequestBias() ? lr.getActiveRequestBias().getDefaultValue() : 1.0;
        return new LbConfig(Policy.LEAST_REQUEST, choices, checkBias(bias,
            "least_request_lb_config.active_request_bias.default_value"), false, 0, 0, false, 0,
            false, localityWeighted, panic).withSlowStart(slowStart(lr.getSlowStartConfig(),
                lr.hasSlowStartConfig(), "least_request_lb_config.slow_start_config"));
      }
      case RING_HASH -> {
        var rh = c.getRingHashLbConfig();
        long min = rh.hasMinimumRingSize() ? rh.getMinimumRingSize().getValue() : LbConfig.DEFAULT_MIN_RING_SIZE;
        long max = rh.hasMaximumRingSize() ? rh.getMaximumRingSize().getValue() : LbConfig.DEFAULT_MAX_RING_SIZE;
        checkRing(min, max, "ring_hash_lb_config");
        return new LbConfig(Policy.RING_HASH, 2, 1.0, false, min, max,
            rh.getHashFunction() == Cluster.RingHashLbConfig.HashFunction.MURMUR_HASH_2, 0,
            useHostname, localityWeighted, panic);
      }
      case MAGLEV -> {
        long size = c.getMaglevLbConfig().hasTableSize()
            ? c.getMaglevLbConfig().getTableSize().getValue() : LbConfig.DEFAULT_MAGLEV_TABLE_SIZE;
        checkTableSize(size, "maglev_lb_config.table_size");
        return new LbConfig(Policy.MAGLEV, 2, 1.0, false, 0, 0, false, size, useHostname,
            localityWeighted, panic);
      }
      case LOAD_BALANCING_POLICY_CONFIG -> throw new ConfigException("load_balancing_policy",
          "lb_policy LOAD_BALANCING_POLICY_CONFIG needs load_balancing_policy.policies");
      default -> throw new ConfigException("lb_policy", "unsupported lb policy " + c.getLbPolicy());
    }
    return new LbConfig(d.policy(), 2, 1.0, false, 0, 0, false, 0, false, localityWeighted, panic);
  }

  private static LbConfig fromPolicies(LoadBalancingPolicy lbp, String path, int panic) {
    StringBuilder seen = new StringBuilder();
    for (int i = 0; i < lbp.getPoliciesCount(); i++) {
      Any any = lbp.getPolicies(i).getTypedExtensionConfig().getTypedConfig();
      String at = path + ".policies[" + i + "].typed_extension_config.typed_config";
      LbConfig config = fromTyped(any, at, panic);
      if (config != null) {
        return config;
      }
      seen.append(seen.isEmpty() ? "" : ", ").append(any.getTypeUrl());
    }
    throw new ConfigException(path, "no supported load balancing policy among: " + seen);
  }

  private static @Nullable LbConfig fromTyped(Any any, String path, int panic) {
    String type = any.getTypeUrl().substring(any.getTypeUrl().lastIndexOf('/') + 1);
    switch (type) {
      case "envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin" -> {
        RoundRobin rr = unpack(any, RoundRobin.class, path);
        return new LbConfig(Policy.ROUND_ROBIN, 2, 1.0, false, 0, 0, false, 0, false,
            localityWeighted(rr.getLocalityLbConfig()), panic).withSlowStart(
                slowStart(rr.getSlowStartConfig(), rr.hasSlowStartConfig(), path + ".slow_start_config"));
      }
      case "envoy.extensions.load_balancing_policies.random.v3.Random" -> {
        Random r = unpack(any, Random.class, path);
        return new LbConfig(Policy.RANDOM, 2, 1.0, false, 0, 0, false, 0, false,
            localityWeighted(r.getLocalityLbConfig()), panic);
      }
      case "envoy.extensions.load_balancing_policies.least_request.v3.LeastRequest" -> {
        LeastRequest lr = unpack(any, LeastRequest.class, path);
        int choices = lr.hasChoiceCount() ? lr.getChoiceCount().getValue() : 2;
        if (choices < 2) {
          throw new ConfigException(path + ".choice_count", "must be at least 2");
        }
        double bias = lr.hasActiveRequestBias() ? lr.getActiveRequestBias().getDefaultValue() : 1.0;
        return new LbConfig(Policy.LEAST_REQUEST, choices,
            checkBias(bias, path + ".active_request_bias.default_value"),
            lr.getSelectionMethod() == LeastRequest.SelectionMethod.FULL_SCAN, 0, 0, false, 0, false,
            localityWeighted(lr.getLocalityLbConfig()), panic).withSlowStart(
                slowStart(lr.getSlowStartConfig(), lr.hasSlowStartConfig(), path + ".slow_start_config"));
      }
      case "envoy.extensions.load_balancing_policies.ring_hash.v3.RingHash" -> {
        RingHash rh = unpack(any, RingHash.class, path);
        long min = rh.hasMinimumRingSize() ? rh.getMinimumRingSize().getValue() : LbConfig.DEFAULT_MIN_RING_SIZE;
        long max = rh.hasMaximumRingSize() ? rh.getMaximumRingSize().getValue() : LbConfig.DEFAULT_MAX_RING_SIZE;
        checkRing(min, max, path);
        return new LbConfig(Policy.RING_HASH, 2, 1.0, false, min, max,
            rh.getHashFunction() == RingHash.HashFunction.MURMUR_HASH_2, 0,
            rh.getConsistentHashingLbConfig().getUseHostnameForHashing(),
            rh.hasLocalityWeightedLbConfig(), panic);
      }
      case "envoy.extensions.load_balancing_policies.maglev.v3.Maglev" -> {
        Maglev m = unpack(any, Maglev.class, path);
        long size = m.hasTableSize() ? m.getTableSize().getValue() : LbConfig.DEFAULT_MAGLEV_TABLE_SIZE;
        checkTableSize(size, path + ".table_size");
        return new LbConfig(Policy.MAGLEV, 2, 1.0, false, 0, 0, false, size,
            m.getConsistentHashingLbConfig().getUseHostnameForHashing(),
            m.hasLocalityWeightedLbConfig(), panic);
      }
      case "envoy.extensions.load_balancing_policies.wrr_locality.v3.WrrLocality" -> {
        // Weighted-round-robin over localities around an endpoint picking policy.
        WrrLocality w = unpack(any, WrrLocality.class, path);
        LbConfig inner = fromPolicies(w.getEndpointPickingPolicy(), path + ".endpoint_picking_policy", panic);
        return new LbConfig(inner.policy(), inner.choiceCount(), inner.activeRequestBias(),
            inner.fullScan(), inner.minRingSize(), inner.maxRingSize(), inner.murmurHash(),
            inner.maglevTableSize(), inner.useHostnameForHashing(), true, panic, inner.slowStart(), null);
      }
      default -> {
        return null;
      }
    }
  }

  private static boolean localityWeighted(LocalityLbConfig config) {
    return config.hasLocalityWeightedLbConfig();
  }

  private static <T extends Message> T unpack(Any any, Class<T> type, String path) {
    try {
      return any.unpack(type);
    } catch (InvalidProtocolBufferException e) {
      throw new ConfigException(path, "cannot decode " + type.getSimpleName() + ": " + e.getMessage(), e);
    }
  }

  private static double checkBias(double bias, String path) {
    if (bias < 0 || Double.isNaN(bias) || Double.isInfinite(bias)) {
      throw new ConfigException(path, "active_request_bias must be a finite non-negative number");
    }
    return bias;
  }

  private static void checkRing(long min, long max, String path) {
    if (min < 1 || min > MAX_RING_SIZE) {
      throw new ConfigException(path + ".minimum_ring_size", "must be between 1 and " + MAX_RING_SIZE);
    }
    if (max > MAX_RING_SIZE) {
      throw new ConfigException(path + ".maximum_ring_size", "must be at most " + MAX_RING_SIZE);
    }
    if (min > max) {
      throw new ConfigException(path, "minimum_ring_size (" + min + ") > maximum_ring_size (" + max + ")");
    }
  }

  private static void checkTableSize(long size, String path) {
    if (size > MAX_MAGLEV_TABLE_SIZE || !BigInteger.valueOf(size).isProbablePrime(50)) {
      throw new ConfigException(path, "The table size of maglev must be prime number (at most "
          + MAX_MAGLEV_TABLE_SIZE + "), got " + size);
    }
  }
}
