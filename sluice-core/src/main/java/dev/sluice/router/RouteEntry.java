package dev.sluice.router;

import dev.sluice.api.config.ConfigException;
import dev.sluice.api.http.Route;
import dev.sluice.api.stream.StreamInfo;
import com.google.protobuf.Struct;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * One compiled route: what it matches and what it does. Immutable and shared by all workers; every
 * per-request method works on the caller's headers only.
 */
public final class RouteEntry implements Route {
  /** What the route does with a matching request. */
  public enum Kind {
    /** {@code route.cluster}. */
    CLUSTER,
    /** {@code route.weighted_clusters}. */
    WEIGHTED_CLUSTERS,
    /** {@code route.cluster_header}: the cluster is named by a request header. */
    CLUSTER_HEADER,
    /** {@code redirect}, or a virtual host's {@code require_tls}: answer with {@link #redirectLocation}. */
    REDIRECT,
    /** {@code direct_response}: answer with {@link #directResponseStatus}/{@link #directResponseBody}. */
    DIRECT_RESPONSE,
    /** {@code non_forwarding_action} or {@code filter_action}: a filter handles the request; the router does not. */
    NON_FORWARDING
  }

  /** Envoy's name of the CORS filter, whose legacy {@code cors} fields routes carry. */
  static final String CORS_FILTER = "envoy.filters.http.cors";

  private static final AsciiString X_ENVOY_ORIGINAL_PATH = AsciiString.of("x-envoy-original-path");
  private static final AsciiString X_FORWARDED_HOST = AsciiString.of("x-forwarded-host");
  private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(15);

  private final VirtualHostEntry virtualHost;
  private final String name;
  final RouteMatcher matcher;
  private final Kind kind;
  private final @Nullable String cluster;
  private final @Nullable AsciiString clusterHeader;
  private final WeightedCluster[] weightedClusters;
  private final long totalWeight;
  private final @Nullable AsciiString randomValueHeader;
  private final @Nullable Redirect redirect;
  private final int directStatus;
  private final byte[] directBody;
  private final @Nullable String prefixRewrite;
  private final @Nullable RegexSubstitution regexRewrite;
  private final @Nullable String hostRewriteLiteral;
  private final @Nullable AsciiString hostRewriteHeader;
  private final @Nullable RegexSubstitution hostRewritePathRegex;
  private final boolean autoHostRewrite;
  private final boolean appendXForwardedHost;
  private final Duration timeout;
  private final @Nullable Duration idleTimeout;
  private final @Nullable Duration maxStreamDuration;
  private final boolean usingNewTimeouts;
  private final @Nullable Duration grpcTimeoutHeaderMax;
  private final @Nullable Duration grpcTimeoutHeaderOffset;
  private final int clusterNotFoundStatus;
  private final @Nullable RetryPolicy retryPolicy;
  private final @Nullable HashPolicy hashPolicy;
  private final List<MirrorPolicy> mirrorPolicies;
  private final int perRequestBufferLimitBytes;
  private final Metadata metadata;
  private final @Nullable String decoratorOperation;
  private final RouteAction routeAction;
  private final @Nullable Metadata metadataMatch;
  /** Envoy's order of application: later levels win on overwrite. */
  private final HeaderMutations[] requestMutations;
  private final HeaderMutations[] responseMutations;
  /** Per filter name, the compiled configs most specific first: route, virtual host, route configuration. */
  private final Map<String, List<Object>> filterConfigs;

  /** Settings of the enclosing route configuration that every route needs. */
  record TableSettings(
      HeaderMutations requestMutations,
      HeaderMutations responseMutations,
      Map<String, Object> filterConfigs,
      boolean mostSpecificHeaderMutationsWins,
      List<MirrorPolicy> mirrorPolicies,
      boolean validateClusters) {}

  private RouteEntry(Builder b) {
    this.virtualHost = b.virtualHost;
    this.name = b.name;
    this.matcher = b.matcher;
    this.kind = b.kind;
    this.cluster = b.cluster;
    this.clusterHeader = b.clusterHeader;
    this.weightedClusters = b.weightedClusters;
    this.totalWeight = b.totalWeight;
    this.randomValueHeader = b.randomValueHeader;
    this.redirect = b.redirect;
    this.directStatus = b.directStatus;
    this.directBody = b.directBody;
    this.prefixRewrite = b.prefixRewrite;
    this.regexRewrite = b.regexRewrite;
    this.hostRewriteLiteral = b.hostRewriteLiteral;
    this.hostRewriteHeader = b.hostRewriteHeader;
    this.hostRewritePathRegex = b.hostRewritePathRegex;
    this.autoHostRewrite = b.autoHostRewrite;
    this.appendXForwardedHost = b.appendXForwardedHost;
    this.timeout = b.timeout;
    this.idleTimeout = b.idleTimeout;
    this.maxStreamDuration = b.maxStreamDuration;
    this.usingNewTimeouts = b.usingNewTimeouts;
    this.grpcTimeoutHeaderMax = b.grpcTimeoutHeaderMax;
    this.grpcTimeoutHeaderOffset = b.grpcTimeoutHeaderOffset;
    this.clusterNotFoundStatus = b.clusterNotFoundStatus;
    this.retryPolicy = b.retryPolicy;
    this.hashPolicy = b.hashPolicy;
    this.mirrorPolicies = b.mirrorPolicies;
    this.perRequestBufferLimitBytes = b.perRequestBufferLimitBytes;
    this.metadata = b.metadata;
    this.decoratorOperation = b.decoratorOperation;
    this.routeAction = b.routeAction;
    this.metadataMatch = lbMetadataMatch(b.routeAction);
    this.requestMutations = b.requestMutations;
    this.responseMutations = b.responseMutations;
    this.filterConfigs = b.filterConfigs;
  }

  private static final class Builder {
    VirtualHostEntry virtualHost;
    String name = "";
    RouteMatcher matcher;
    Kind kind = Kind.REDIRECT;
    @Nullable String cluster;
    @Nullable AsciiString clusterHeader;
    WeightedCluster[] weightedClusters = new WeightedCluster[0];
    long totalWeight;
    @Nullable AsciiString randomValueHeader;
    @Nullable Redirect redirect;
    int directStatus;
    byte[] directBody = new byte[0];
    @Nullable String prefixRewrite;
    @Nullable RegexSubstitution regexRewrite;
    @Nullable String hostRewriteLiteral;
    @Nullable AsciiString hostRewriteHeader;
    @Nullable RegexSubstitution hostRewritePathRegex;
    boolean autoHostRewrite;
    boolean appendXForwardedHost;
    Duration timeout = DEFAULT_TIMEOUT;
    @Nullable Duration idleTimeout;
    @Nullable Duration maxStreamDuration;
    boolean usingNewTimeouts;
    @Nullable Duration grpcTimeoutHeaderMax;
    @Nullable Duration grpcTimeoutHeaderOffset;
    int clusterNotFoundStatus = 503;
    @Nullable RetryPolicy retryPolicy;
    @Nullable HashPolicy hashPolicy;
    List<MirrorPolicy> mirrorPolicies = List.of();
    int perRequestBufferLimitBytes = -1;
    Metadata metadata = Metadata.getDefaultInstance();
    @Nullable String decoratorOperation;
    RouteAction routeAction = RouteAction.getDefaultInstance();
    HeaderMutations[] requestMutations = new HeaderMutations[0];
    HeaderMutations[] responseMutations = new HeaderMutations[0];
    Map<String, List<Object>> filterConfigs = Map.of();

    Builder(VirtualHostEntry virtualHost, RouteMatcher matcher) {
      this.virtualHost = virtualHost;
      this.matcher = matcher;
    }
  }

  /** The route a virtual host with {@code require_tls} answers plain-text requests with. */
  static RouteEntry tlsRedirect(VirtualHostEntry vhost) {
    Builder b =
        new Builder(
            vhost,
            RouteMatcher.compile(RouteMatch.newBuilder().setPrefix("").build(), ""));
    b.kind = Kind.REDIRECT;
    b.redirect = Redirect.HTTPS;
    return new RouteEntry(b);
  }

  static RouteEntry compile(
      io.envoyproxy.envoy.config.route.v3.Route r,
      String path,
      VirtualHostEntry vhost,
      @Nullable Object legacyCors,
      TableSettings table,
      RouteCompileContext ctx) {
    if (!r.hasMatch()) {
      throw new ConfigException(path + ".match", "value is required");
    }
    Builder b = new Builder(vhost, RouteMatcher.compile(r.getMatch(), path + ".match"));
    b.name = r.getName();
    b.metadata = r.getMetadata();
    b.decoratorOperation =
        r.hasDecorator() && !r.getDecorator().getOperation().isEmpty() ? r.getDecorator().getOperation() : null;
    b.retryPolicy = vhost.retryPolicy;
    b.mirrorPolicies = !vhost.mirrorPolicies.isEmpty() ? vhost.mirrorPolicies : table.mirrorPolicies();
    b.perRequestBufferLimitBytes =
        r.hasPerRequestBufferLimitBytes() ? clampLimit(r.getPerRequestBufferLimitBytes().getValue()) : vhost.perRequestBufferLimitBytes;
    switch (r.getActionCase()) {
      case ROUTE -> compileRouteAction(b, r.getRoute(), path + ".route", table, ctx);
      case REDIRECT -> {
        b.kind = Kind.REDIRECT;
        b.redirect = Redirect.compile(r.getRedirect(), path + ".redirect");
      }
      case DIRECT_RESPONSE -> compileDirectResponse(b, r.getDirectResponse(), path + ".direct_response");
      case NON_FORWARDING_ACTION, FILTER_ACTION -> b.kind = Kind.NON_FORWARDING;
      case ACTION_NOT_SET -> throw new ConfigException(path, "action is required");
    }
    HeaderMutations routeRequest =
        HeaderMutations.compile(
            r.getRequestHeadersToAddList(),
            r.getRequestHeadersToRemoveList(),
            path,
            "request_headers_to_add",
            "request_headers_to_remove");
    HeaderMutations routeResponse =
        HeaderMutations.compile(
            r.getResponseHeadersToAddList(),
            r.getResponseHeadersToRemoveList(),
            path,
            "response_headers_to_add",
            "response_headers_to_remove");
    b.requestMutations = order(routeRequest, vhost.requestMutations, table.requestMutations(), table);
    b.responseMutations = order(routeResponse, vhost.responseMutations, table.responseMutations(), table);
    Object routeLegacyCors = legacyCors;
    b.filterConfigs =
        mergeFilterConfigs(
            FilterConfigs.compile(r.getTypedPerFilterConfigMap(), path, ctx),
            vhost.filterConfigs,
            table.filterConfigs(),
            routeLegacyCors,
            vhost.legacyCors);
    return new RouteEntry(b);
  }

  /**
   * Envoy evaluates the levels most specific first (route, virtual host, route configuration), so
   * the least specific wins an overwrite; {@code most_specific_header_mutations_wins} reverses it.
   */
  private static HeaderMutations[] order(
      HeaderMutations route, HeaderMutations vhost, HeaderMutations global, TableSettings table) {
    List<HeaderMutations> list = new ArrayList<>(3);
    List<HeaderMutations> levels =
        table.mostSpecificHeaderMutationsWins() ? List.of(global, vhost, route) : List.of(route, vhost, global);
    for (HeaderMutations m : levels) {
      if (!m.isEmpty()) {
        list.add(m);
      }
    }
    return list.toArray(new HeaderMutations[0]);
  }

  private static Map<String, List<Object>> mergeFilterConfigs(
      Map<String, Object> route,
      Map<String, Object> vhost,
      Map<String, Object> table,
      @Nullable Object routeLegacyCors,
      @Nullable Object vhostLegacyCors) {
    Set<String> names = new LinkedHashSet<>();
    names.addAll(route.keySet());
    names.addAll(vhost.keySet());
    names.addAll(table.keySet());
    boolean legacy = routeLegacyCors != null || vhostLegacyCors != null;
    if (names.isEmpty() && !legacy) {
      return Map.of();
    }
    java.util.HashMap<String, List<Object>> out = new java.util.HashMap<>();
    for (String n : names) {
      List<Object> list = new ArrayList<>(3);
      for (Map<String, Object> level : List.of(route, vhost, table)) {
        Object o = level.get(n);
        if (o != null) {
          list.add(o);
        }
      }
      out.put(n, List.copyOf(list));
    }
    // Envoy's CORS filter falls back to the legacy route and virtual host `cors` fields only when no
    // typed per-filter config exists at any level.
    if (legacy && !out.containsKey(CORS_FILTER)) {
      List<Object> list = new ArrayList<>(2);
      if (routeLegacyCors != null) {
        list.add(routeLegacyCors);
      }
      if (vhostLegacyCors != null) {
        list.add(vhostLegacyCors);
      }
      out.put(CORS_FILTER, List.copyOf(list));
    }
    return Map.copyOf(out);
  }

  private static void compileDirectResponse(
      Builder b, io.envoyproxy.envoy.config.route.v3.DirectResponseAction d, String path) {
    int status = d.getStatus();
    if (status < 200 || status >= 600) {
      throw new ConfigException(path + ".status", "value must be inside range [200, 600)");
    }
    b.kind = Kind.DIRECT_RESPONSE;
    b.directStatus = status;
    if (d.hasBody()) {
      var body = d.getBody();
      b.directBody =
          switch (body.getSpecifierCase()) {
            case INLINE_STRING -> body.getInlineString().getBytes(StandardCharsets.UTF_8);
            case INLINE_BYTES -> body.getInlineBytes().toByteArray();
            case FILENAME, ENVIRONMENT_VARIABLE ->
                throw new ConfigException(
                    path + ".body", "only inline_string and inline_bytes bodies are supported, not " + body.getSpecifierCase().name().toLowerCase(Locale.ROOT));
            case SPECIFIER_NOT_SET -> new byte[0];
          };
    }
  }

  private static void compileRouteAction(
      Builder b, RouteAction a, String path, TableSettings table, RouteCompileContext ctx) {
    b.routeAction = a;
    switch (a.getClusterSpecifierCase()) {
      case CLUSTER -> {
        if (a.getCluster().isEmpty()) {
          throw new ConfigException(path + ".cluster", "value length must be at least 1 characters");
        }
        b.kind = Kind.CLUSTER;
        b.cluster = a.getCluster();
        if (table.validateClusters()) {
          ctx.validateCluster(a.getCluster(), path + ".cluster");
        }
      }
      case CLUSTER_HEADER -> {
        if (a.getClusterHeader().isEmpty()) {
          throw new ConfigException(path + ".cluster_header", "value length must be at least 1 characters");
        }
        b.kind = Kind.CLUSTER_HEADER;
        b.clusterHeader = AsciiString.of(a.getClusterHeader().toLowerCase(Locale.ROOT));
      }
      case WEIGHTED_CLUSTERS -> {
        b.kind = Kind.WEIGHTED_CLUSTERS;
        var wc = a.getWeightedClusters();
        String wpath = path + ".weighted_clusters";
        if (wc.getClustersCount() == 0) {
          throw new ConfigException(wpath + ".clusters", "value must contain at least 1 item(s)");
        }
        WeightedCluster[] clusters = new WeightedCluster[wc.getClustersCount()];
        long total = 0;
        for (int i = 0; i < clusters.length; i++) {
          String cpath = wpath + ".clusters[" + i + "]";
          clusters[i] = WeightedCluster.compile(wc.getClusters(i), cpath, ctx, lbMetadataMatch(a));
          total += clusters[i].weight();
          if (total > 0xFFFF_FFFFL) {
            throw new ConfigException(wpath, "the sum of weights exceeds " + 0xFFFF_FFFFL);
          }
          if (table.validateClusters() && clusters[i].name() != null) {
            ctx.validateCluster(clusters[i].name(), cpath + ".name");
          }
        }
        // total_weight is deprecated: current Envoy ignores it and uses the sum of the weights.
        if (total == 0) {
          throw new ConfigException(wpath, "Sum of weights in the weighted_cluster must be greater than 0.");
        }
        b.weightedClusters = clusters;
        b.totalWeight = total;
        b.randomValueHeader =
            wc.getHeaderName().isEmpty() ? null : AsciiString.of(wc.getHeaderName().toLowerCase(Locale.ROOT));
      }
      case CLUSTER_SPECIFIER_PLUGIN, INLINE_CLUSTER_SPECIFIER_PLUGIN ->
          throw new ConfigException(path + ".cluster_specifier_plugin", "cluster specifier plugins are not supported");
      case CLUSTERSPECIFIER_NOT_SET -> throw new ConfigException(path, "cluster_specifier is required");
    }
    b.clusterNotFoundStatus =
        switch (a.getClusterNotFoundResponseCode()) {
          case NOT_FOUND -> 404;
          case INTERNAL_SERVER_ERROR -> 500;
          default -> 503;
        };
    if (!a.getPrefixRewrite().isEmpty() && a.hasRegexRewrite()) {
      throw new ConfigException(path, "Cannot specify both prefix_rewrite and regex_rewrite");
    }
    if (a.hasPathRewritePolicy()) {
      throw new ConfigException(path + ".path_rewrite_policy", "path_rewrite_policy extensions are not supported");
    }
    b.prefixRewrite = a.getPrefixRewrite().isEmpty() ? null : a.getPrefixRewrite();
    b.regexRewrite = a.hasRegexRewrite() ? RegexSubstitution.compile(a.getRegexRewrite(), path + ".regex_rewrite") : null;
    switch (a.getHostRewriteSpecifierCase()) {
      case HOST_REWRITE_LITERAL ->
          b.hostRewriteLiteral = a.getHostRewriteLiteral().isEmpty() ? null : a.getHostRewriteLiteral();
      case AUTO_HOST_REWRITE -> b.autoHostRewrite = a.getAutoHostRewrite().getValue();
      case HOST_REWRITE_HEADER ->
          b.hostRewriteHeader = AsciiString.of(a.getHostRewriteHeader().toLowerCase(Locale.ROOT));
      case HOST_REWRITE_PATH_REGEX ->
          b.hostRewritePathRegex =
              RegexSubstitution.compile(a.getHostRewritePathRegex(), path + ".host_rewrite_path_regex");
      case HOSTREWRITESPECIFIER_NOT_SET -> {}
    }
    b.appendXForwardedHost = a.getAppendXForwardedHost();
    b.timeout = a.hasTimeout() ? ProtoDurations.of(a.getTimeout(), path + ".timeout") : DEFAULT_TIMEOUT;
    b.idleTimeout = a.hasIdleTimeout() ? ProtoDurations.of(a.getIdleTimeout(), path + ".idle_timeout") : null;
    if (a.hasMaxStreamDuration()) {
      var msd = a.getMaxStreamDuration();
      String mpath = path + ".max_stream_duration";
      b.usingNewTimeouts = true;
      b.maxStreamDuration =
          msd.hasMaxStreamDuration() ? ProtoDurations.of(msd.getMaxStreamDuration(), mpath + ".max_stream_duration") : null;
      b.grpcTimeoutHeaderMax =
          msd.hasGrpcTimeoutHeaderMax()
              ? ProtoDurations.of(msd.getGrpcTimeoutHeaderMax(), mpath + ".grpc_timeout_header_max")
              : null;
      b.grpcTimeoutHeaderOffset =
          msd.hasGrpcTimeoutHeaderOffset()
              ? ProtoDurations.of(msd.getGrpcTimeoutHeaderOffset(), mpath + ".grpc_timeout_header_offset")
              : null;
    } else {
      // The deprecated fields Istio still emits (max_grpc_timeout: 0s).
      b.grpcTimeoutHeaderMax =
          a.hasMaxGrpcTimeout() ? ProtoDurations.of(a.getMaxGrpcTimeout(), path + ".max_grpc_timeout") : null;
      b.grpcTimeoutHeaderOffset =
          a.hasGrpcTimeoutOffset() ? ProtoDurations.of(a.getGrpcTimeoutOffset(), path + ".grpc_timeout_offset") : null;
    }
    // A route's retry policy replaces the virtual host's whole (Envoy does not merge fields).
    if (a.hasRetryPolicy()) {
      b.retryPolicy = RetryPolicy.compile(a.getRetryPolicy(), path + ".retry_policy");
    }
    b.hashPolicy = HashPolicy.compile(a.getHashPolicyList(), path + ".hash_policy");
    if (a.getRequestMirrorPoliciesCount() > 0) {
      b.mirrorPolicies = MirrorPolicy.compileAll(a.getRequestMirrorPoliciesList(), path + ".request_mirror_policies");
    }
  }

  /** A uint32 byte limit as an int (values past 2 GiB mean "no practical limit"). */
  static int clampLimit(int uint32) {
    return uint32 < 0 ? Integer.MAX_VALUE : uint32;
  }

  // ---- identity -------------------------------------------------------------------------------

  @Override
  public String name() {
    return name;
  }

  public VirtualHostEntry virtualHost() {
    return virtualHost;
  }

  public Kind kind() {
    return kind;
  }

  /** The route's {@code metadata} (Istio puts its config path under {@code filter_metadata.istio}). */
  public Metadata metadata() {
    return metadata;
  }

  /** {@code decorator.operation}, the tracing span name, or null. */
  public @Nullable String decoratorOperation() {
    return decoratorOperation;
  }

  /** The namespace of {@code metadata_match} the subset load balancer reads. */
  static final String LB_METADATA = "envoy.lb";

  private static @Nullable Metadata lbMetadataMatch(RouteAction a) {
    Struct lb = a.getMetadataMatch().getFilterMetadataMap().get(LB_METADATA);
    return lb == null || lb.getFieldsCount() == 0 ? null
        : Metadata.newBuilder().putFilterMetadata(LB_METADATA, lb).build();
  }

  /** {@code metadata_match} (its {@code envoy.lb} fields) for the subset load balancer, or null. */
  public @Nullable Metadata metadataMatch() {
    return metadataMatch;
  }

  /** The raw {@code RouteAction} (default instance for other kinds), for settings not compiled here. */
  public RouteAction routeAction() {
    return routeAction;
  }

  // ---- cluster selection ----------------------------------------------------------------------

  /**
   * The upstream cluster for this request: the configured one, the weighted pick for
   * {@code random}, or the value of {@code cluster_header}; null when the header is absent or the
   * route does not forward.
   */
  public @Nullable String clusterName(Http2Headers headers, long random) {
    return switch (kind) {
      case CLUSTER -> cluster;
      case CLUSTER_HEADER -> {
        CharSequence v = clusterHeader == null ? null : headers.get(clusterHeader);
        yield v == null || v.length() == 0 ? null : v.toString();
      }
      case WEIGHTED_CLUSTERS -> {
        WeightedCluster w = pickWeightedCluster(headers, random);
        yield w == null ? null : w.clusterName(headers);
      }
      default -> null;
    };
  }

  /**
   * The weighted cluster for this request, or null when the route has none. The value is the
   * single-valued decimal header named by {@code weighted_clusters.header_name} when present,
   * {@code random} otherwise, taken modulo the sum of the weights and located in the cumulative
   * intervals {@code [0, w1), [w1, w1+w2), ...}.
   */
  public @Nullable WeightedCluster pickWeightedCluster(Http2Headers headers, long random) {
    if (weightedClusters.length == 0) {
      return null;
    }
    long value = random;
    if (randomValueHeader != null) {
      java.util.Iterator<CharSequence> it = headers.valueIterator(randomValueHeader);
      if (it.hasNext()) {
        CharSequence v = it.next();
        if (!it.hasNext()) {
          long parsed = parseUnsigned(v);
          if (parsed != -1) {
            value = parsed;
          }
        }
      }
    }
    long selected = Long.remainderUnsigned(value, totalWeight);
    long end = 0;
    for (WeightedCluster w : weightedClusters) {
      end += w.weight();
      if (selected < end) {
        return w;
      }
    }
    return weightedClusters[weightedClusters.length - 1];
  }

  /** Parses a decimal uint64 (as Envoy's SimpleAtoi), or -1 when invalid (2^64-1 itself is treated as invalid). */
  private static long parseUnsigned(CharSequence v) {
    int n = v.length();
    if (n == 0 || n > 20) {
      return -1;
    }
    long r = 0;
    for (int i = 0; i < n; i++) {
      char c = v.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      long next = r * 10 + (c - '0');
      if (Long.compareUnsigned(next, r) < 0 || Long.compareUnsigned(r, 0x1999_9999_9999_9999L) > 0) {
        return -1;
      }
      r = next;
    }
    return r;
  }

  public List<WeightedCluster> weightedClusters() {
    return List.of(weightedClusters);
  }

  /** {@code cluster_not_found_response_code} as an HTTP status (503 by default). */
  public int clusterNotFoundStatus() {
    return clusterNotFoundStatus;
  }

  // ---- local answers --------------------------------------------------------------------------

  /** The redirect status (REDIRECT only). */
  public int redirectStatus() {
    return redirect == null ? 0 : redirect.status();
  }

  /** The {@code Location} of a REDIRECT route for this request. */
  public String redirectLocation(Http2Headers headers) {
    if (redirect == null) {
      throw new IllegalStateException("route " + name + " is not a redirect");
    }
    CharSequence path = headers.path();
    int matched = path == null ? -1 : matcher.path.matchedLength(path, RequestViews.pathEnd(path));
    return redirect.location(headers, matched);
  }

  public int directResponseStatus() {
    return directStatus;
  }

  /** The direct response body (a shared array: do not modify; wrap it with Unpooled.wrappedBuffer). */
  public byte[] directResponseBody() {
    return directBody;
  }

  /**
   * The {@code Location} Envoy adds to a direct response whose status is 201 or 3xx: the request's
   * own URL; null for other statuses.
   */
  public @Nullable String directResponseLocation(Http2Headers headers) {
    if (kind != Kind.DIRECT_RESPONSE || !(directStatus == 201 || (directStatus >= 300 && directStatus < 400))) {
      return null;
    }
    return headers.path() == null ? null : Redirect.requestUri(headers);
  }

  // ---- header mutation and rewrites -----------------------------------------------------------

  /**
   * Everything Envoy's router does to the request headers for this route, in Envoy's order: the
   * weighted cluster's mutations and host rewrite, then the route, virtual host and route
   * configuration mutations, then the route's host rewrite, then its path rewrite.
   *
   * @param insertEnvoyOriginalPath false when the router sets {@code suppress_envoy_headers}
   */
  public void finalizeRequestHeaders(
      Http2Headers headers, StreamInfo info, @Nullable WeightedCluster picked, boolean insertEnvoyOriginalPath) {
    applyRequestHeaderMutations(headers, info, picked);
    rewriteHost(headers);
    rewritePath(headers, insertEnvoyOriginalPath);
  }

  /** The request header mutations only (weighted cluster first, then the levels in Envoy's order). */
  public void applyRequestHeaderMutations(Http2Headers headers, StreamInfo info, @Nullable WeightedCluster picked) {
    if (picked != null) {
      picked.applyRequest(headers, info);
    }
    for (HeaderMutations m : requestMutations) {
      m.apply(headers, info);
    }
  }

  public void applyRequestHeaderMutations(Http2Headers headers, StreamInfo info) {
    applyRequestHeaderMutations(headers, info, null);
  }

  /** The response header mutations (weighted cluster first, then the levels in Envoy's order). */
  public void applyResponseHeaderMutations(Http2Headers headers, StreamInfo info, @Nullable WeightedCluster picked) {
    if (picked != null) {
      picked.applyResponse(headers, info);
    }
    for (HeaderMutations m : responseMutations) {
      m.apply(headers, info);
    }
  }

  public void applyResponseHeaderMutations(Http2Headers headers, StreamInfo info) {
    applyResponseHeaderMutations(headers, info, null);
  }

  /**
   * {@code host_rewrite_literal}, {@code host_rewrite_header} (when the header has a non-empty
   * value) or {@code host_rewrite_path_regex}; with {@code append_x_forwarded_host} the previous
   * authority is appended to {@code x-forwarded-host}. {@code auto_host_rewrite} is not applied here
   * (see {@link #applyAutoHostRewrite}).
   */
  public void rewriteHost(Http2Headers headers) {
    if (hostRewriteLiteral != null) {
      updateAuthority(headers, hostRewriteLiteral);
    } else if (hostRewriteHeader != null) {
      CharSequence v = headers.get(hostRewriteHeader);
      if (v != null && v.length() > 0) {
        updateAuthority(headers, v);
      }
    } else if (hostRewritePathRegex != null) {
      CharSequence path = headers.path();
      if (path != null) {
        updateAuthority(headers, hostRewritePathRegex.replaceAll(path.subSequence(0, RequestViews.pathEnd(path))));
      }
    }
  }

  /** {@code auto_host_rewrite}: the router calls this with the chosen upstream host's hostname. */
  public boolean autoHostRewrite() {
    return autoHostRewrite;
  }

  public void applyAutoHostRewrite(Http2Headers headers, String upstreamHostname) {
    if (autoHostRewrite && !upstreamHostname.isEmpty()) {
      updateAuthority(headers, upstreamHostname);
    }
  }

  private void updateAuthority(Http2Headers headers, CharSequence host) {
    CharSequence old = headers.authority();
    if (appendXForwardedHost && old != null && old.length() > 0) {
      CharSequence xfh = headers.get(X_FORWARDED_HOST);
      headers.set(X_FORWARDED_HOST, xfh == null || xfh.length() == 0 ? old : xfh + "," + old);
    }
    headers.authority(host);
  }

  /**
   * {@code prefix_rewrite} (replaces the matched prefix, or the whole matched path for
   * {@code path}/{@code safe_regex} routes) or {@code regex_rewrite} (on the path without its query,
   * which is kept). When the path changes, the original goes to {@code x-envoy-original-path} unless
   * the router suppresses Envoy headers.
   *
   * @return true when a rewrite was applied
   */
  public boolean rewritePath(Http2Headers headers, boolean insertEnvoyOriginalPath) {
    if (prefixRewrite == null && regexRewrite == null) {
      return false;
    }
    CharSequence path = headers.path();
    if (path == null) {
      return false;
    }
    int end = RequestViews.pathEnd(path);
    String rewritten;
    if (prefixRewrite != null) {
      int matched = matcher.path.matchedLength(path, end);
      if (matched < 0) {
        return false; // headers changed since routing without clearing the route cache
      }
      rewritten = prefixRewrite + path.subSequence(matched, path.length());
    } else {
      rewritten = regexRewrite.replaceAll(path.subSequence(0, end)) + path.subSequence(end, path.length());
    }
    if (insertEnvoyOriginalPath) {
      headers.set(X_ENVOY_ORIGINAL_PATH, path);
    }
    headers.path(rewritten);
    return true;
  }

  // ---- policies kept for the router -----------------------------------------------------------

  /** {@code timeout}: 15 s by default; {@link Duration#ZERO} disables it. */
  public Duration timeout() {
    return timeout;
  }

  /** {@code idle_timeout}, or null to use the connection manager's stream idle timeout. */
  public @Nullable Duration idleTimeout() {
    return idleTimeout;
  }

  /** {@code max_stream_duration.max_stream_duration}, or null. */
  public @Nullable Duration maxStreamDuration() {
    return maxStreamDuration;
  }

  /**
   * The route has {@code max_stream_duration} (Envoy's "new timeouts"): the connection manager's
   * stream duration timer applies it and grpc-timeout; the router then arms no timeout of its own.
   */
  public boolean usingNewTimeouts() {
    return usingNewTimeouts;
  }

  /** {@code max_stream_duration.grpc_timeout_header_max} (or the deprecated {@code max_grpc_timeout}), or null. */
  public @Nullable Duration grpcTimeoutHeaderMax() {
    return grpcTimeoutHeaderMax;
  }

  /** {@code max_stream_duration.grpc_timeout_header_offset} (or the deprecated {@code grpc_timeout_offset}), or null. */
  public @Nullable Duration grpcTimeoutHeaderOffset() {
    return grpcTimeoutHeaderOffset;
  }

  /** The route's compiled retry policy, else its virtual host's, else null. */
  public @Nullable RetryPolicy retryPolicy() {
    return retryPolicy;
  }

  /**
   * {@code per_request_buffer_limit_bytes} of the route, else of its virtual host, else -1 (the
   * listener's {@code per_connection_buffer_limit_bytes} applies): how much request body the router
   * keeps for retries and mirrors.
   */
  public int perRequestBufferLimitBytes() {
    return perRequestBufferLimitBytes;
  }

  /** The compiled {@code hash_policy}, or null when the route has none. */
  public @Nullable HashPolicy hashPolicy() {
    return hashPolicy;
  }

  /** The route's mirror policies, else the virtual host's, else the route configuration's. */
  public List<MirrorPolicy> mirrorPolicies() {
    return mirrorPolicies;
  }

  // ---- per-filter config ----------------------------------------------------------------------

  /** The most specific config for that filter: route, virtual host, then route configuration. */
  @Override
  public @Nullable Object perFilterConfig(String filterName) {
    List<Object> list = filterConfigs.get(filterName);
    return list == null ? null : list.get(0);
  }

  /** As {@link #perFilterConfig(String)}, with the picked weighted cluster's config first. */
  public @Nullable Object perFilterConfig(String filterName, @Nullable WeightedCluster picked) {
    if (picked != null) {
      Object o = picked.perFilterConfig(filterName);
      if (o != null) {
        return o;
      }
    }
    return perFilterConfig(filterName);
  }

  /**
   * Every level's config for that filter, most specific first (Envoy's perFilterConfigs, which the
   * CORS filter walks field by field). For {@code envoy.filters.http.cors}, when no level has a typed
   * config, the legacy route and virtual host {@code cors} fields.
   */
  public List<Object> perFilterConfigs(String filterName) {
    return filterConfigs.getOrDefault(filterName, List.of());
  }

  @Override
  public String toString() {
    return "Route[" + (name.isEmpty() ? "<unnamed>" : name) + " " + kind + (cluster != null ? " " + cluster : "") + "]";
  }
}
