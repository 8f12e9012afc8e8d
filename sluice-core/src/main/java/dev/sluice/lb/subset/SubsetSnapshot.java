package dev.sluice.lb.subset;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.sluice.api.upstream.Host;
import dev.sluice.lb.LbSnapshot;
import dev.sluice.lb.LocalityGroup;
import dev.sluice.lb.PrioritySet;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The subsets of one membership snapshot, built on the control thread whenever hosts or their
 * health change (Envoy rebuilds its subsets on every host set update). For each selector, every
 * distinct combination of the selector's keys' values in the endpoints' {@code envoy.lb} metadata
 * is a subset holding the endpoints with those values (any health: each subset has its own
 * priority loads and panic), balanced by the cluster's policy over a {@link PrioritySet} of its
 * own. Subsets are keyed by the {@link Struct} of their key/value pairs, the shape of the route's
 * {@code metadata_match}, so a request finds its subset with one hash lookup. Workers keep their
 * balancers per {@link Subset#id}.
 */
public final class SubsetSnapshot {
  /** The metadata namespace subset keys and the route's metadata_match live in. */
  public static final String LB_NAMESPACE = "envoy.lb";

  final SubsetConfig config;
  private final Map<Struct, Subset> byKey;
  private final Map<Set<String>, SubsetConfig.Selector> selectorsByKeys;
  /** Every host of the cluster (ANY_ENDPOINT, {@code panic_mode_any}). */
  final Subset any;
  /** The endpoints matching {@code default_subset} (maybe none), or null when no policy needs it. */
  final @Nullable Subset defaultSubset;
  /** What the cluster's {@code fallback_policy} picks from; null for NO_FALLBACK. */
  final @Nullable Subset fallback;
  final int subsetCount;

  /** One subset: its key (the metadata it matches) and its own balancing snapshot. */
  public static final class Subset {
    final int id;
    final Struct key;
    final LbSnapshot snapshot;

    Subset(int id, Struct key, LbSnapshot snapshot) {
      this.id = id;
      this.key = key;
      this.snapshot = snapshot;
    }

    public Struct key() {
      return key;
    }

    public LbSnapshot snapshot() {
      return snapshot;
    }
  }

  private SubsetSnapshot(SubsetConfig config, Map<Struct, Subset> byKey, Subset any,
      @Nullable Subset defaultSubset, int subsetCount) {
    this.config = config;
    this.byKey = byKey;
    this.any = any;
    this.defaultSubset = defaultSubset;
    this.fallback = switch (config.fallback()) {
      case NO_FALLBACK -> null;
      case ANY_ENDPOINT -> any;
      case DEFAULT_SUBSET -> defaultSubset;
    };
    this.subsetCount = subsetCount;
    Map<Set<String>, SubsetConfig.Selector> selectors = new HashMap<>();
    for (SubsetConfig.Selector s : config.selectors()) {
      selectors.putIfAbsent(s.keys(), s);
    }
    this.selectorsByKeys = selectors;
  }

  /**
   * Builds the subsets of {@code set}.
   *
   * @param whole the cluster's own snapshot of {@code set} (without subsets): the ANY subset
   * @param balancing builds the snapshot a subset's balancer reads (hash tables, slow start)
   * @param previous the last snapshot's subsets, for {@code lb_subsets_created/removed}
   */
  public static SubsetSnapshot build(SubsetConfig config, PrioritySet set, LbSnapshot whole,
      Function<PrioritySet, LbSnapshot> balancing, @Nullable SubsetSnapshot previous,
      @Nullable SubsetStats stats) {
    List<Host> hosts = new ArrayList<>();
    for (LocalityGroup g : set.groups()) {
      hosts.addAll(g.hosts());
    }
    Map<Struct, Set<Host>> members = new LinkedHashMap<>();
    int duplicates = 0;
    for (SubsetConfig.Selector selector : config.selectors()) {
      for (Host host : hosts) {
        for (Struct key : keys(selector, lbMetadata(host), config.listAsAny())) {
          Set<Host> subset = members.computeIfAbsent(key,
              k -> Collections.newSetFromMap(new IdentityHashMap<>()));
          if (selector.singleHostPerSubset() && !subset.isEmpty()) {
            // Envoy keeps the first host of each value and counts the others.
            duplicates += subset.contains(host) ? 0 : 1;
            continue;
          }
          subset.add(host);
        }
      }
    }
    int nextId = 0;
    Subset any = new Subset(nextId++, Struct.getDefaultInstance(), whole);
    Subset defaultSubset = null;
    if (needsDefault(config)) {
      if (config.defaultSubset().getFieldsCount() == 0) {
        defaultSubset = any;
      } else {
        Set<Host> matching = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Host host : hosts) {
          if (matches(config.defaultSubset(), lbMetadata(host), config.listAsAny())) {
            matching.add(host);
          }
        }
        // Kept when empty: its balancer finds no host, which panic_mode_any then covers.
        defaultSubset = new Subset(nextId++, config.defaultSubset(),
            balancing.apply(filter(set, matching, config)));
      }
    }
    Map<Struct, Subset> byKey = new HashMap<>();
    for (Map.Entry<Struct, Set<Host>> e : members.entrySet()) {
      byKey.put(e.getKey(), new Subset(nextId++, e.getKey(),
          balancing.apply(filter(set, e.getValue(), config))));
    }
    if (stats != null) {
      long created = 0;
      for (Struct key : byKey.keySet()) {
        created += previous == null || !previous.byKey.containsKey(key) ? 1 : 0;
      }
      long removed = 0;
      if (previous != null) {
        for (Struct key : previous.byKey.keySet()) {
          removed += byKey.containsKey(key) ? 0 : 1;
        }
      }
      stats.created.add(created);
      stats.removed.add(removed);
      stats.active.set(byKey.size());
      stats.singleHostPerSubsetDuplicate.set(duplicates);
    }
    return new SubsetSnapshot(config, byKey, any, defaultSubset, nextId);
  }

  private static boolean needsDefault(SubsetConfig config) {
    if (config.fallback() == SubsetConfig.Fallback.DEFAULT_SUBSET) {
      return true;
    }
    for (SubsetConfig.Selector s : config.selectors()) {
      if (s.fallback() == SubsetConfig.SelectorFallback.DEFAULT_SUBSET) {
        return true;
      }
    }
    return false;
  }

  /**
   * The hosts of {@code members} in their priorities and localities. Locality weights survive only
   * with {@code locality_weight_aware} (scaled by the locality's share of hosts kept with
   * {@code scale_locality_weight}); without it a weight of 0 turns locality picking off.
   */
  private static PrioritySet filter(PrioritySet set, Set<Host> members, SubsetConfig config) {
    List<LocalityGroup> groups = new ArrayList<>();
    for (LocalityGroup g : set.groups()) {
      List<Host> kept = new ArrayList<>();
      for (Host h : g.hosts()) {
        if (members.contains(h)) {
          kept.add(h);
        }
      }
      if (kept.isEmpty()) {
        continue;
      }
      int weight = 0;
      if (config.localityWeightAware()) {
        weight = config.scaleLocalityWeight()
            ? (int) ((long) g.weight() * kept.size() / g.hosts().size()) : g.weight();
      }
      groups.add(new LocalityGroup(g.priority(), g.locality(), weight, kept));
    }
    return new PrioritySet(groups, set.overprovisioningFactor(), set.panicThreshold());
  }

  static @Nullable Struct lbMetadata(Host host) {
    return host.metadata().getFilterMetadataMap().get(LB_NAMESPACE);
  }

  /**
   * The subset keys {@code selector} puts a host with {@code metadata} under: none when a key is
   * missing; with {@code list_as_any}, one per element of each list value.
   */
  private static List<Struct> keys(SubsetConfig.Selector selector, @Nullable Struct metadata,
      boolean listAsAny) {
    if (metadata == null) {
      return List.of();
    }
    List<Struct.Builder> keys = new ArrayList<>();
    keys.add(Struct.newBuilder());
    for (String name : selector.keys()) {
      Value value = metadata.getFieldsMap().get(name);
      if (value == null) {
        return List.of();
      }
      List<Value> alternatives = listAsAny && value.hasListValue()
          ? value.getListValue().getValuesList() : List.of(value);
      List<Struct.Builder> next = new ArrayList<>(keys.size() * alternatives.size());
      for (Struct.Builder k : keys) {
        for (Value v : alternatives) {
          next.add(k.clone().putFields(name, v));
        }
      }
      keys = next;
    }
    List<Struct> out = new ArrayList<>(keys.size());
    for (Struct.Builder b : keys) {
      out.add(b.build());
    }
    return out;
  }

  /** Whether endpoint metadata holds every field of {@code wanted} ({@code list_as_any}: or a list holding it). */
  static boolean matches(Struct wanted, @Nullable Struct metadata, boolean listAsAny) {
    if (metadata == null) {
      return wanted.getFieldsCount() == 0;
    }
    for (Map.Entry<String, Value> e : wanted.getFieldsMap().entrySet()) {
      Value have = metadata.getFieldsMap().get(e.getKey());
      if (have == null) {
        return false;
      }
      if (!have.equals(e.getValue())
          && !(listAsAny && have.hasListValue() && have.getListValue().getValuesList().contains(e.getValue()))) {
        return false;
      }
    }
    return true;
  }

  /** The subset whose key is exactly {@code criteria}, or null. */
  @Nullable Subset find(Struct criteria) {
    return byKey.get(criteria);
  }

  /** The selector whose keys are exactly the criteria's, or null. */
  SubsetConfig.@Nullable Selector selectorFor(Struct criteria) {
    return selectorsByKeys.get(criteria.getFieldsMap().keySet());
  }

  /** The active subsets (those with hosts), by key. */
  public Map<Struct, Subset> subsets() {
    return Collections.unmodifiableMap(byKey);
  }

  public @Nullable Subset defaultSubset() {
    return defaultSubset;
  }
}
