package dev.sluice.xds;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.Durations;
import com.google.rpc.Status;
import dev.sluice.api.stats.Counter;
import dev.sluice.api.stats.Gauge;
import dev.sluice.api.stats.StatsScope;
import dev.sluice.xds.ResourceHandler.ResourceError;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.core.v3.RateLimitSettings;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.envoyproxy.envoy.service.cluster.v3.ClusterDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.endpoint.v3.EndpointDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.listener.v3.ListenerDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.route.v3.RouteDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.route.v3.ScopedRoutesDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.route.v3.VirtualHostDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.secret.v3.SecretDiscoveryServiceGrpc;
import io.grpc.Channel;
import io.grpc.stub.StreamObserver;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One aggregated discovery stream ({@code StreamAggregatedResources} or
 * {@code DeltaAggregatedResources}) carrying every subscribed resource type, as Envoy's GrpcMux.
 * Everything runs on the control thread: gRPC delivers the stream's callbacks there.
 *
 * <p>The protocol as Envoy speaks it. State of the world: a request carries the last accepted
 * {@code version_info} and the last {@code response_nonce}; an ACK repeats the response's version
 * and nonce; a NACK carries the previous accepted version, the response's nonce and an
 * {@code error_detail} naming every rejected resource. Delta: the first request of a type on a
 * stream lists the subscribed names and, after a reconnect, the {@code initial_resource_versions}
 * held; later requests carry subscribe/unsubscribe differences; ACK/NACK carry the response nonce.
 * When the stream fails it is re-opened after a jittered exponential back-off and every type is
 * subscribed again with the versions and names held. A named type with no names yet is not
 * requested at all: an empty first request would be read as a wildcard. The handlers get a delta
 * response's {@code system_version_info} as its version ({@code /config_dump}'s version and the
 * {@code version} gauges). A {@code Resource}'s {@code aliases} go to the handler for VHDS (the
 * virtual host answering a request for a host alias), where a {@code Resource} without a body but
 * with aliases is the server's answer that it has no such virtual host (handed over as removed);
 * other types ignore aliases. VHDS resources are named by their {@code Resource} wrapper
 * ({@code <route configuration name>/<name>}), not by the virtual host's own name.
 */
public final class AdsClient implements XdsSource {
  private static final Logger log = LoggerFactory.getLogger("sluice.xds");
  /** Envoy fills a NACK's {@code error_detail.code} with gRPC INTERNAL. */
  private static final int NACK_CODE = io.grpc.Status.Code.INTERNAL.value();

  /** {@code ads_config.api_type}: GRPC (state of the world) or DELTA_GRPC. */
  public enum Protocol { SOTW, DELTA }

  /**
   * The gRPC service the stream uses: ADS, or the discovery service of one type that a standalone
   * {@code api_config_source} ({@code GRPC} / {@code DELTA_GRPC}) names: {@code StreamListeners},
   * {@code StreamClusters}, {@code StreamRoutes}, {@code StreamEndpoints}, or {@code StreamSecrets}
   * (Istio's pilot-agent serves that one on its {@code sds-grpc} pipe), and their delta forms;
   * {@code DeltaVirtualHosts} (VHDS, delta only).
   */
  public enum Service {
    AGGREGATED, LISTENERS, CLUSTERS, SCOPED_ROUTES, ROUTES, VIRTUAL_HOSTS, ENDPOINTS, SECRETS;

    /** The standalone service of {@code type}. */
    static Service of(XdsResourceType type) {
      return switch (type) {
        case LISTENER -> LISTENERS;
        case CLUSTER -> CLUSTERS;
        case SCOPED_ROUTE -> SCOPED_ROUTES;
        case ROUTE -> ROUTES;
        case VIRTUAL_HOST -> VIRTUAL_HOSTS;
        case ENDPOINT -> ENDPOINTS;
        case SECRET -> SECRETS;
      };
    }
  }

  private final Channel channel;
  private final Node node;
  private final Protocol protocol;
  private final Service service;
  private final boolean nodeOnFirstMessageOnly;
  private final ScheduledExecutorService control;
  private final Backoff backoff;
  private final Clock clock;
  private final StatsScope stats;
  private final Gauge connectedState;
  private final Counter rateLimitEnforced;
  private final Gauge pendingRequests;
  /** {@code rate_limit_settings}, when set: requests beyond it wait in {@link #rateLimited}. */
  private @Nullable TokenBucket requestLimit;
  private final Set<XdsResourceType> rateLimited = new LinkedHashSet<>();
  private @Nullable ScheduledFuture<?> drain;
  /** In Envoy's order (CDS, EDS, LDS, SRDS, RDS, SDS): a new stream's requests go out in it. */
  private final Map<XdsResourceType, TypeState> types = new EnumMap<>(XdsResourceType.class);
  private @Nullable Stream stream;
  private @Nullable ScheduledFuture<?> retry;
  private boolean started;
  private boolean closed;
  /** Set while a handler runs: requests it triggers for other types wait for this response's ACK. */
  private boolean handling;
  private final Set<XdsResourceType> deferred = new LinkedHashSet<>();

  /**
   * @param stats the root scope: {@code control_plane.connected_state} and the per-type
   *     subscription stats are created under it
   */
  public AdsClient(Channel channel, Node node, Protocol protocol, boolean nodeOnFirstMessageOnly,
      ScheduledExecutorService control, Backoff backoff, Clock clock, StatsScope stats) {
    this(channel, Service.AGGREGATED, node, protocol, nodeOnFirstMessageOnly, control, backoff, clock, stats);
  }

  /** A client of {@code service}; see the other constructor. */
  public AdsClient(Channel channel, Service service, Node node, Protocol protocol, boolean nodeOnFirstMessageOnly,
      ScheduledExecutorService control, Backoff backoff, Clock clock, StatsScope stats) {
    this.channel = channel;
    this.service = service;
    this.node = node;
    this.protocol = protocol;
    this.nodeOnFirstMessageOnly = nodeOnFirstMessageOnly;
    this.control = control;
    this.backoff = backoff;
    this.clock = clock;
    this.stats = stats;
    this.connectedState = stats.gauge("control_plane.connected_state");
    this.rateLimitEnforced = stats.counter("control_plane.rate_limit_enforced");
    this.pendingRequests = stats.gauge("control_plane.pending_requests");
  }

  /**
   * Applies {@code api_config_source.rate_limit_settings} (before {@link #start}): a subscription
   * request beyond the budget waits, counted by {@code control_plane.rate_limit_enforced}, and
   * {@code control_plane.pending_requests} shows how many types are waiting; each goes out (with
   * the state held then) when a token is back. ACKs and NACKs are never held back.
   */
  public void limitRequests(RateLimitSettings settings) {
    this.requestLimit = new TokenBucket(settings, clock);
  }

  /**
   * Subscribes to {@code type} (control thread): every name when {@code names} is null (wildcard),
   * else those names. Sends the request at once when the stream is open.
   */
  @Override
  public void subscribe(XdsResourceType type, @Nullable Set<String> names, ResourceHandler handler) {
    if (types.containsKey(type)) {
      throw new IllegalStateException("already subscribed to " + type);
    }
    String prefix = type.statsPrefix();
    TypeState state = new TypeState(type, handler, names == null, names == null ? Set.of() : names,
        prefix == null ? null : new SubscriptionStats(stats.scope(prefix)));
    types.put(type, state);
    sendWhenPossible(state);
  }

  /** Changes the names of a named subscription (control thread); a request goes out if they differ. */
  @Override
  public void updateNames(XdsResourceType type, Set<String> names) {
    TypeState state = types.get(type);
    if (state == null || state.wildcard || state.names.equals(names)) {
      return;
    }
    state.names = Set.copyOf(names);
    sendWhenPossible(state);
  }

  @Override
  public boolean subscribed(XdsResourceType type) {
    return types.containsKey(type);
  }

  /** Opens the stream (control thread). */
  @Override
  public void start() {
    if (started || closed) {
      return;
    }
    started = true;
    openStream();
  }

  /** The last accepted version of {@code type} (empty before the first), for {@code /config_dump}. */
  @Override
  public String acceptedVersion(XdsResourceType type) {
    TypeState state = types.get(type);
    return state == null ? "" : state.acceptedVersion;
  }

  /** {@code api_type}: state of the world or delta. */
  public Protocol protocol() {
    return protocol;
  }

  /** True while a stream is open and has delivered a response. */
  public boolean connected() {
    return connectedState.value() == 1;
  }

  /** Ends the stream and stops reconnecting (control thread). */
  @Override
  public void close() {
    closed = true;
    if (retry != null) {
      retry.cancel(false);
    }
    if (drain != null) {
      drain.cancel(false);
    }
    types.values().forEach(t -> t.ttlTimers.values().forEach(f -> f.cancel(false)));
    Stream s = stream;
    stream = null;
    if (s != null) {
      s.cancel();
    }
    connectedState.set(0);
  }

  // ---- the stream ----

  private void openStream() {
    Stream s = new Stream();
    stream = s;
    for (TypeState t : types.values()) {
      t.onNewStream();
    }
    s.open();
    for (TypeState t : types.values()) {
      send(s, t);
    }
  }

  private void sendWhenPossible(TypeState state) {
    Stream s = stream;
    if (s == null) {
      return;
    }
    if (handling) {
      deferred.add(state.type);
      return;
    }
    send(s, state);
  }

  private void send(Stream s, TypeState t) {
    if (!t.wildcard && t.names.isEmpty() && !t.sentOnStream && !t.type.requestedWithoutNames()) {
      // As Envoy: a named type (RDS, EDS, SDS) is not requested on a stream until something needs
      // a name; a first request with no names is a legacy wildcard, which asks for every resource.
      return;
    }
    TokenBucket limit = requestLimit;
    if (limit != null && (rateLimited.contains(t.type) || !limit.tryTake())) {
      if (rateLimited.add(t.type)) {
        rateLimitEnforced.inc();
        pendingRequests.set(rateLimited.size());
      }
      scheduleDrain(limit);
      return;
    }
    boolean withNode = !s.nodeSent || !nodeOnFirstMessageOnly;
    if (protocol == Protocol.SOTW) {
      DiscoveryRequest.Builder r = DiscoveryRequest.newBuilder()
          .setTypeUrl(t.type.typeUrl())
          .setVersionInfo(t.acceptedVersion)
          .setResponseNonce(t.nonce)
          .addAllResourceNames(t.wildcard ? List.of() : sorted(t.names));
      if (withNode) {
        r.setNode(node);
      }
      s.sendSotw(r.build());
    } else {
      DeltaDiscoveryRequest.Builder r = DeltaDiscoveryRequest.newBuilder().setTypeUrl(t.type.typeUrl());
      if (!t.sentOnStream) {
        // A new stream: everything subscribed, plus the versions held so the server sends only changes.
        r.putAllInitialResourceVersions(t.resourceVersions);
        if (!t.wildcard) {
          r.addAllResourceNamesSubscribe(sorted(t.names));
        }
      } else if (!t.wildcard) {
        r.addAllResourceNamesSubscribe(sorted(difference(t.names, t.namesOnStream)));
        r.addAllResourceNamesUnsubscribe(sorted(difference(t.namesOnStream, t.names)));
      }
      t.namesOnStream = t.names;
      if (withNode) {
        r.setNode(node);
      }
      s.sendDelta(r.build());
    }
    t.sentOnStream = true;
    s.nodeSent = true;
  }

  private void onSotwResponse(Stream s, DiscoveryResponse response) {
    onFirstResponse(s);
    TypeState t = types.get(XdsResourceType.ofTypeUrl(response.getTypeUrl()));
    if (t == null) {
      // Nothing here asked for this type: refuse it so the server sees the mistake.
      s.sendSotw(DiscoveryRequest.newBuilder().setTypeUrl(response.getTypeUrl())
          .setResponseNonce(response.getNonce())
          .setErrorDetail(nack("unknown or unsubscribed type URL " + response.getTypeUrl())).build());
      return;
    }
    t.nonce = response.getNonce();
    List<ResourceError> errors = new ArrayList<>();
    Map<String, Message> decoded = new LinkedHashMap<>();
    Map<String, @Nullable Duration> ttls = new HashMap<>();
    for (int i = 0; i < response.getResourcesCount(); i++) {
      decode(t.type, response.getResources(i), i, decoded, errors, null, ttls);
    }
    Set<String> removed = new HashSet<>();
    if (t.type.fullStateRemovals()) {
      removed.addAll(t.known);
      removed.removeAll(decoded.keySet());
      // A heartbeat (a Resource wrapper without its body) keeps the resource held.
      removed.removeAll(ttls.keySet());
      // A resource that failed to decode keeps its last good version rather than being removed.
      errors.forEach(e -> removed.remove(e.name()));
      t.known = new HashSet<>(decoded.keySet());
      t.known.addAll(ttls.keySet());
      errors.forEach(e -> t.known.add(e.name()));
    }
    List<ResourceError> rejected = handle(t, new ResourceHandler.Update(response.getVersionInfo(), decoded, removed), errors);
    updateTtls(t, ttls, removed, rejected);
    DiscoveryRequest.Builder reply = DiscoveryRequest.newBuilder()
        .setTypeUrl(t.type.typeUrl())
        .setResponseNonce(response.getNonce())
        .addAllResourceNames(t.wildcard ? List.of() : sorted(t.names));
    if (rejected.isEmpty()) {
      t.acceptedVersion = response.getVersionInfo();
      reply.setVersionInfo(t.acceptedVersion);
    } else {
      reply.setVersionInfo(t.acceptedVersion).setErrorDetail(nack(message(t.type, rejected)));
    }
    if (!nodeOnFirstMessageOnly) {
      reply.setNode(node);
    }
    s.sendSotw(reply.build());
    flushDeferred(s);
  }

  private void onDeltaResponse(Stream s, DeltaDiscoveryResponse response) {
    onFirstResponse(s);
    TypeState t = types.get(XdsResourceType.ofTypeUrl(response.getTypeUrl()));
    if (t == null) {
      s.sendDelta(DeltaDiscoveryRequest.newBuilder().setTypeUrl(response.getTypeUrl())
          .setResponseNonce(response.getNonce())
          .setErrorDetail(nack("unknown or unsubscribed type URL " + response.getTypeUrl())).build());
      return;
    }
    List<ResourceError> errors = new ArrayList<>();
    Map<String, Message> decoded = new LinkedHashMap<>();
    Map<String, String> versions = new HashMap<>();
    Map<String, @Nullable Duration> ttls = new HashMap<>();
    for (int i = 0; i < response.getResourcesCount(); i++) {
      decode(t.type, Any.pack(response.getResources(i)), i, decoded, errors, versions, ttls);
    }
    Set<String> removed = new HashSet<>(response.getRemovedResourcesList());
    Map<String, List<String>> aliases = new HashMap<>();
    if (t.type == XdsResourceType.VIRTUAL_HOST) {
      // VHDS: a resource may answer for other names (the host a request asked for); one without a
      // body but with aliases says the server has no virtual host for them.
      for (Resource r : response.getResourcesList()) {
        if (r.getAliasesCount() > 0 && !r.getName().isEmpty()) {
          aliases.put(r.getName(), List.copyOf(r.getAliasesList()));
          if (!r.hasResource()) {
            removed.add(r.getName());
            ttls.remove(r.getName());
          }
        }
      }
    }
    List<ResourceError> rejected = handle(t,
        new ResourceHandler.Update(response.getSystemVersionInfo(), decoded, removed, aliases), errors);
    updateTtls(t, ttls, removed, rejected);
    Set<String> rejectedNames = rejected.stream().map(ResourceError::name).collect(Collectors.toSet());
    versions.forEach((name, version) -> {
      if (!rejectedNames.contains(name)) {
        t.resourceVersions.put(name, version);
      }
    });
    removed.forEach(t.resourceVersions::remove);
    DeltaDiscoveryRequest.Builder reply = DeltaDiscoveryRequest.newBuilder()
        .setTypeUrl(t.type.typeUrl()).setResponseNonce(response.getNonce());
    if (rejected.isEmpty()) {
      t.acceptedVersion = response.getSystemVersionInfo();
    } else {
      reply.setErrorDetail(nack(message(t.type, rejected)));
    }
    if (!nodeOnFirstMessageOnly) {
      reply.setNode(node);
    }
    s.sendDelta(reply.build());
    flushDeferred(s);
  }

  /**
   * Decodes one resource (bare or in a {@code Resource} wrapper) into {@code out}, or records why
   * not. A wrapper's {@code ttl} goes into {@code ttls} (null: a body without one, which ends any
   * TTL); a wrapper without a body is a TTL heartbeat and goes into {@code ttls} alone.
   */
  static void decode(XdsResourceType type, Any any, int index, Map<String, Message> out,
      List<ResourceError> errors, @Nullable Map<String, String> versions, Map<String, @Nullable Duration> ttls) {
    String fallbackName = "resources[" + index + "]";
    try {
      String version = "";
      String wrapperName = "";
      @Nullable Duration ttl = null;
      if (any.getTypeUrl().equals(XdsResourceType.RESOURCE_WRAPPER)) {
        Resource wrapper = any.unpack(Resource.class);
        wrapperName = wrapper.getName();
        if (!wrapperName.isEmpty()) {
          fallbackName = wrapperName;
        }
        version = wrapper.getVersion();
        ttl = wrapper.hasTtl() ? Duration.ofMillis(Durations.toMillis(wrapper.getTtl())) : null;
        if (!wrapper.hasResource()) {
          if (!wrapper.getName().isEmpty()) {
            ttls.put(wrapper.getName(), ttl);
          }
          return;
        }
        any = wrapper.getResource();
      }
      if (!any.getTypeUrl().equals(type.typeUrl())) {
        errors.add(new ResourceError(fallbackName, "type URL " + any.getTypeUrl() + " in a response for " + type.typeUrl()));
        return;
      }
      Message m = any.unpack(type.messageClass());
      // A VHDS resource goes by its wrapper's name (<route configuration>/<name>).
      String name = type == XdsResourceType.VIRTUAL_HOST && !wrapperName.isEmpty() ? wrapperName : type.nameOf(m);
      if (out.containsKey(name)) {
        errors.add(new ResourceError(name, "duplicate resource name in one response"));
        return;
      }
      out.put(name, m);
      ttls.put(name, ttl);
      if (versions != null) {
        versions.put(name, version);
      }
    } catch (InvalidProtocolBufferException e) {
      errors.add(new ResourceError(fallbackName, "cannot decode: " + e.getMessage()));
    }
  }

  /**
   * Resource TTL ({@code Resource.ttl}), as Envoy: each accepted resource sent with a TTL, or
   * heartbeat (the wrapper without a body) for one held, (re)starts its timer; one sent without a
   * TTL, or removed, stops it. When a timer runs out the resource is dropped as if the control
   * plane had removed it; an endpoint assignment is replaced by an empty one, so its clusters lose
   * their hosts rather than keep ones nobody vouches for.
   */
  private void updateTtls(TypeState t, Map<String, @Nullable Duration> ttls, Set<String> removed,
      List<ResourceError> rejected) {
    Set<String> rejectedNames = rejected.stream().map(ResourceError::name).collect(Collectors.toSet());
    ttls.forEach((name, ttl) -> {
      if (rejectedNames.contains(name)) {
        return;
      }
      ScheduledFuture<?> old = t.ttlTimers.remove(name);
      if (old != null) {
        old.cancel(false);
      }
      if (ttl != null && !ttl.isZero()) {
        t.ttlTimers.put(name, control.schedule(() -> expire(t, name), ttl.toMillis(), TimeUnit.MILLISECONDS));
      }
    });
    for (String name : removed) {
      ScheduledFuture<?> old = t.ttlTimers.remove(name);
      if (old != null) {
        old.cancel(false);
      }
    }
  }

  private void expire(TypeState t, String name) {
    if (t.ttlTimers.remove(name) == null || closed) {
      return;
    }
    log.info("{} {}: TTL expired without a refresh; dropping it", t.type, name);
    t.known.remove(name);
    t.resourceVersions.remove(name);
    ResourceHandler.Update update = t.type == XdsResourceType.ENDPOINT
        ? new ResourceHandler.Update(t.acceptedVersion,
            Map.of(name, ClusterLoadAssignment.newBuilder().setClusterName(name).build()), Set.of())
        : new ResourceHandler.Update(t.acceptedVersion, Map.of(), Set.of(name));
    handling = true;
    try {
      t.handler.apply(update);
    } catch (RuntimeException e) {
      log.error("expiring {} {} failed", t.type, name, e);
    } finally {
      handling = false;
    }
    Stream s = stream;
    if (s != null) {
      flushDeferred(s);
    }
  }

  private List<ResourceError> handle(TypeState t, ResourceHandler.Update update, List<ResourceError> decodeErrors) {
    SubscriptionStats st = t.stats;
    if (st != null) {
      st.updateAttempt.inc();
      if (update.resources().isEmpty() && update.removed().isEmpty()) {
        st.updateEmpty.inc();
      }
    }
    List<ResourceError> rejected = new ArrayList<>(decodeErrors);
    handling = true;
    try {
      rejected.addAll(t.handler.apply(update));
    } catch (RuntimeException e) {
      // A bug in an applier must not kill the stream; the response is refused as a whole.
      log.error("applying {} failed", t.type, e);
      rejected.add(new ResourceError("*", "internal error: " + e));
    } finally {
      handling = false;
    }
    if (st != null) {
      if (rejected.isEmpty()) {
        st.accepted(update.version(), clock.millis());
      } else {
        st.updateRejected.inc();
      }
    }
    if (!rejected.isEmpty()) {
      log.warn("{} update {} rejected: {}", t.type, update.version(), message(t.type, rejected));
    }
    return rejected;
  }

  private void scheduleDrain(TokenBucket limit) {
    if (drain == null || drain.isDone()) {
      drain = control.schedule(() -> drainRateLimited(limit), Math.max(1, limit.millisUntilToken()), TimeUnit.MILLISECONDS);
    }
  }

  /** Sends the requests the rate limit held, oldest first, as tokens allow. */
  private void drainRateLimited(TokenBucket limit) {
    drain = null;
    while (!rateLimited.isEmpty() && !closed && limit.millisUntilToken() == 0) {
      XdsResourceType type = rateLimited.iterator().next();
      rateLimited.remove(type);
      Stream s = stream;
      if (s != null) {
        send(s, types.get(type));
      }
    }
    pendingRequests.set(rateLimited.size());
    if (!rateLimited.isEmpty() && !closed) {
      scheduleDrain(limit);
    }
  }

  private void flushDeferred(Stream s) {
    List<XdsResourceType> pending = List.copyOf(deferred);
    deferred.clear();
    for (XdsResourceType type : pending) {
      if (stream == s) {
        send(s, types.get(type));
      }
    }
  }

  private void onFirstResponse(Stream s) {
    if (!s.responded) {
      s.responded = true;
      backoff.reset();
      connectedState.set(1);
    }
  }

  private void onStreamEnd(Stream s, @Nullable Throwable error) {
    if (stream != s) {
      return;
    }
    stream = null;
    connectedState.set(0);
    for (TypeState t : types.values()) {
      if (t.stats != null) {
        t.stats.updateFailure.inc();
      }
    }
    if (closed) {
      return;
    }
    long delay = backoff.next().toMillis();
    log.warn("xDS stream closed ({}); reconnecting in {} ms", error == null ? "by the server" : error.getMessage(), delay);
    retry = control.schedule(() -> {
      if (!closed && stream == null) {
        openStream();
      }
    }, delay, TimeUnit.MILLISECONDS);
  }

  private static Status nack(String message) {
    return Status.newBuilder().setCode(NACK_CODE).setMessage(message).build();
  }

  /** Envoy's wording: {@code Error adding/updating cluster(s) a: why, b: why}. */
  static String message(XdsResourceType type, List<ResourceError> errors) {
    String what = switch (type) {
      case CLUSTER -> "cluster(s) ";
      case LISTENER -> "listener(s) ";
      case SCOPED_ROUTE -> "scoped route configuration(s) ";
      case ROUTE -> "route configuration(s) ";
      case VIRTUAL_HOST -> "virtual host(s) ";
      case ENDPOINT -> "cluster load assignment(s) ";
      case SECRET -> "secret(s) ";
    };
    return "Error adding/updating " + what + errors.stream().map(ResourceError::toString).collect(Collectors.joining(", "));
  }

  private static List<String> sorted(Set<String> names) {
    return names.stream().sorted().toList();
  }

  private static Set<String> difference(Set<String> a, Set<String> b) {
    Set<String> d = new HashSet<>(a);
    d.removeAll(b);
    return d;
  }

  /** What the client holds for one type, across streams. */
  private static final class TypeState {
    final XdsResourceType type;
    final ResourceHandler handler;
    final boolean wildcard;
    final @Nullable SubscriptionStats stats;
    Set<String> names;
    String acceptedVersion = "";
    /** The last nonce received on the current stream (empty on a new stream). */
    String nonce = "";
    /** State of the world: names of the last response, for the removal of Listeners and Clusters. */
    Set<String> known = new HashSet<>();
    /** Delta: the version of each resource held, sent back as initial_resource_versions. */
    final Map<String, String> resourceVersions = new HashMap<>();
    /** Resource TTL timers by resource name. */
    final Map<String, ScheduledFuture<?>> ttlTimers = new HashMap<>();
    /** Delta: the names subscribed so far on the current stream. */
    Set<String> namesOnStream = Set.of();
    boolean sentOnStream;

    TypeState(XdsResourceType type, ResourceHandler handler, boolean wildcard, Set<String> names,
        @Nullable SubscriptionStats stats) {
      this.type = type;
      this.handler = handler;
      this.wildcard = wildcard;
      this.names = Set.copyOf(names);
      this.stats = stats;
    }

    void onNewStream() {
      nonce = "";
      namesOnStream = Set.of();
      sentOnStream = false;
    }
  }

  /** One gRPC stream; callbacks from a stream that has been replaced are ignored. */
  private final class Stream {
    private @Nullable StreamObserver<DiscoveryRequest> sotw;
    private @Nullable StreamObserver<DeltaDiscoveryRequest> delta;
    boolean nodeSent;
    boolean responded;

    void open() {
      StreamObserver<DiscoveryResponse> onSotw = observer(r -> onSotwResponse(this, r));
      StreamObserver<DeltaDiscoveryResponse> onDelta = observer(r -> onDeltaResponse(this, r));
      boolean sotwStream = protocol == Protocol.SOTW;
      switch (service) {
        case AGGREGATED -> {
          var stub = AggregatedDiscoveryServiceGrpc.newStub(channel).withExecutor(control);
          if (sotwStream) {
            sotw = stub.streamAggregatedResources(onSotw);
          } else {
            delta = stub.deltaAggregatedResources(onDelta);
          }
        }
        case LISTENERS -> {
          var stub = ListenerDiscoveryServiceGrpc.newStub(channel).withExecutor(control);
          if (sotwStream) {
            sotw = stub.streamListeners(onSotw);
          } else {
            delta = stub.deltaListeners(onDelta);
          }
        }
        case CLUSTERS -> {
          var stub = ClusterDiscoveryServiceGrpc.newStub(channel).withExecutor(control);
          if (sotwStream) {
            sotw = stub.streamClusters(onSotw);
          } else {
            delta = stub.deltaClusters(onDelta);
          }
        }
        case SCOPED_ROUTES -> {
          var stub = ScopedRoutesDiscoveryServiceGrpc.newStub(channel).withExecutor(control);
          if (sotwStream) {
            sotw = stub.streamScopedRoutes(onSotw);
          } else {
            delta = stub.deltaScopedRoutes(onDelta);
          }
        }
        case ROUTES -> {
          var stub = RouteDiscoveryServiceGrpc.newStub(channel).withExecutor(control);
          if (sotwStream) {
            sotw = stub.streamRoutes(onSotw);
          } else {
            delta = stub.deltaRoutes(onDelta);
          }
        }
        case VIRTUAL_HOSTS -> {
          // VHDS is delta only: a state-of-the-world source for it is refused where vhds is read.
          delta = VirtualHostDiscoveryServiceGrpc.newStub(channel).withExecutor(control).deltaVirtualHosts(onDelta);
        }
        case ENDPOINTS -> {
          var stub = EndpointDiscoveryServiceGrpc.newStub(channel).withExecutor(control);
          if (sotwStream) {
            sotw = stub.streamEndpoints(onSotw);
          } else {
            delta = stub.deltaEndpoints(onDelta);
          }
        }
        case SECRETS -> {
          var stub = SecretDiscoveryServiceGrpc.newStub(channel).withExecutor(control);
          if (sotwStream) {
            sotw = stub.streamSecrets(onSotw);
          } else {
            delta = stub.deltaSecrets(onDelta);
          }
        }
      }
    }

    private <T> StreamObserver<T> observer(Consumer<T> onResponse) {
      return new StreamObserver<>() {
        @Override
        public void onNext(T value) {
          if (stream == Stream.this) {
            onResponse.accept(value);
          }
        }

        @Override
        public void onError(Throwable t) {
          onStreamEnd(Stream.this, t);
        }

        @Override
        public void onCompleted() {
          onStreamEnd(Stream.this, null);
        }
      };
    }

    void sendSotw(DiscoveryRequest r) {
      if (sotw != null) {
        sotw.onNext(r);
      }
    }

    void sendDelta(DeltaDiscoveryRequest r) {
      if (delta != null) {
        delta.onNext(r);
      }
    }

    void cancel() {
      if (sotw != null) {
        sotw.onError(io.grpc.Status.CANCELLED.withDescription("xDS client closed").asRuntimeException());
      }
      if (delta != null) {
        delta.onError(io.grpc.Status.CANCELLED.withDescription("xDS client closed").asRuntimeException());
      }
    }
  }
}
