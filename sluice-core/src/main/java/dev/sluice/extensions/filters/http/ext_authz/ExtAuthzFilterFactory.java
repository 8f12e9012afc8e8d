package dev.sluice.extensions.filters.http.ext_authz;

import com.google.protobuf.Message;
import dev.sluice.api.FactoryContext;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.http.HttpFilter;
import dev.sluice.api.http.HttpFilterFactory;
import dev.sluice.server.ServerFactoryContext;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code envoy.filters.http.ext_authz} ({@code envoy.extensions.filters.http.ext_authz.v3.ExtAuthz})
 * with a gRPC authorization service ({@code envoy.service.auth.v3.Authorization/Check}) named by
 * {@code grpc_service.envoy_grpc}, called through the server's own HTTP/2 upstream pools. Istio's
 * CUSTOM authorization action uses it gated by {@code filter_enabled_metadata} on the shadow RBAC
 * filter's dynamic metadata. Per route, {@code ExtAuthzPerRoute}. Not supported: the HTTP service
 * mode and {@code google_grpc} (refused), runtime keys of {@code filter_enabled}/{@code deny_at_disable}
 * (default values apply), query parameter mutations and the per-cluster {@code cluster.<name>.ext_authz.*} stats.
 */
public final class ExtAuthzFilterFactory implements HttpFilterFactory<ExtAuthz> {
  public static final String NAME = "envoy.filters.http.ext_authz";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public List<String> aliases() {
    return List.of("envoy.ext_authz");
  }

  @Override
  public Class<ExtAuthz> configType() {
    return ExtAuthz.class;
  }

  @Override
  public ExtAuthz defaultInstance() {
    return ExtAuthz.getDefaultInstance();
  }

  @Override
  public Supplier<HttpFilter> create(ExtAuthz config, String statPrefix, FactoryContext context) {
    if (!(context instanceof ServerFactoryContext server)) {
      throw new ConfigException("", "ext_authz needs the server's connection pools");
    }
    ExtAuthzConfig compiled = ExtAuthzConfig.compile(config,
        (cluster, authority, path, timeout) -> new GrpcTarget(cluster, authority, path, timeout, context.clusterManager(), server.connectionPools()),
        new ExtAuthzStats(context.stats(), statPrefix, config.getStatPrefix()));
    return () -> new ExtAuthzFilter(compiled);
  }

  @Override
  public Object createRouteSpecificConfig(Message config, FactoryContext context) {
    if (!(config instanceof ExtAuthzPerRoute p)) {
      throw new ConfigException("", "expected " + ExtAuthzPerRoute.getDescriptor().getFullName() + " but got "
          + config.getDescriptorForType().getFullName());
    }
    return switch (p.getOverrideCase()) {
      case DISABLED -> {
        if (!p.getDisabled()) {
          throw new ConfigException("disabled", "value must equal true");
        }
        yield new ExtAuthzPerRouteConfig(true, Map.of(), false);
      }
      case CHECK_SETTINGS -> {
        if (p.getCheckSettings().hasWithRequestBody()) {
          throw new ConfigException("check_settings.with_request_body", "per-route body settings are not supported");
        }
        yield new ExtAuthzPerRouteConfig(false, Map.copyOf(p.getCheckSettings().getContextExtensionsMap()),
            p.getCheckSettings().getDisableRequestBodyBuffering());
      }
      case OVERRIDE_NOT_SET -> throw new ConfigException("override", "value is required");
    };
  }
}
