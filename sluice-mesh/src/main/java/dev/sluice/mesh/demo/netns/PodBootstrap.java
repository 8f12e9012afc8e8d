package dev.sluice.mesh.demo.netns;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.sluice.config.ProtoTypes;
import dev.sluice.mesh.model.ProxyNode;
import dev.sluice.mesh.model.Workload;
import dev.sluice.mesh.server.SidecarBootstrap;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.Pipe;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import java.net.InetSocketAddress;
import java.nio.file.Path;

/**
 * A transparent-mode proxy's bootstrap, as pilot-agent renders it inside a pod: node id with the
 * pod IP, metadata mode {@code TRANSPARENT} ({@code INTERCEPTION_MODE: REDIRECT}), admin on the
 * pod's {@code 127.0.0.1:15000}, and {@code xds-grpc} a {@code pipe} cluster to the control
 * plane's Unix domain socket (pilot-agent's {@code ./etc/istio/proxy/XDS}), which a proxy reaches
 * from any network namespace.
 */
final class PodBootstrap {
  static final InetSocketAddress ADMIN = new InetSocketAddress("127.0.0.1", SidecarBootstrap.ADMIN_PORT);
  private static final String XDS_CLUSTER = "xds-grpc";

  private PodBootstrap() {}

  /** A sidecar ({@code sidecar~}) or, for the ingress gateway, a router ({@code router~}). */
  static SidecarBootstrap of(Workload w, boolean gateway) {
    String app = w.labels().getOrDefault("app", w.name());
    // The TCP ADS address is replaced by the pipe in json(); SidecarBootstrap only knows TCP.
    return new SidecarBootstrap(gateway ? "router" : "sidecar", w.address(), w.podName(), w.namespace(), app + "." + w.namespace(),
        w.labels(), ProxyNode.Mode.TRANSPARENT, ADMIN, new InetSocketAddress("127.0.0.1", 0), true);
  }

  /** The bootstrap JSON with {@code xds-grpc} pointing at {@code xdsSocket}. */
  static String json(SidecarBootstrap b, Path xdsSocket) {
    Bootstrap.Builder bootstrap = b.bootstrap().toBuilder();
    Bootstrap.StaticResources.Builder statics = bootstrap.getStaticResourcesBuilder();
    for (int i = 0; i < statics.getClustersCount(); i++) {
      Cluster c = statics.getClusters(i);
      if (c.getName().equals(XDS_CLUSTER)) {
        statics.setClusters(i, c.toBuilder().setLoadAssignment(ClusterLoadAssignment.newBuilder().setClusterName(XDS_CLUSTER)
            .addEndpoints(LocalityLbEndpoints.newBuilder().addLbEndpoints(LbEndpoint.newBuilder().setEndpoint(Endpoint.newBuilder()
                .setAddress(Address.newBuilder().setPipe(Pipe.newBuilder().setPath(xdsSocket.toString()))))))));
      }
    }
    try {
      return ProtoTypes.get().printer().print(bootstrap.build());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("cannot print the bootstrap: " + e.getMessage(), e);
    }
  }
}
