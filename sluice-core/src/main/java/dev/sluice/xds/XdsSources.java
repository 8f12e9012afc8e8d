package dev.sluice.xds;

import dev.sluice.api.config.ConfigException;
import dev.sluice.api.stats.StatsScope;
import dev.sluice.upstream.ClusterManagerImpl;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiConfigSource;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.core.v3.PathConfigSource;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Supplier;

/**
 * The sources of the dynamic resources, from their {@code config_source}s: {@code ads} (and
 * {@code self}, which for resources named by ADS-delivered ones is ADS) is the one ADS stream; an
 * {@code api_config_source} with {@code GRPC} or {@code DELTA_GRPC} is a stream of the type's own
 * discovery service, one per type and source, as Envoy's standalone subscriptions; a
 * {@code path_config_source} or {@code path} is a watched file. Sources are made when first named
 * and started with the rest. Control thread.
 */
final class XdsSources implements AutoCloseable {
  private static final ConfigSource ADS = ConfigSource.newBuilder().setAds(AggregatedConfigSource.getDefaultInstance()).build();

  private final Supplier<AdsClient> ads;
  private final ClusterManagerImpl clusters;
  private final Node node;
  private final ScheduledExecutorService control;
  private final StatsScope stats;
  private final Map<XdsResourceType, Map<ConfigSource, XdsSource>> byType = new EnumMap<>(XdsResourceType.class);
  private final List<XdsChannels.XdsChannel> channels = new ArrayList<>();
  /** Per named type, the names last given to each source. */
  private final Map<XdsResourceType, Map<ConfigSource, Set<String>>> names = new EnumMap<>(XdsResourceType.class);
  private boolean started;

  /** @param ads the ADS client, made on first use (the bootstrap may have no {@code ads_config}) */
  XdsSources(Supplier<AdsClient> ads, ClusterManagerImpl clusters, Node node, ScheduledExecutorService control, StatsScope stats) {
    this.ads = ads;
    this.clusters = clusters;
    this.node = node;
    this.control = control;
    this.stats = stats;
  }

  /**
   * What identifies a source: the config source less what does not change where resources come
   * from ({@code initial_fetch_timeout}, {@code resource_api_version}).
   *
   * @throws ConfigException naming {@code path} when the source kind is not supported
   */
  static ConfigSource key(ConfigSource source, String path) {
    if (source.hasAds() || source.hasSelf()) {
      return ADS;
    }
    if (source.hasApiConfigSource()) {
      ApiConfigSource api = source.getApiConfigSource();
      if (api.getApiType() != ApiConfigSource.ApiType.GRPC && api.getApiType() != ApiConfigSource.ApiType.DELTA_GRPC) {
        throw new ConfigException(path + ".api_config_source.api_type", "only GRPC and DELTA_GRPC are supported, not " + api.getApiType());
      }
      if (api.getGrpcServicesCount() == 0) {
        throw new ConfigException(path + ".api_config_source.grpc_services", "a gRPC service is required");
      }
      return ConfigSource.newBuilder().setApiConfigSource(api).build();
    }
    if (source.hasPathConfigSource()) {
      return ConfigSource.newBuilder().setPathConfigSource(source.getPathConfigSource()).build();
    }
    if (!source.getPath().isEmpty()) {
      return ConfigSource.newBuilder().setPathConfigSource(PathConfigSource.newBuilder().setPath(source.getPath())).build();
    }
    throw new ConfigException(path, "one of ads, self, api_config_source or path_config_source is required");
  }

  static boolean isAds(ConfigSource key) {
    return key.equals(ADS);
  }

  /** The source of {@code type} for config source {@code key} (see {@link #key}), made on first use. */
  XdsSource of(XdsResourceType type, ConfigSource key) {
    Map<ConfigSource, XdsSource> sources = byType.computeIfAbsent(type, t -> new LinkedHashMap<>());
    XdsSource source = sources.get(key);
    if (source == null) {
      source = create(type, key);
      sources.put(key, source);
    }
    return source;
  }

  private XdsSource create(XdsResourceType type, ConfigSource key) {
    if (isAds(key)) {
      return ads.get();
    }
    if (key.hasPathConfigSource()) {
      PathConfigSource p = key.getPathConfigSource();
      return new FileSubscription(Path.of(p.getPath()),
          p.hasWatchedDirectory() ? Path.of(p.getWatchedDirectory().getPath()) : null, control, stats);
    }
    ApiConfigSource api = key.getApiConfigSource();
    XdsChannels.XdsChannel channel = XdsChannels.open(api.getGrpcServices(0), clusters, "api_config_source.grpc_services[0]");
    channels.add(channel);
    AdsClient client = new AdsClient(channel.channel(), AdsClient.Service.of(type), node,
        api.getApiType() == ApiConfigSource.ApiType.DELTA_GRPC ? AdsClient.Protocol.DELTA : AdsClient.Protocol.SOTW,
        api.getSetNodeOnFirstMessageOnly(), control, Backoff.jittered(), Clock.systemUTC(), stats);
    if (api.hasRateLimitSettings()) {
      client.limitRequests(api.getRateLimitSettings());
    }
    return client;
  }

  /** Subscribes to every resource of {@code type} at {@code key}. */
  void subscribeAll(XdsResourceType type, ConfigSource key, ResourceHandler handler) {
    XdsSource source = of(type, key);
    source.subscribe(type, null, handler);
    if (started) {
      source.start();
    }
  }

  /**
   * A named type (RDS, EDS) whose names are split across sources: each source is subscribed to
   * its names (and a source no longer named to none).
   */
  void updateNames(XdsResourceType type, Map<ConfigSource, Set<String>> bySource, ResourceHandler handler) {
    Map<ConfigSource, Set<String>> previous = names.computeIfAbsent(type, t -> new HashMap<>());
    Map<ConfigSource, Set<String>> next = new HashMap<>(bySource);
    previous.keySet().forEach(k -> next.putIfAbsent(k, Set.of()));
    next.forEach((key, n) -> {
      XdsSource source = of(type, key);
      if (!source.subscribed(type)) {
        source.subscribe(type, n, handler);
        if (started) {
          source.start();
        }
      } else {
        source.updateNames(type, n);
      }
    });
    previous.clear();
    previous.putAll(next);
  }

  /** Starts every source made so far; later ones start when made. */
  void start() {
    started = true;
    byType.values().forEach(m -> m.values().forEach(XdsSource::start));
  }

  /** The last accepted version of {@code type} at {@code key}. */
  String acceptedVersion(XdsResourceType type, ConfigSource key) {
    Map<ConfigSource, XdsSource> sources = byType.get(type);
    XdsSource s = sources == null ? null : sources.get(key);
    return s == null ? "" : s.acceptedVersion(type);
  }

  @Override
  public void close() {
    byType.values().forEach(m -> m.values().forEach(XdsSource::close));
    channels.forEach(XdsChannels.XdsChannel::close);
  }
}
