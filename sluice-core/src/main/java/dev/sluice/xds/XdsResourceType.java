package dev.sluice.xds;

import com.google.protobuf.Message;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.ScopedRouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The xDS resource types Sluice subscribes to, with their type URLs and how a resource names
 * itself. {@link #fullStateRemovals}: in state-of-the-world, a Listener, Cluster or
 * ScopedRouteConfiguration missing from a response is removed, whereas a missing RouteConfiguration or ClusterLoadAssignment is merely not
 * updated (the xDS protocol's rule for the types other resources depend on).
 */
public enum XdsResourceType {
  CLUSTER("type.googleapis.com/envoy.config.cluster.v3.Cluster", Cluster.class,
      m -> ((Cluster) m).getName(), true, "cluster_manager.cds."),
  ENDPOINT("type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment", ClusterLoadAssignment.class,
      m -> ((ClusterLoadAssignment) m).getClusterName(), false, null),
  LISTENER("type.googleapis.com/envoy.config.listener.v3.Listener", Listener.class,
      m -> ((Listener) m).getName(), true, "listener_manager.lds."),
  /** SRDS: a state-of-the-world response holds every scope, so one left out is removed (as Envoy's SRDS). */
  SCOPED_ROUTE("type.googleapis.com/envoy.config.route.v3.ScopedRouteConfiguration", ScopedRouteConfiguration.class,
      m -> ((ScopedRouteConfiguration) m).getName(), true, null),
  ROUTE("type.googleapis.com/envoy.config.route.v3.RouteConfiguration", RouteConfiguration.class,
      m -> ((RouteConfiguration) m).getName(), false, null),
  /**
   * VHDS (delta only): a virtual host of a route configuration with {@code vhds}, named
   * {@code <route configuration name>/<host or virtual host name>} by its {@code Resource} wrapper.
   */
  VIRTUAL_HOST("type.googleapis.com/envoy.config.route.v3.VirtualHost", VirtualHost.class,
      m -> ((VirtualHost) m).getName(), false, null),
  SECRET("type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret", Secret.class,
      m -> ((Secret) m).getName(), false, null);

  /** The wrapper a server may put around each resource (name, version, TTL, aliases). */
  static final String RESOURCE_WRAPPER = "type.googleapis.com/envoy.service.discovery.v3.Resource";

  private final String typeUrl;
  private final Class<? extends Message> messageClass;
  private final Function<Message, String> name;
  private final boolean fullStateRemovals;
  private final @Nullable String statsPrefix;

  XdsResourceType(String typeUrl, Class<? extends Message> messageClass, Function<Message, String> name,
      boolean fullStateRemovals, @Nullable String statsPrefix) {
    this.typeUrl = typeUrl;
    this.messageClass = messageClass;
    this.name = name;
    this.fullStateRemovals = fullStateRemovals;
    this.statsPrefix = statsPrefix;
  }

  public String typeUrl() {
    return typeUrl;
  }

  public Class<? extends Message> messageClass() {
    return messageClass;
  }

  public String nameOf(Message resource) {
    return name.apply(resource);
  }

  /**
   * True for VHDS: the subscription is requested even before it names anything (Envoy's first
   * VHDS request names nothing: the server sends the base virtual hosts), names being added as
   * requests ask for hosts.
   */
  boolean requestedWithoutNames() {
    return this == VIRTUAL_HOST;
  }

  boolean fullStateRemovals() {
    return fullStateRemovals;
  }

  /** Envoy's subscription stats scope for the type ({@code cluster_manager.cds.}), or null. */
  @Nullable String statsPrefix() {
    return statsPrefix;
  }

  static @Nullable XdsResourceType ofTypeUrl(String typeUrl) {
    for (XdsResourceType t : values()) {
      if (t.typeUrl.equals(typeUrl)) {
        return t;
      }
    }
    return null;
  }
}
