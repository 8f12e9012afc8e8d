package dev.sluice.xds;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import com.google.protobuf.Timestamp;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.stats.StatsScope;
import dev.sluice.api.upstream.ClusterManager;
import dev.sluice.tls.SecretProvider;
import dev.sluice.tls.StaticSecretProvider;
import dev.sluice.tls.TlsSecrets;
import dev.sluice.xds.ResourceHandler.ResourceError;
import io.envoyproxy.envoy.admin.v3.SecretsConfigDump;
import io.envoyproxy.envoy.config.core.v3.ApiConfigSource;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's one {@link SecretProvider}: the bootstrap's {@code static_resources.secrets}, and
 * every secret a TLS context names with an {@code sds_config}, fetched over SDS as Envoy does.
 * An {@code sds_config} of {@code {ads: {}}} subscribes on the ADS stream; one with an
 * {@code api_config_source} ({@code GRPC} or {@code DELTA_GRPC}) gets a stream of the SDS service
 * ({@code StreamSecrets}) to its gRPC service, e.g. Istio's {@code sds-grpc} cluster (a Unix pipe to
 * pilot-agent), shared by every secret with the same source. Subscriptions are by name (Istio's
 * {@code default} and {@code ROOTCA}).
 *
 * <p>Each secret received is checked with {@link TlsSecrets#validate}; a bad one is NACKed naming it
 * and its last good value stays. Stats per secret: {@code sds.<name>.update_*}, {@code version}.
 * A secret removed by the control plane (delta {@code removed_resources}) is kept, as Envoy's SdsApi
 * ignores removals.
 *
 * <p>Streams open once {@link #start} has given the cluster manager and control thread; until then
 * (and under {@code --mode validate}) subscriptions are only recorded. Everything after start runs on
 * the control thread; {@link #subscribe} may be called from any thread.
 */
public final class SdsSecretProvider implements SecretProvider {
  private static final Logger log = LoggerFactory.getLogger("sluice.xds");

  private final StaticSecretProvider statics;
  private final Node node;
  private final Clock clock;
  private final Map<String, Secret> dynamic = new ConcurrentHashMap<>();
  private final Map<String, DynamicSecret> info = new ConcurrentHashMap<>();
  private final Map<String, List<Runnable>> watchers = new ConcurrentHashMap<>();
  /** Per config source (the {@code sds_config} proto): the names subscribed there, and its client. */
  private final Map<ConfigSource, Source> sources = new LinkedHashMap<>();
  /** Per secret name (control thread). */
  private final Map<String, SubscriptionStats> secretStats = new HashMap<>();
  /**
   * Per dynamic secret name, its first reference's {@code initial_fetch_timeout} in millis; a timer
   * per name starts once the control thread is there (guarded by {@code sources}).
   */
  private final Map<String, Long> fetchTimeouts = new LinkedHashMap<>();
  private final Set<String> fetchTimersStarted = new HashSet<>();
  /** Secrets whose initial fetch timed out before they arrived (Envoy then stops waiting for them). */
  private final Set<String> timedOut = ConcurrentHashMap.newKeySet();
  private @Nullable ClusterManager clusters;
  private @Nullable ScheduledExecutorService control;
  private @Nullable StatsScope stats;
  private @Nullable AdsClient ads;

  /** What {@code /config_dump} shows of an accepted dynamic secret. */
  public record DynamicSecret(String name, String versionInfo, Timestamp lastUpdated, Secret secret) {}

  /** @throws ConfigException naming {@code static_resources.secrets[i]} for an unusable static secret */
  public SdsSecretProvider(List<Secret> staticSecrets, Node node, Clock clock) {
    this.statics = new StaticSecretProvider(staticSecrets);
    this.node = node;
    this.clock = clock;
  }

  /**
   * Opens the streams for the subscriptions recorded so far and for later ones (control thread, once
   * the cluster manager holds the bootstrap clusters).
   */
  public void start(ClusterManager clusters, ScheduledExecutorService control, StatsScope stats) {
    this.clusters = clusters;
    this.control = control;
    this.stats = stats;
    control.execute(() -> {
      synchronized (sources) {
        sources.values().forEach(this::open);
      }
      startFetchTimers();
    });
  }

  /**
   * True once secret {@code name} can be used, or will not be waited for any longer: it is static,
   * it arrived, or its {@code sds_config.initial_fetch_timeout} passed first (counted as
   * {@code sds.<name>.init_fetch_timeout}). A listener or cluster whose TLS contexts name the
   * secret warms until then, as Envoy's.
   */
  public boolean ready(String name) {
    return statics.secret(name) != null || dynamic.containsKey(name) || timedOut.contains(name);
  }

  /** Control thread: a timer for each dynamic secret waited for that has none yet. */
  private void startFetchTimers() {
    ScheduledExecutorService c = control;
    if (c == null) {
      return;
    }
    Map<String, Long> toStart = new LinkedHashMap<>();
    synchronized (sources) {
      fetchTimeouts.forEach((name, ms) -> {
        if (fetchTimersStarted.add(name)) {
          toStart.put(name, ms);
        }
      });
    }
    toStart.forEach((name, ms) -> {
      if (ms > 0 && !dynamic.containsKey(name)) {
        c.schedule(() -> fetchTimedOut(name), ms, TimeUnit.MILLISECONDS);
      }
    });
  }

  private void fetchTimedOut(String name) {
    if (dynamic.containsKey(name) || !timedOut.add(name)) {
      return;
    }
    log.warn("secret {}: not received within initial_fetch_timeout; what waits for it goes on without it", name);
    stats(name).initFetchTimeout.inc();
    for (Runnable w : watchers.getOrDefault(name, List.of())) {
      w.run();
    }
  }

  /** Secrets with {@code sds_config: {ads: {}}} subscribe on this ADS client (control thread). */
  public void useAds(@Nullable AdsClient client) {
    this.ads = client;
    synchronized (sources) {
      sources.values().stream().filter(s -> s.config.hasAds()).forEach(this::open);
    }
  }

  @Override
  public @Nullable Secret secret(String name) {
    Secret s = statics.secret(name);
    return s != null ? s : dynamic.get(name);
  }

  /** The dynamic secrets accepted so far, by name. */
  public Map<String, DynamicSecret> dynamicSecrets() {
    return Map.copyOf(info);
  }

  /**
   * {@code dynamic_active_secrets} for {@code /config_dump}, sorted by name, with private keys and
   * passwords replaced by {@code [redacted]} as Envoy does.
   */
  public void dumpSecrets(SecretsConfigDump.Builder dump, java.util.function.Predicate<String> names) {
    new java.util.TreeMap<>(info).forEach((name, d) -> {
      if (names.test(name)) {
        dump.addDynamicActiveSecrets(SecretsConfigDump.DynamicSecret.newBuilder().setName(name)
            .setVersionInfo(d.versionInfo()).setLastUpdated(d.lastUpdated()).setSecret(Any.pack(redacted(d.secret()))));
      }
    });
  }

  private static Secret redacted(Secret secret) {
    if (!secret.hasTlsCertificate()) {
      return secret;
    }
    DataSource redacted = DataSource.newBuilder().setInlineBytes(ByteString.copyFromUtf8("[redacted]")).build();
    var c = secret.getTlsCertificate().toBuilder();
    if (c.hasPrivateKey()) {
      c.setPrivateKey(redacted);
    }
    if (c.hasPassword()) {
      c.setPassword(redacted);
    }
    if (c.hasPkcs12()) {
      c.setPkcs12(redacted);
    }
    return secret.toBuilder().setTlsCertificate(c).build();
  }

  @Override
  public Subscription subscribe(SdsSecretConfig reference, Runnable onChange) {
    if (!reference.hasSdsConfig()) {
      return statics.subscribe(reference, onChange);
    }
    ConfigSource config = reference.getSdsConfig();
    checkSource(config);
    long fetchTimeoutMs = XdsChannels.initialFetchTimeoutMs(config);
    // Sources differing only in initial_fetch_timeout or api version share a stream; every ADS one is the ADS stream.
    config = config.hasAds() ? ConfigSource.newBuilder().setAds(config.getAds()).build()
        : ConfigSource.newBuilder().setApiConfigSource(config.getApiConfigSource()).build();
    String name = reference.getName();
    watchers.computeIfAbsent(name, n -> new CopyOnWriteArrayList<>()).add(onChange);
    Source source;
    synchronized (sources) {
      source = sources.computeIfAbsent(config, c -> new Source(c));
      source.refs.merge(name, 1, Integer::sum);
      fetchTimeouts.putIfAbsent(name, fetchTimeoutMs);
    }
    runOnControl(() -> {
      source.namesChanged();
      startFetchTimers();
    });
    return () -> {
      List<Runnable> w = watchers.get(name);
      if (w != null) {
        w.remove(onChange);
      }
      synchronized (sources) {
        source.refs.computeIfPresent(name, (n, count) -> count == 1 ? null : count - 1);
      }
      runOnControl(source::namesChanged);
    };
  }

  private void runOnControl(Runnable r) {
    ScheduledExecutorService c = control;
    if (c != null && !c.isShutdown()) {
      c.execute(r);
    }
  }

  /** Envoy's SDS sources: ADS, or a gRPC {@code api_config_source}. */
  private static void checkSource(ConfigSource config) {
    if (config.hasAds()) {
      return;
    }
    if (!config.hasApiConfigSource()) {
      throw new ConfigException("sds_config", "only ads or an api_config_source (GRPC, DELTA_GRPC) is supported for SDS");
    }
    ApiConfigSource api = config.getApiConfigSource();
    if (api.getApiType() != ApiConfigSource.ApiType.GRPC && api.getApiType() != ApiConfigSource.ApiType.DELTA_GRPC) {
      throw new ConfigException("sds_config.api_config_source.api_type", "SDS needs GRPC or DELTA_GRPC, not " + api.getApiType());
    }
    if (api.getGrpcServicesCount() == 0) {
      throw new ConfigException("sds_config.api_config_source.grpc_services", "a gRPC service is required");
    }
  }

  /** Creates the stream (or the ADS subscription) of a source once everything it needs is there. */
  private void open(Source source) {
    if (source.client != null || control == null || clusters == null || stats == null) {
      return;
    }
    if (source.config.hasAds()) {
      if (ads == null) {
        return;
      }
      source.client = ads;
    } else {
      ApiConfigSource api = source.config.getApiConfigSource();
      try {
        source.channel = XdsChannels.open(api.getGrpcServices(0), clusters, "sds_config.api_config_source.grpc_services[0]");
      } catch (ConfigException e) {
        log.error("SDS source cannot be used, its secrets stay unavailable: {}", e.getMessage());
        return;
      }
      AdsClient.Protocol protocol = api.getApiType() == ApiConfigSource.ApiType.DELTA_GRPC
          ? AdsClient.Protocol.DELTA : AdsClient.Protocol.SOTW;
      // Its own connected_state, so the ADS stream's gauge is not overwritten by this one's.
      source.client = new AdsClient(source.channel.channel(), AdsClient.Service.SECRETS, node, protocol,
          api.getSetNodeOnFirstMessageOnly(), control, Backoff.jittered(), clock, stats.scope("sds."));
      if (api.hasRateLimitSettings()) {
        source.client.limitRequests(api.getRateLimitSettings());
      }
      source.client.start();
    }
    source.client.subscribe(XdsResourceType.SECRET, source.names(), this::apply);
    source.subscribedNames = source.names();
  }

  /** One SDS response (control thread): validated secrets are stored and their contexts rebuilt. */
  private List<ResourceError> apply(ResourceHandler.Update update) {
    List<ResourceError> errors = new ArrayList<>();
    for (Map.Entry<String, Message> e : update.resources().entrySet()) {
      String name = e.getKey();
      Secret secret = (Secret) e.getValue();
      SubscriptionStats st = stats(name);
      st.updateAttempt.inc();
      try {
        TlsSecrets.validate(secret, "secret '" + name + "'");
      } catch (ConfigException ex) {
        st.updateRejected.inc();
        errors.add(new ResourceError(name, ex.getMessage()));
        continue;
      }
      long now = clock.millis();
      st.accepted(update.version(), now);
      if (secret.equals(dynamic.get(name))) {
        continue;
      }
      dynamic.put(name, secret);
      info.put(name, new DynamicSecret(name, update.version(), ResourceRecord.timestamp(now), secret));
      for (Runnable w : watchers.getOrDefault(name, List.of())) {
        w.run();
      }
    }
    return errors;
  }

  private SubscriptionStats stats(String name) {
    StatsScope root = stats;
    if (root == null) {
      throw new IllegalStateException("SDS update before start");
    }
    return secretStats.computeIfAbsent(name, n -> new SubscriptionStats(root.scope("sds." + n + ".")));
  }

  /** Ends the SDS streams this provider opened (the ADS one belongs to the dynamic resources). */
  public void close() {
    synchronized (sources) {
      for (Source s : sources.values()) {
        if (s.client != null && s.client != ads) {
          s.client.close();
        }
        if (s.channel != null) {
          s.channel.close();
        }
      }
    }
  }

  /** One {@code sds_config}: the names referenced through it and the client that fetches them. */
  private final class Source {
    final ConfigSource config;
    /** Secret name to the number of contexts that refer to it (guarded by {@code sources}). */
    final Map<String, Integer> refs = new HashMap<>();
    @Nullable AdsClient client;
    XdsChannels.@Nullable XdsChannel channel;
    Set<String> subscribedNames = Set.of();

    Source(ConfigSource config) {
      this.config = config;
    }

    Set<String> names() {
      synchronized (sources) {
        return new TreeSet<>(refs.keySet());
      }
    }

    /** Control thread: opens the stream or follows the names referenced. */
    void namesChanged() {
      if (client == null) {
        open(this);
        return;
      }
      Set<String> now = names();
      if (!now.equals(subscribedNames)) {
        subscribedNames = now;
        client.updateNames(XdsResourceType.SECRET, now);
      }
    }
  }
}
