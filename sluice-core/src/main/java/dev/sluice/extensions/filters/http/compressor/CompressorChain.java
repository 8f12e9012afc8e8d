package dev.sluice.extensions.filters.http.compressor;

import dev.sluice.api.FactoryContext;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import org.jspecify.annotations.Nullable;

/**
 * The content codings of the compressor filters of one HTTP connection manager, in filter order.
 * Envoy lets the compressors of a chain agree on one coding per response (its compressor
 * registry); the same agreement here is a pure function of {@code accept-encoding} and this list.
 * The filter factory API does not say which connection manager a filter belongs to, so a chain is
 * the set of compressor filters built with one factory context (one listener build) and one stats
 * prefix; connection managers of one listener sharing a stat_prefix share a chain.
 * Built on the control thread; read-only once the listener is published.
 */
final class CompressorChain {
  private static final Map<FactoryContext, Map<String, CompressorChain>> CHAINS = new WeakHashMap<>();

  private volatile List<String> codings = List.of();
  private volatile @Nullable String preferred;

  /** The chain of the connection manager being built with {@code context} and {@code statPrefix}. */
  static CompressorChain of(FactoryContext context, String statPrefix) {
    synchronized (CHAINS) {
      return CHAINS.computeIfAbsent(context, c -> new HashMap<>())
          .computeIfAbsent(statPrefix, p -> new CompressorChain());
    }
  }

  /** Adds a filter's coding (a second filter of one coding changes nothing, as Envoy). */
  synchronized void add(String coding, boolean chooseFirst) {
    List<String> next = new ArrayList<>(codings);
    if (!next.contains(coding)) {
      next.add(coding);
    }
    if (chooseFirst) {
      // The last choose_first filter wins (Envoy's documented rule); it goes first for '*'.
      preferred = coding;
      next.remove(coding);
      next.addFirst(coding);
    }
    codings = List.copyOf(next);
  }

  List<String> codings() {
    return codings;
  }

  @Nullable String preferred() {
    return preferred;
  }
}
