package dev.sluice.extensions.filters.http.grpc_stats;

import dev.sluice.api.FactoryContext;
import dev.sluice.api.http.HttpFilter;
import dev.sluice.api.http.HttpFilterFactory;
import dev.sluice.extensions.filters.passthrough.PassThrough;
import io.envoyproxy.envoy.extensions.filters.http.grpc_stats.v3.FilterConfig;
import java.util.List;
import java.util.function.Supplier;

/**
 * {@code envoy.filters.http.grpc_stats}: per gRPC service/method counters and message counts.
 * Accepted and passed through (it only observes traffic); the counters belong to the telemetry
 * work. Its config is a known Envoy type, so it is fully parsed and type-checked here.
 */
public final class GrpcStatsFilterFactory implements HttpFilterFactory<FilterConfig> {
  public static final String NAME = "envoy.filters.http.grpc_stats";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public List<String> aliases() {
    return List.of("envoy.grpc_stats");
  }

  @Override
  public Class<FilterConfig> configType() {
    return FilterConfig.class;
  }

  @Override
  public FilterConfig defaultInstance() {
    return FilterConfig.getDefaultInstance();
  }

  @Override
  public Supplier<HttpFilter> create(FilterConfig config, String statPrefix, FactoryContext context) {
    PassThrough.announce(NAME, "gRPC statistics", "Istio telemetry");
    return () -> PassThrough.HTTP_FILTER;
  }
}
