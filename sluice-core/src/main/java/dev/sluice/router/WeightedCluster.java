package dev.sluice.router;

import dev.sluice.api.config.ConfigException;
import dev.sluice.api.stream.StreamInfo;
import com.google.protobuf.Struct;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster.ClusterWeight;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One entry of {@code weighted_clusters}: its cluster (by name or by request header), weight, and the
 * header mutations, host rewrite and per-filter configs that apply when it is the one picked.
 */
public final class WeightedCluster {
  private final @Nullable String name;
  private final @Nullable AsciiString clusterHeader;
  private final long weight;
  private final HeaderMutations requestMutations;
  private final HeaderMutations responseMutations;
  private final @Nullable String hostRewriteLiteral;
  private final Map<String, Object> filterConfigs;
  private final @Nullable Metadata metadataMatch;

  private WeightedCluster(
      @Nullable String name,
      @Nullable AsciiString clusterHeader,
      long weight,
      HeaderMutations requestMutations,
      HeaderMutations responseMutations,
      @Nullable String hostRewriteLiteral,
      Map<String, Object> filterConfigs,
      @Nullable Metadata metadataMatch) {
    this.name = name;
    this.clusterHeader = clusterHeader;
    this.weight = weight;
    this.requestMutations = requestMutations;
    this.responseMutations = responseMutations;
    this.hostRewriteLiteral = hostRewriteLiteral;
    this.filterConfigs = filterConfigs;
    this.metadataMatch = metadataMatch;
  }

  /** @param routeMetadataMatch the route's {@code metadata_match} ({@link RouteEntry#metadataMatch()}) */
  static WeightedCluster compile(ClusterWeight c, String path, RouteCompileContext ctx,
      @Nullable Metadata routeMetadataMatch) {
    boolean byName = !c.getName().isEmpty();
    boolean byHeader = !c.getClusterHeader().isEmpty();
    if (byName == byHeader) {
      throw new ConfigException(path, "exactly one of name and cluster_header must be set");
    }
    return new WeightedCluster(
        byName ? c.getName() : null,
        byHeader ? AsciiString.of(c.getClusterHeader().toLowerCase(Locale.ROOT)) : null,
        c.hasWeight() ? Integer.toUnsignedLong(c.getWeight().getValue()) : 0,
        HeaderMutations.compile(
            c.getRequestHeadersToAddList(),
            c.getRequestHeadersToRemoveList(),
            path,
            "request_headers_to_add",
            "request_headers_to_remove"),
        HeaderMutations.compile(
            c.getResponseHeadersToAddList(),
            c.getResponseHeadersToRemoveList(),
            path,
            "response_headers_to_add",
            "response_headers_to_remove"),
        c.hasHostRewriteLiteral() && !c.getHostRewriteLiteral().isEmpty() ? c.getHostRewriteLiteral() : null,
        FilterConfigs.compile(c.getTypedPerFilterConfigMap(), path, ctx),
        mergeMetadataMatch(routeMetadataMatch, c.getMetadataMatch()));
  }

  /**
   * Envoy's merge of a weighted cluster's {@code metadata_match} into the route's: the
   * {@code envoy.lb} fields of both, the cluster's winning where both have a key.
   */
  private static @Nullable Metadata mergeMetadataMatch(@Nullable Metadata route, Metadata cluster) {
    Struct own = cluster.getFilterMetadataMap().get(RouteEntry.LB_METADATA);
    if (own == null || own.getFieldsCount() == 0) {
      return route;
    }
    Struct.Builder merged = Struct.newBuilder();
    if (route != null) {
      merged.putAllFields(route.getFilterMetadataMap().get(RouteEntry.LB_METADATA).getFieldsMap());
    }
    merged.putAllFields(own.getFieldsMap());
    return Metadata.newBuilder().putFilterMetadata(RouteEntry.LB_METADATA, merged.build()).build();
  }

  /** The subset load balancer's criteria when this cluster is picked (merged with the route's), or null. */
  public @Nullable Metadata metadataMatch() {
    return metadataMatch;
  }

  /** The configured name, or null when the cluster comes from a request header. */
  public @Nullable String name() {
    return name;
  }

  public long weight() {
    return weight;
  }

  /** The cluster for this request: the name, or the named request header's value (null if absent). */
  public @Nullable String clusterName(Http2Headers headers) {
    if (name != null) {
      return name;
    }
    CharSequence v = clusterHeader == null ? null : headers.get(clusterHeader);
    return v == null || v.length() == 0 ? null : v.toString();
  }

  /** This cluster's compiled {@code typed_per_filter_config} entry, or null. */
  public @Nullable Object perFilterConfig(String filterName) {
    return filterConfigs.get(filterName);
  }

  Map<String, Object> filterConfigs() {
    return filterConfigs;
  }

  /** Applies this cluster's request header mutations and host rewrite (before the route's own). */
  void applyRequest(Http2Headers headers, StreamInfo info) {
    requestMutations.apply(headers, info);
    if (hostRewriteLiteral != null) {
      headers.authority(hostRewriteLiteral);
    }
  }

  void applyResponse(Http2Headers headers, StreamInfo info) {
    responseMutations.apply(headers, info);
  }
}
