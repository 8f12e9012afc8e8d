package dev.sluice.extensions.filters.network.http_connection_manager;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.sluice.api.FactoryContext;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.http.HttpFilterFactory;
import dev.sluice.api.network.NetworkFilter;
import dev.sluice.api.network.NetworkFilterFactory;
import dev.sluice.config.GeneratedMessages;
import dev.sluice.http.HttpConnectionManagerConfig;
import dev.sluice.http.HttpConnectionManagerStats;
import dev.sluice.http.RdsRouteConfigProvider;
import dev.sluice.http.RouteConfigProvider;
import dev.sluice.http.ScopeKeyBuilder;
import dev.sluice.http.ScopedRoutesRegistry;
import dev.sluice.router.RouteCompileContext;
import dev.sluice.server.ServerFactoryContext;
import dev.sluice.router.RouteTable;
import io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.config.route.v3.FilterConfig;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.PathWithEscapedSlashesAction;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.ScopedRoutes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Compiles {@code envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager}
 * once per filter chain: its routes (inline, RDS or scoped), its HTTP filter chain through the extension
 * registry, and its limits, timeouts and header switches with Envoy's defaults.
 */
public final class HttpConnectionManagerFactory implements NetworkFilterFactory<HttpConnectionManager> {
  private static final Logger LOG = LoggerFactory.getLogger("sluice.config");

  @Override
  public String name() {
    return "envoy.filters.network.http_connection_manager";
  }

  @Override
  public Class<HttpConnectionManager> configType() {
    return HttpConnectionManager.class;
  }

  @Override
  public HttpConnectionManager defaultInstance() {
    return HttpConnectionManager.getDefaultInstance();
  }

  @Override
  public boolean terminal() {
    return true;
  }

  @Override
  public NetworkFilter create(HttpConnectionManager proto, FactoryContext context) {
    return new dev.sluice.http.HttpConnectionManager(compile(proto, context));
  }

  /** Envoy's defaults where the proto leaves a field unset. */
  public static HttpConnectionManagerConfig compile(HttpConnectionManager p, FactoryContext context) {
    if (p.getStatPrefix().isEmpty()) {
      throw new ConfigException("stat_prefix", "value length must be at least 1 characters");
    }
    String statPrefix = "http." + p.getStatPrefix() + ".";
    HttpConnectionManagerStats stats = new HttpConnectionManagerStats(context.stats().scope(statPrefix));

    List<HttpConnectionManagerConfig.FilterEntry> filters = new ArrayList<>();
    Map<String, HttpFilterFactory<?>> factoriesByName = new HashMap<>();
    for (int i = 0; i < p.getHttpFiltersCount(); i++) {
      HttpFilter f = p.getHttpFilters(i);
      String path = "http_filters[" + i + "]";
      if (f.getDisabled()) {
        continue;
      }
      if (f.hasConfigDiscovery()) {
        throw new ConfigException(path + ".config_discovery", "filter config discovery (ECDS) is not supported");
      }
      HttpFilterFactory<?> factory = context.extensions().find(HttpFilterFactory.class, f.getTypedConfig(), f.getName());
      if (factory == null) {
        if (f.getIsOptional()) {
          LOG.warn("skipping optional HTTP filter '{}' ({}): no implementation", f.getName(), f.getTypedConfig().getTypeUrl());
          context.stats().counter("http." + p.getStatPrefix() + ".optional_filter_skipped").inc();
          continue;
        }
        throw new ConfigException(path + ".typed_config",
            "Didn't find a registered implementation for '" + f.getName() + "' with type URL: '"
                + f.getTypedConfig().getTypeUrl() + "'");
      }
      factoriesByName.put(f.getName(), factory);
      boolean last = i == p.getHttpFiltersCount() - 1;
      if (factory.terminal() && !last) {
        throw new ConfigException(path, "terminal filter named " + f.getName() + " of type " + factory.name()
            + " must be the last filter in a http filter chain.");
      }
      if (!factory.terminal() && last) {
        throw new ConfigException(path, "non-terminal filter named " + f.getName() + " of type " + factory.name()
            + " is the last filter in a http filter chain.");
      }
      filters.add(new HttpConnectionManagerConfig.FilterEntry(f.getName(), create(factory, f.getTypedConfig(), statPrefix, context, path), factory.terminal()));
    }
    if (filters.isEmpty() || !filters.getLast().terminal()) {
      throw new ConfigException("http_filters", "the http filter chain must end with a terminal filter (envoy.filters.http.router)");
    }

    RouteConfigProvider routes = routes(p, context, factoriesByName);

    var common = p.getCommonHttpProtocolOptions();
    Set<String> upgrades = new HashSet<>();
    for (var u : p.getUpgradeConfigsList()) {
      if (!u.hasEnabled() || u.getEnabled().getValue()) {
        upgrades.add(u.getUpgradeType().toLowerCase(Locale.ROOT));
      }
    }
    int maxHeadersKb = p.hasMaxRequestHeadersKb() ? p.getMaxRequestHeadersKb().getValue() : 60;
    if (maxHeadersKb < 1 || maxHeadersKb > 8192) {
      throw new ConfigException("max_request_headers_kb", "value must be inside range (0, 8192]");
    }
    return new HttpConnectionManagerConfig(
        p,
        p.getStatPrefix(),
        stats,
        p.getCodecType(),
        routes,
        List.copyOf(filters),
        context.accessLogger(p.getAccessLogList()),
        p.getServerName().isEmpty() ? "envoy" : p.getServerName(),
        p.getServerHeaderTransformation(),
        !p.hasGenerateRequestId() || p.getGenerateRequestId().getValue(),
        p.getPreserveExternalRequestId(),
        p.getAlwaysSetRequestIdInResponse(),
        p.hasUseRemoteAddress() && p.getUseRemoteAddress().getValue(),
        p.getXffNumTrustedHops(),
        p.getSkipXffAppend(),
        p.getVia(),
        maxHeadersKb * 1024,
        common.hasMaxHeadersCount() ? common.getMaxHeadersCount().getValue() : 100,
        nanos(common.hasIdleTimeout() ? common.getIdleTimeout() : null, Duration.ofHours(1)),
        nanos(common.hasMaxConnectionDuration() ? common.getMaxConnectionDuration() : null, Duration.ZERO),
        nanos(common.hasMaxStreamDuration() ? common.getMaxStreamDuration() : null, Duration.ZERO),
        nanos(p.hasStreamIdleTimeout() ? p.getStreamIdleTimeout() : null, Duration.ofMinutes(5)),
        nanos(p.hasRequestTimeout() ? p.getRequestTimeout() : null, Duration.ZERO),
        nanos(p.hasRequestHeadersTimeout() ? p.getRequestHeadersTimeout() : null, Duration.ZERO),
        nanos(p.hasDrainTimeout() ? p.getDrainTimeout() : null, Duration.ofSeconds(5)),
        common.getHeadersWithUnderscoresAction() == HttpProtocolOptions.HeadersWithUnderscoresAction.UNRECOGNIZED
            ? HttpProtocolOptions.HeadersWithUnderscoresAction.ALLOW : common.getHeadersWithUnderscoresAction(),
        p.hasNormalizePath() && p.getNormalizePath().getValue(),
        p.getMergeSlashes(),
        p.getPathWithEscapedSlashesAction() == PathWithEscapedSlashesAction.UNRECOGNIZED
            ? PathWithEscapedSlashesAction.KEEP_UNCHANGED : p.getPathWithEscapedSlashesAction(),
        p.getStripMatchingHostPort(),
        p.getStripAnyHostPort(),
        Set.copyOf(upgrades),
        p.getProxy100Continue(),
        p.getHttpProtocolOptions().getAcceptHttp10(),
        p.getHttpProtocolOptions().getDefaultHostForHttp10(),
        p.getHttp2ProtocolOptions(),
        new dev.sluice.http.Http2CodecStats(context.stats()),
        context instanceof dev.sluice.server.ServerFactoryContext server ? server.healthCheckDrainClose() : () -> false);
  }

  private static <C extends Message> java.util.function.Supplier<dev.sluice.api.http.HttpFilter> create(
      HttpFilterFactory<C> factory, Any typedConfig, String statPrefix, FactoryContext context, String path) {
    C config = context.extensions().unpack(factory, typedConfig, path + ".typed_config");
    try {
      return factory.create(config, statPrefix, context);
    } catch (ConfigException e) {
      throw e.under(path + ".typed_config");
    }
  }

  private static RouteConfigProvider routes(HttpConnectionManager p, FactoryContext context, Map<String, HttpFilterFactory<?>> byName) {
    RouteCompileContext rcc = new RouteCompileContext() {
      @Override
      public Object compileFilterConfig(String filterName, Any config, String fieldPath) {
        Any inner = config;
        boolean optional = false;
        if (config.getTypeUrl().endsWith("/envoy.config.route.v3.FilterConfig")) {
          try {
            FilterConfig fc = config.unpack(FilterConfig.class);
            inner = fc.getConfig();
            optional = fc.getIsOptional();
          } catch (InvalidProtocolBufferException e) {
            throw new ConfigException(fieldPath, "cannot parse FilterConfig: " + e.getMessage());
          }
        }
        HttpFilterFactory<?> factory = byName.get(filterName);
        if (factory == null) {
          factory = context.extensions().find(HttpFilterFactory.class, inner, filterName);
        }
        Message unpacked = GeneratedMessages.defaultInstance(inner.getTypeUrl()) == null ? null : GeneratedMessages.unpack(inner, fieldPath);
        if (factory == null || unpacked == null) {
          // Envoy ignores per-route config for filters that are not in the chain; keep it inert.
          if (!optional && factory == null && unpacked == null) {
            LOG.debug("per-route config for unknown filter '{}' ({}) kept as is", filterName, inner.getTypeUrl());
          }
          return inner;
        }
        try {
          return factory.createRouteSpecificConfig(unpacked, context);
        } catch (ConfigException e) {
          throw e.under(fieldPath);
        }
      }

      @Override
      public void validateCluster(String clusterName, String fieldPath) {
        if (context.clusterManager().get(clusterName) == null) {
          throw new ConfigException(fieldPath, "route: unknown cluster '" + clusterName + "'");
        }
      }

      @Override
      public boolean validateClustersByDefault() {
        return p.hasRouteConfig();
      }
    };
    if (p.hasRouteConfig()) {
      try {
        RouteTable table = RouteTable.compile(p.getRouteConfig(), rcc);
        return RouteConfigProvider.of(table, p.getRouteConfig().getName());
      } catch (ConfigException e) {
        throw e.under("route_config");
      }
    }
    if (p.hasRds()) {
      // The server's registry lets the xDS client find this provider by name and update it.
      if (context instanceof ServerFactoryContext server) {
        return server.routeConfigs().provider(p.getRds().getRouteConfigName(), rcc);
      }
      return new RdsRouteConfigProvider(p.getRds().getRouteConfigName(), rcc);
    }
    if (p.hasScopedRoutes()) {
      return scopedRoutes(p.getScopedRoutes(), context, rcc);
    }
    throw new ConfigException("route_specifier", "one of route_config, rds or scoped_routes is required");
  }

  /**
   * {@code scoped_routes}: the scopes inline or over SRDS; a scope's RDS route configuration comes
   * through the server's RDS registry (subscribed by the xDS client from {@code rds_config_source}).
   */
  private static RouteConfigProvider scopedRoutes(ScopedRoutes s, FactoryContext context, RouteCompileContext rcc) {
    if (s.getName().isEmpty()) {
      throw new ConfigException("scoped_routes.name", "value length must be at least 1 characters");
    }
    if (!s.hasScopeKeyBuilder()) {
      throw new ConfigException("scoped_routes.scope_key_builder", "value is required");
    }
    ScopeKeyBuilder keys = ScopeKeyBuilder.compile(s.getScopeKeyBuilder(), "scoped_routes.scope_key_builder");
    ScopedRoutesRegistry registry = context instanceof ServerFactoryContext server
        ? server.routeConfigs().scopedRoutes() : new ScopedRoutesRegistry(null);
    if (s.hasScopedRouteConfigurationsList()) {
      var list = s.getScopedRouteConfigurationsList().getScopedRouteConfigurationsList();
      for (int i = 0; i < list.size(); i++) {
        if (!list.get(i).getRouteConfigurationName().isEmpty()) {
          // As Envoy: inline scopes carry their route configuration inline.
          throw new ConfigException("scoped_routes.scoped_route_configurations_list.scoped_route_configurations[" + i
              + "].route_configuration_name", "fetching routes via RDS is not supported with inline scoped routes");
        }
      }
      try {
        return registry.inline(s.getName(), keys, rcc, list);
      } catch (ConfigException e) {
        throw e.under("scoped_routes.scoped_route_configurations_list");
      }
    }
    if (s.hasScopedRds()) {
      if (!s.getScopedRds().hasScopedRdsConfigSource()) {
        throw new ConfigException("scoped_routes.scoped_rds.scoped_rds_config_source", "value is required");
      }
      if (!s.hasRdsConfigSource()) {
        throw new ConfigException("scoped_routes.rds_config_source", "value is required with scoped_rds");
      }
      return registry.provider(s.getName(), keys, rcc);
    }
    throw new ConfigException("scoped_routes.config_specifier",
        "one of scoped_route_configurations_list or scoped_rds is required");
  }

  private static long nanos(com.google.protobuf.@org.jspecify.annotations.Nullable Duration d, Duration dflt) {
    return d == null ? dflt.toNanos() : d.getSeconds() * 1_000_000_000L + d.getNanos();
  }
}
