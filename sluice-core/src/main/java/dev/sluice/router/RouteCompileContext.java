package dev.sluice.router;

import com.google.protobuf.Any;

/**
 * What the route table compiler asks of its caller (the HTTP connection manager or RDS).
 * Both methods run on the control thread at compile time.
 */
public interface RouteCompileContext {
  /** Keeps typed per-filter configs as their {@link Any}, validates no cluster names. */
  RouteCompileContext DEFAULT = new RouteCompileContext() {};

  /**
   * Compiles one {@code typed_per_filter_config} entry into what {@code Route.perFilterConfig}
   * returns (normally through the filter factory's {@code createRouteSpecificConfig}). The value may
   * be wrapped in an {@code envoy.config.route.v3.FilterConfig}. The legacy {@code cors} fields of
   * routes and virtual hosts arrive here too, packed as
   * {@code envoy.extensions.filters.http.cors.v3.CorsPolicy} under {@code envoy.filters.http.cors}.
   *
   * @throws dev.sluice.api.config.ConfigException naming {@code fieldPath}
   */
  default Object compileFilterConfig(String filterName, Any config, String fieldPath) {
    return config;
  }

  /**
   * Called for every cluster a route names when the route configuration's {@code validate_clusters}
   * is true (or unset and {@link #validateClustersByDefault()}).
   *
   * @throws dev.sluice.api.config.ConfigException when the cluster does not exist
   */
  default void validateCluster(String clusterName, String fieldPath) {}

  /** Envoy validates clusters by default for static route configurations, not for RDS ones. */
  default boolean validateClustersByDefault() {
    return false;
  }
}
