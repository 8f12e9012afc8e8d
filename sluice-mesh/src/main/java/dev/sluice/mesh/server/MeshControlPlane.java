package dev.sluice.mesh.server;

import dev.sluice.mesh.model.MeshResource;
import dev.sluice.mesh.model.MeshState;
import dev.sluice.mesh.model.MeshTranslator;
import dev.sluice.mesh.model.ProxyNode;
import dev.sluice.mesh.model.ServiceRegistry;
import dev.sluice.mesh.model.ValidationMessage;
import dev.sluice.mesh.model.XdsResources;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.controlplane.server.DefaultExecutorGroup;
import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.envoyproxy.controlplane.server.serializer.DefaultProtoResourcesSerializer;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control plane's live state: the Istio resources in force over a fixed registry, the proxies
 * connected over ADS, and each proxy's translated configuration in a per-node java-control-plane
 * snapshot. Every accepted change (apply or delete that changes something and validates without
 * an error) raises the version by one and pushes the new translation to every connected proxy; a
 * change whose validation reports an error changes and pushes nothing.
 *
 * <p>A proxy's mode comes from its node metadata {@value #MODE_METADATA} ({@code EXPLICIT}, the
 * default, or {@code TRANSPARENT}). Changes and connections are serialised on this object.
 */
public final class MeshControlPlane {
  /** Node metadata field saying how the workload's traffic reaches its proxy. */
  public static final String MODE_METADATA = "SLUICE_MESH_MODE";

  private static final Logger log = LoggerFactory.getLogger("sluice.mesh");
  /** istioctl proxy-status's columns, in the order xDS applies them. */
  private static final Map<String, String> TYPES = typeNames();

  private final MeshTranslator translator;
  private final SimpleCache<String> cache = new SimpleCache<>(Node::getId);
  private final AdsStreams streams = new AdsStreams(new AdsStreams.Listener() {
    @Override
    public void connected(Node node) {
      MeshControlPlane.this.connected(node);
    }

    @Override
    public void disconnected(String nodeId) {
      MeshControlPlane.this.disconnected(nodeId);
    }
  });
  private final Map<String, ProxyNode> proxies = new ConcurrentHashMap<>();
  private final Map<String, XdsResources> configs = new ConcurrentHashMap<>();
  private volatile MeshState state;

  public MeshControlPlane(MeshTranslator translator, ServiceRegistry registry) {
    this.translator = translator;
    this.state = new MeshState(0, List.of(), registry);
  }

  private static Map<String, String> typeNames() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put(Resources.V3.CLUSTER_TYPE_URL, "CDS");
    m.put(Resources.V3.LISTENER_TYPE_URL, "LDS");
    m.put(Resources.V3.ENDPOINT_TYPE_URL, "EDS");
    m.put(Resources.V3.ROUTE_TYPE_URL, "RDS");
    return m;
  }

  /** The ADS service (SotW and Delta) over this state, for a gRPC server. */
  public V3DiscoveryServer discoveryServer() {
    // An EDS request naming a cluster this version no longer has gets an empty assignment rather
    // than holding every other EDS answer back until the proxy drops the name.
    return new V3DiscoveryServer(List.of(streams), new MeshConfigWatcher(cache, streams),
        new DefaultExecutorGroup(), new DefaultProtoResourcesSerializer(), () -> true);
  }

  public MeshState state() {
    return state;
  }

  /** Adds or replaces resources by {@link MeshResource#key()}. */
  public synchronized ChangeResult apply(List<MeshResource> resources) {
    Map<String, MeshResource> next = byKey();
    List<String> changes = new ArrayList<>();
    boolean changed = false;
    for (MeshResource r : resources) {
      MeshResource previous = next.put(r.key(), r);
      String what = previous == null ? "created" : sameContent(previous, r) ? "unchanged" : "configured";
      changed |= !what.equals("unchanged");
      changes.add(r.key() + " " + what);
    }
    return changed ? commit(next, changes) : new ChangeResult(true, state.version(), changes, List.of());
  }

  /** Removes resources by {@link MeshResource#key()}; a key not present is reported, not an error. */
  public synchronized ChangeResult delete(List<MeshResource> resources) {
    Map<String, MeshResource> next = byKey();
    List<String> changes = new ArrayList<>();
    boolean changed = false;
    for (MeshResource r : resources) {
      boolean removed = next.remove(r.key()) != null;
      changed |= removed;
      changes.add(r.key() + (removed ? " deleted" : " not found"));
    }
    return changed ? commit(next, changes) : new ChangeResult(true, state.version(), changes, List.of());
  }

  private Map<String, MeshResource> byKey() {
    Map<String, MeshResource> m = new LinkedHashMap<>();
    state.resources().forEach(r -> m.put(r.key(), r));
    return m;
  }

  private static boolean sameContent(MeshResource a, MeshResource b) {
    return a.apiVersion().equals(b.apiVersion()) && a.labels().equals(b.labels()) && a.spec().equals(b.spec());
  }

  private ChangeResult commit(Map<String, MeshResource> resources, List<String> changes) {
    MeshState candidate = new MeshState(state.version() + 1, List.copyOf(resources.values()), state.registry());
    List<ValidationMessage> messages = translator.validate(candidate);
    if (messages.stream().anyMatch(m -> m.level() == ValidationMessage.Level.ERROR)) {
      return new ChangeResult(false, state.version(), List.of(), messages);
    }
    state = candidate;
    long start = System.nanoTime();
    proxies.values().forEach(this::push);
    log.info("version {}: {}; pushed to {} proxies in {} ms", candidate.version(), String.join(", ", changes),
        proxies.size(), (System.nanoTime() - start) / 1_000_000);
    return new ChangeResult(true, candidate.version(), changes, messages);
  }

  private void push(ProxyNode proxy) {
    MeshState s = state;
    XdsResources x;
    try {
      x = translator.translate(s, proxy);
    } catch (RuntimeException e) {
      // One proxy's failure must not stop the others: it keeps its last configuration.
      log.error("version {}: translating for {} failed; it keeps its previous configuration", s.version(), proxy.id(), e);
      return;
    }
    configs.put(proxy.id(), x);
    cache.setSnapshot(proxy.id(), Snapshot.create(x.clusters(), x.endpoints(), x.listeners(), x.routes(),
        List.of(), Long.toString(s.version())));
  }

  private synchronized void connected(Node node) {
    ProxyNode proxy = ProxyNode.parse(node.getId(), mode(node));
    if (proxies.putIfAbsent(proxy.id(), proxy) == null) {
      log.info("proxy {} connected ({} mode)", proxy.id(), proxy.mode());
      push(proxy);
    }
  }

  private synchronized void disconnected(String nodeId) {
    if (proxies.remove(nodeId) != null) {
      log.info("proxy {} disconnected", nodeId);
      configs.remove(nodeId);
      cache.clearSnapshot(nodeId);
    }
  }

  private static ProxyNode.Mode mode(Node node) {
    var field = node.getMetadata().getFieldsMap().get(MODE_METADATA);
    if (field == null || field.getStringValue().isEmpty()) {
      return ProxyNode.Mode.EXPLICIT;
    }
    try {
      return ProxyNode.Mode.valueOf(field.getStringValue().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("node " + node.getId() + ": metadata " + MODE_METADATA + " must be EXPLICIT or TRANSPARENT, not '"
          + field.getStringValue() + "'");
    }
  }

  /** Every connected proxy with its per-type ACK state, as {@code istioctl proxy-status}, sorted by id. */
  public List<ProxyStatus> status() {
    List<ProxyStatus> out = new ArrayList<>();
    streams.newestStreams().forEach((id, stream) -> {
      ProxyNode proxy = proxies.get(id);
      List<TypeStatus> types = new ArrayList<>();
      TYPES.forEach((url, name) -> types.add(stream.existing(url).map(t -> t.status(name))
          .orElse(new TypeStatus(name, null, null, TypeStatus.NOT_SENT, null, null))));
      out.add(new ProxyStatus(id, proxy == null ? "?" : proxy.mode().name(), stream.protocol, types));
    });
    out.sort(Comparator.comparing(ProxyStatus::proxy));
    return out;
  }

  /** The configuration last pushed to a connected proxy. */
  public Optional<XdsResources> config(String proxyId) {
    return Optional.ofNullable(configs.get(Objects.requireNonNull(proxyId)));
  }
}
