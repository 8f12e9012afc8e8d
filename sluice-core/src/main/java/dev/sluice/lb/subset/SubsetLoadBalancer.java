package dev.sluice.lb.subset;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.sluice.api.upstream.Host;
import dev.sluice.api.upstream.LoadBalancer;
import dev.sluice.api.upstream.LoadBalancerContext;
import dev.sluice.lb.LbSnapshot;
import dev.sluice.lb.SnapshotSource;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's subset load balancer, one per worker. The request's {@code metadata_match} (its
 * {@code envoy.lb} fields) names a subset; when one with exactly those keys and values has hosts,
 * its balancer picks ({@code lb_subsets_selected}, even when that finds no host). Otherwise the
 * selector with exactly those keys decides by its own fallback policy, else the cluster's
 * {@code fallback_policy} does ({@code lb_subsets_fallback}), and with {@code panic_mode_any} any
 * host when that fallback found none ({@code lb_subsets_fallback_panic}). Requests without
 * metadata go to the cluster's fallback. With {@code metadata_fallback_policy: FALLBACK_LIST}, the
 * entries of the {@code fallback_list} key, each merged over the rest of the metadata, are tried
 * in order until one yields a host.
 */
public final class SubsetLoadBalancer implements LoadBalancer {
  private static final String FALLBACK_LIST = "fallback_list";

  /** Makes the balancer of one subset, with the cluster's policy, reading a fixed snapshot. */
  @FunctionalInterface
  public interface Children {
    LoadBalancer create(long seed, SnapshotSource source);
  }

  private final SnapshotSource source;
  private final Children children;
  private final SubsetStats stats;
  private final long seed;
  private @Nullable LbSnapshot current;
  private LoadBalancer[] balancers = new LoadBalancer[0];

  public SubsetLoadBalancer(SnapshotSource source, Children children, SubsetStats stats, long seed) {
    this.source = source;
    this.children = children;
    this.stats = stats;
    this.seed = seed;
  }

  @Override
  public @Nullable Host chooseHost(LoadBalancerContext context) {
    LbSnapshot snapshot = source.current();
    SubsetSnapshot subsets = snapshot.subsets();
    if (subsets == null) {
      return null;
    }
    if (snapshot != current) {
      current = snapshot;
      balancers = new LoadBalancer[subsets.subsetCount];
    }
    Struct criteria = criteria(context);
    if (criteria != null && subsets.config.metadataFallbackList()) {
      Value list = criteria.getFieldsMap().get(FALLBACK_LIST);
      if (list != null) {
        Struct base = criteria.toBuilder().removeFields(FALLBACK_LIST).build();
        if (!list.hasListValue() || list.getListValue().getValuesCount() == 0) {
          return choose(subsets, context, base);
        }
        for (Value variant : list.getListValue().getValuesList()) {
          Struct merged = base.toBuilder().putAllFields(variant.getStructValue().getFieldsMap()).build();
          Host host = choose(subsets, context, merged);
          if (host != null) {
            return host;
          }
        }
        return null;
      }
    }
    return choose(subsets, context, criteria);
  }

  private static @Nullable Struct criteria(LoadBalancerContext context) {
    Metadata match = context.metadataMatchCriteria();
    if (match == null) {
      return null;
    }
    Struct s = match.getFilterMetadataMap().get(SubsetSnapshot.LB_NAMESPACE);
    return s == null || s.getFieldsCount() == 0 ? null : s;
  }

  private @Nullable Host choose(SubsetSnapshot subsets, LoadBalancerContext context, @Nullable Struct criteria) {
    if (criteria != null && criteria.getFieldsCount() > 0) {
      SubsetSnapshot.Subset subset = subsets.find(criteria);
      if (subset != null) {
        stats.selected.inc();
        return pick(subset, context);
      }
      SubsetConfig.Selector selector = subsets.selectorFor(criteria);
      if (selector != null && selector.fallback() != SubsetConfig.SelectorFallback.NOT_DEFINED) {
        return selectorFallback(subsets, selector, context, criteria);
      }
    }
    SubsetSnapshot.Subset fallback = subsets.fallback;
    if (fallback == null) {
      return null;
    }
    Host host = pick(fallback, context);
    if (host != null) {
      stats.fallback.inc();
      return host;
    }
    if (subsets.config.panicModeAny()) {
      host = pick(subsets.any, context);
      if (host != null) {
        stats.fallbackPanic.inc();
      }
      return host;
    }
    return null;
  }

  private @Nullable Host selectorFallback(SubsetSnapshot subsets, SubsetConfig.Selector selector,
      LoadBalancerContext context, Struct criteria) {
    return switch (selector.fallback()) {
      case ANY_ENDPOINT -> pick(subsets.any, context);
      case DEFAULT_SUBSET -> subsets.defaultSubset == null ? null : pick(subsets.defaultSubset, context);
      case KEYS_SUBSET -> {
        // Again, with the criteria reduced to the selector's fallback keys.
        Struct.Builder reduced = Struct.newBuilder();
        for (String key : selector.fallbackKeys()) {
          Value v = criteria.getFieldsMap().get(key);
          if (v != null) {
            reduced.putFields(key, v);
          }
        }
        yield choose(subsets, context, reduced.build());
      }
      case NO_FALLBACK, NOT_DEFINED -> null;
    };
  }

  private @Nullable Host pick(SubsetSnapshot.Subset subset, LoadBalancerContext context) {
    LoadBalancer lb = balancers[subset.id];
    if (lb == null) {
      LbSnapshot fixed = subset.snapshot;
      lb = children.create(seed * 31 + subset.id, () -> fixed);
      balancers[subset.id] = lb;
    }
    return lb.chooseHost(context);
  }
}
