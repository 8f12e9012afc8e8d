package dev.sluice.router;

import com.google.protobuf.Any;
import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.config.route.v3.CorsPolicy;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.netty.handler.codec.http2.Http2Headers;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A {@code RouteConfiguration} compiled once on the control thread into an immutable table that
 * workers share without locks. {@link #route} picks the virtual host by {@code :authority}, then the
 * first matching route.
 */
public final class RouteTable {
  private final String name;
  private final VirtualHostIndex index;
  private final List<VirtualHostEntry> virtualHosts;
  private final boolean vhds;

  private RouteTable(String name, VirtualHostIndex index, List<VirtualHostEntry> virtualHosts, boolean vhds) {
    this.name = name;
    this.index = index;
    this.virtualHosts = virtualHosts;
    this.vhds = vhds;
  }

  /**
   * Compiles and validates an inline route configuration ({@code route_config}, a scope's inline
   * one): VHDS is refused there, as its virtual hosts are named after an RDS route configuration.
   *
   * @throws ConfigException naming the offending field, e.g.
   *     {@code virtual_hosts[1].routes[0].match.safe_regex.regex}
   */
  public static RouteTable compile(RouteConfiguration config, RouteCompileContext ctx) {
    if (config.hasVhds()) {
      throw new ConfigException("vhds", "VHDS needs a route configuration delivered by RDS");
    }
    return compileRds(config, ctx);
  }

  /**
   * Compiles a route configuration delivered by RDS, possibly with {@code vhds}: the caller (the
   * xDS client) has merged the VHDS virtual hosts held into {@code config.virtual_hosts}
   * ({@link VirtualHostMerge}).
   *
   * @throws ConfigException naming the offending field
   */
  public static RouteTable compileRds(RouteConfiguration config, RouteCompileContext ctx) {
    if (config.getClusterSpecifierPluginsCount() > 0) {
      throw new ConfigException("cluster_specifier_plugins", "cluster specifier plugins are not supported");
    }
    boolean validateClusters =
        config.hasValidateClusters() ? config.getValidateClusters().getValue() : ctx.validateClustersByDefault();
    RouteEntry.TableSettings table =
        new RouteEntry.TableSettings(
            HeaderMutations.compile(
                config.getRequestHeadersToAddList(),
                config.getRequestHeadersToRemoveList(),
                "",
                "request_headers_to_add",
                "request_headers_to_remove"),
            HeaderMutations.compile(
                config.getResponseHeadersToAddList(),
                config.getResponseHeadersToRemoveList(),
                "",
                "response_headers_to_add",
                "response_headers_to_remove"),
            FilterConfigs.compile(config.getTypedPerFilterConfigMap(), "", ctx),
            config.getMostSpecificHeaderMutationsWins(),
            MirrorPolicy.compileAll(config.getRequestMirrorPoliciesList(), "request_mirror_policies"),
            validateClusters);
    List<VirtualHostEntry> hosts = new ArrayList<>(config.getVirtualHostsCount());
    List<List<String>> domains = new ArrayList<>(config.getVirtualHostsCount());
    for (int h = 0; h < config.getVirtualHostsCount(); h++) {
      VirtualHost vh = config.getVirtualHosts(h);
      String path = "virtual_hosts[" + h + "]";
      hosts.add(compileVirtualHost(vh, path, table, ctx));
      domains.add(vh.getDomainsList());
    }
    VirtualHostIndex index =
        VirtualHostIndex.build(hosts, domains, config.getName(), config.getIgnorePortInHostMatching());
    return new RouteTable(config.getName(), index, List.copyOf(hosts), config.hasVhds());
  }

  private static VirtualHostEntry compileVirtualHost(
      VirtualHost vh, String path, RouteEntry.TableSettings table, RouteCompileContext ctx) {
    if (vh.getName().isEmpty()) {
      throw new ConfigException(path + ".name", "value length must be at least 1 characters");
    }
    if (vh.hasMatcher()) {
      throw new ConfigException(path + ".matcher", "the generic matcher tree is not supported; use routes");
    }
    if (vh.getRequireTls() == VirtualHost.TlsRequirementType.UNRECOGNIZED) {
      throw new ConfigException(path + ".require_tls", "unknown TLS requirement");
    }
    VirtualHostEntry host =
        new VirtualHostEntry(
            vh.getName(),
            vh.getRoutesCount(),
            vh.getRequireTls(),
            HeaderMutations.compile(
                vh.getRequestHeadersToAddList(),
                vh.getRequestHeadersToRemoveList(),
                path,
                "request_headers_to_add",
                "request_headers_to_remove"),
            HeaderMutations.compile(
                vh.getResponseHeadersToAddList(),
                vh.getResponseHeadersToRemoveList(),
                path,
                "response_headers_to_add",
                "response_headers_to_remove"),
            FilterConfigs.compile(vh.getTypedPerFilterConfigMap(), path, ctx),
            vh.hasCors() ? legacyCors(vh.getCors(), path + ".cors", ctx) : null,
            vh.hasRetryPolicy() ? RetryPolicy.compile(vh.getRetryPolicy(), path + ".retry_policy") : null,
            MirrorPolicy.compileAll(vh.getRequestMirrorPoliciesList(), path + ".request_mirror_policies"),
            vh.hasPerRequestBufferLimitBytes() ? RouteEntry.clampLimit(vh.getPerRequestBufferLimitBytes().getValue()) : -1,
            vh.getIncludeRequestAttemptCount(),
            vh.getIncludeAttemptCountInResponse());
    RouteEntry[] routes = host.routesForCompile();
    for (int r = 0; r < routes.length; r++) {
      var route = vh.getRoutes(r);
      String rpath = path + ".routes[" + r + "]";
      Object cors =
          route.hasRoute() && route.getRoute().hasCors()
              ? legacyCors(route.getRoute().getCors(), rpath + ".route.cors", ctx)
              : null;
      routes[r] = RouteEntry.compile(route, rpath, host, cors, table, ctx);
    }
    return host;
  }

  /**
   * The legacy {@code cors} field, handed to the CORS filter's route-config compiler as the typed
   * {@code envoy.extensions.filters.http.cors.v3.CorsPolicy} (same fields, other numbers).
   */
  private static Object legacyCors(CorsPolicy c, String path, RouteCompileContext ctx) {
    var b = io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy.newBuilder()
        .addAllAllowOriginStringMatch(c.getAllowOriginStringMatchList())
        .setAllowMethods(c.getAllowMethods())
        .setAllowHeaders(c.getAllowHeaders())
        .setExposeHeaders(c.getExposeHeaders())
        .setMaxAge(c.getMaxAge());
    if (c.hasAllowCredentials()) {
      b.setAllowCredentials(c.getAllowCredentials());
    }
    if (c.hasFilterEnabled()) {
      b.setFilterEnabled(c.getFilterEnabled());
    }
    if (c.hasShadowEnabled()) {
      b.setShadowEnabled(c.getShadowEnabled());
    }
    if (c.hasAllowPrivateNetworkAccess()) {
      b.setAllowPrivateNetworkAccess(c.getAllowPrivateNetworkAccess());
    }
    if (c.hasForwardNotMatchingPreflights()) {
      b.setForwardNotMatchingPreflights(c.getForwardNotMatchingPreflights());
    }
    return ctx.compileFilterConfig(RouteEntry.CORS_FILTER, Any.pack(b.build()), path);
  }

  /** The route configuration's {@code name}. */
  public String name() {
    return name;
  }

  /**
   * True when the route configuration has {@code vhds}: a request for a host no virtual host
   * matches may fetch one on demand (with the {@code envoy.filters.http.on_demand} filter).
   */
  public boolean vhds() {
    return vhds;
  }

  public List<VirtualHostEntry> virtualHosts() {
    return virtualHosts;
  }

  /** The virtual host for the request's {@code :authority}, or null (Envoy: 404, flag NR). */
  public @Nullable VirtualHostEntry findVirtualHost(Http2Headers headers) {
    return index.find(headers.authority());
  }

  /**
   * The matched route, or null when no virtual host or no route matches (use
   * {@link #findVirtualHost} then {@link VirtualHostEntry#route} to tell the two apart).
   *
   * @param random the stream's random value, used by {@code runtime_fraction} and weighted clusters
   */
  public @Nullable RouteEntry route(Http2Headers headers, long random) {
    VirtualHostEntry host = index.find(headers.authority());
    return host == null ? null : host.route(headers, random);
  }
}
