package dev.sluice.server;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.ApiConfigSource;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.core.v3.TypedExtensionConfig;
import io.envoyproxy.envoy.config.metrics.v3.DogStatsdSink;
import io.envoyproxy.envoy.config.metrics.v3.MetricsServiceConfig;
import io.envoyproxy.envoy.config.metrics.v3.StatsdSink;
import io.envoyproxy.envoy.config.overload.v3.ResourceMonitor;
import io.envoyproxy.envoy.config.trace.v3.DatadogConfig;
import io.envoyproxy.envoy.config.trace.v3.OpenTelemetryConfig;
import io.envoyproxy.envoy.config.trace.v3.ZipkinConfig;
import io.envoyproxy.envoy.extensions.bootstrap.internal_listener.v3.InternalListener;
import io.envoyproxy.envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;

/**
 * Bootstrap features Envoy would run that Sluice accepts but does not run yet, each owned by a later
 * piece of work: bootstrap extensions, stats sinks, the HTTP tracer and {@code dynamic_resources}.
 * Only the config types listed here are accepted (Envoy refuses types it has no extension for, and
 * so does this); each must parse. Start-up logs each once at info and counts them in the gauge
 * {@code server.inactive_extensions}. Overload resource monitors other than the downstream
 * connection limit ({@link dev.sluice.listener.GlobalConnectionLimit}) are refused.
 */
final class InactiveExtensions {
  private static final Logger log = Logging.logger("main");
  static final String GAUGE = "server.inactive_extensions";

  /** The accepted config types of each inactive feature, and the work that will make them run. */
  private static final Map<String, Message> BOOTSTRAP_EXTENSIONS = types(InternalListener.getDefaultInstance());
  private static final Map<String, Message> STATS_SINKS = types(StatsdSink.getDefaultInstance(),
      DogStatsdSink.getDefaultInstance(), MetricsServiceConfig.getDefaultInstance());
  private static final Map<String, Message> TRACERS = types(ZipkinConfig.getDefaultInstance(),
      OpenTelemetryConfig.getDefaultInstance(), DatadogConfig.getDefaultInstance());
  private static final Set<String> MONITORS = Set.of(DownstreamConnectionsConfig.getDescriptor().getFullName());

  /** One configured feature that does not run yet: where it is, what it is, who owns it. */
  record Feature(String fieldPath, String name, String owner) {}

  private final List<Feature> features;

  private InactiveExtensions(List<Feature> features) {
    this.features = List.copyOf(features);
  }

  /**
   * @param allowUnknownFields {@code --allow-unknown-static-fields} (for TypedStruct values)
   * @throws ConfigException naming the field of an unknown type, a config that does not parse or an
   *     ADS cluster that is not a static cluster
   */
  static InactiveExtensions of(Bootstrap bootstrap, boolean allowUnknownFields) {
    List<Feature> out = new ArrayList<>();
    for (int i = 0; i < bootstrap.getBootstrapExtensionsCount(); i++) {
      TypedExtensionConfig e = bootstrap.getBootstrapExtensions(i);
      String path = "bootstrap_extensions[" + i + "]";
      parse(e.getName(), e.getTypedConfig(), BOOTSTRAP_EXTENSIONS, path + ".typed_config", allowUnknownFields);
      out.add(new Feature(path, e.getName(), "internal listeners"));
    }
    for (int i = 0; i < bootstrap.getStatsSinksCount(); i++) {
      var sink = bootstrap.getStatsSinks(i);
      String path = "stats_sinks[" + i + "]";
      parse(sink.getName(), sink.getTypedConfig(), STATS_SINKS, path + ".typed_config", allowUnknownFields);
      out.add(new Feature(path, sink.getName(), "stats sinks"));
    }
    if (bootstrap.getTracing().hasHttp()) {
      var http = bootstrap.getTracing().getHttp();
      parse(http.getName(), http.getTypedConfig(), TRACERS, "tracing.http.typed_config", allowUnknownFields);
      out.add(new Feature("tracing.http", http.getName(), "tracing"));
    }
    if (bootstrap.hasDynamicResources()) {
      // Active: the server runs them through dev.sluice.xds.DynamicResources.
      checkDynamicResources(bootstrap);
    }
    List<ResourceMonitor> monitors = bootstrap.getOverloadManager().getResourceMonitorsList();
    for (int i = 0; i < monitors.size(); i++) {
      String type = typeName(monitors.get(i).getTypedConfig());
      if (!MONITORS.contains(type)) {
        throw new ConfigException("overload_manager.resource_monitors[" + i + "].typed_config",
            "Didn't find a registered implementation for '" + monitors.get(i).getName() + "' with type URL: '"
                + monitors.get(i).getTypedConfig().getTypeUrl() + "'");
      }
    }
    return new InactiveExtensions(out);
  }

  List<Feature> features() {
    return features;
  }

  /** One info line per feature (start-up calls this once). */
  void logOnce() {
    for (Feature f : features) {
      log.info("{} ({}) is configured but not active yet (owned by {})", f.fieldPath(), f.name(), f.owner());
    }
  }

  /** The ADS source must use a static cluster, as Envoy requires of a bootstrap gRPC source. */
  private static void checkDynamicResources(Bootstrap bootstrap) {
    var dynamic = bootstrap.getDynamicResources();
    Set<String> staticClusters = bootstrap.getStaticResources().getClustersList().stream()
        .map(Cluster::getName).collect(Collectors.toSet());
    if (dynamic.hasAdsConfig()) {
      checkApiSource(dynamic.getAdsConfig(), "dynamic_resources.ads_config", staticClusters);
    }
    checkSource(dynamic.hasLdsConfig(), dynamic.getLdsConfig(), dynamic.hasAdsConfig(), "dynamic_resources.lds_config", staticClusters);
    checkSource(dynamic.hasCdsConfig(), dynamic.getCdsConfig(), dynamic.hasAdsConfig(), "dynamic_resources.cds_config", staticClusters);
  }

  private static void checkSource(boolean set, ConfigSource source, boolean hasAds, String path, Set<String> clusters) {
    if (!set) {
      return;
    }
    switch (source.getConfigSourceSpecifierCase()) {
      case ADS -> {
        if (!hasAds) {
          throw new ConfigException(path + ".ads", "an ADS config source needs dynamic_resources.ads_config");
        }
      }
      case API_CONFIG_SOURCE -> checkApiSource(source.getApiConfigSource(), path + ".api_config_source", clusters);
      case PATH_CONFIG_SOURCE, PATH, SELF -> { }
      default -> throw new ConfigException(path, "a config source specifier is required");
    }
  }

  private static void checkApiSource(ApiConfigSource api, String path, Set<String> clusters) {
    for (int i = 0; i < api.getGrpcServicesCount(); i++) {
      GrpcService g = api.getGrpcServices(i);
      if (g.hasEnvoyGrpc() && !clusters.contains(g.getEnvoyGrpc().getClusterName())) {
        throw new ConfigException(path + ".grpc_services[" + i + "].envoy_grpc.cluster_name",
            "unknown static cluster '" + g.getEnvoyGrpc().getClusterName() + "'");
      }
    }
  }

  /** Parses {@code any} (or the TypedStruct it wraps) as one of {@code known}. */
  private static void parse(String name, Any any, Map<String, Message> known, String path, boolean allowUnknownFields) {
    String type = typeName(any);
    Message prototype = known.get(type);
    if (prototype == null) {
      throw new ConfigException(path, "Didn't find a registered implementation for '" + name
          + "' with type URL: '" + (type.isEmpty() ? any.getTypeUrl() : "type.googleapis.com/" + type) + "'");
    }
    try {
      if (isTypedStruct(any)) {
        JsonFormat.Parser parser = allowUnknownFields ? JsonFormat.parser().ignoringUnknownFields() : JsonFormat.parser();
        Message.Builder b = prototype.newBuilderForType();
        parser.merge(JsonFormat.printer().print(typedStructValue(any)), b);
        b.build();
      } else {
        prototype.getParserForType().parseFrom(any.getValue());
      }
    } catch (InvalidProtocolBufferException e) {
      throw new ConfigException(path, "cannot parse " + type + ": " + e.getMessage(), e);
    }
  }

  /** The config's message name, looking inside a TypedStruct. */
  private static String typeName(Any any) {
    String url = any.getTypeUrl();
    if (isTypedStruct(any)) {
      try {
        url = any.getTypeUrl().endsWith("udpa.type.v1.TypedStruct")
            ? any.unpack(com.github.udpa.udpa.type.v1.TypedStruct.class).getTypeUrl()
            : any.unpack(com.github.xds.type.v3.TypedStruct.class).getTypeUrl();
      } catch (InvalidProtocolBufferException e) {
        return "";
      }
    }
    return url.substring(url.lastIndexOf('/') + 1);
  }

  private static boolean isTypedStruct(Any any) {
    return any.getTypeUrl().endsWith("/udpa.type.v1.TypedStruct") || any.getTypeUrl().endsWith("/xds.type.v3.TypedStruct");
  }

  private static com.google.protobuf.Struct typedStructValue(Any any) throws InvalidProtocolBufferException {
    return any.getTypeUrl().endsWith("udpa.type.v1.TypedStruct")
        ? any.unpack(com.github.udpa.udpa.type.v1.TypedStruct.class).getValue()
        : any.unpack(com.github.xds.type.v3.TypedStruct.class).getValue();
  }

  private static Map<String, Message> types(Message... prototypes) {
    return java.util.Arrays.stream(prototypes)
        .collect(Collectors.toUnmodifiableMap(m -> m.getDescriptorForType().getFullName(), m -> m));
  }
}
