package dev.sluice.mesh.server;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.sluice.config.ProtoTypes;
import dev.sluice.mesh.model.ProxyNode;
import dev.sluice.mesh.model.Workload;
import io.envoyproxy.envoy.config.bootstrap.v3.Admin;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import java.net.InetSocketAddress;
import java.util.Map;

/**
 * The bootstrap a sidecar or gateway is started with ({@code sluice -c FILE}), shaped as
 * pilot-agent renders Istio's: node id {@code sidecar~<ip>~<pod>.<ns>~<ns>.svc.cluster.local}
 * ({@code router~...} for a gateway) with Istio's metadata fields and {@value MeshControlPlane#MODE_METADATA},
 * the admin on {@code <admin>:15000}, a static HTTP/2 cluster {@code xds-grpc} to the control
 * plane's ADS address, and CDS/LDS over ADS (delta by default, as Istio since 1.22).
 *
 * @param type {@code sidecar} or {@code router}
 * @param ip the proxy's address (its "pod IP"): the node id's second part
 * @param serviceCluster Istio's {@code <app>.<namespace>}, the node's cluster
 * @param admin where the admin listens
 * @param ads the control plane's ADS address
 */
public record SidecarBootstrap(
    String type,
    String ip,
    String pod,
    String namespace,
    String serviceCluster,
    Map<String, String> labels,
    ProxyNode.Mode mode,
    InetSocketAddress admin,
    InetSocketAddress ads,
    boolean delta) {
  /** The Istio version the node metadata announces. */
  public static final String ISTIO_VERSION = "1.32.0-sluice";
  public static final int ADMIN_PORT = 15000;

  public SidecarBootstrap {
    labels = Map.copyOf(labels);
  }

  /** A workload's sidecar in explicit mode: node ip and admin on the workload's own address. */
  public static SidecarBootstrap sidecar(Workload w, InetSocketAddress ads) {
    String app = w.labels().getOrDefault("app", w.name());
    return new SidecarBootstrap("sidecar", w.address(), w.podName(), w.namespace(), app + "." + w.namespace(),
        w.labels(), ProxyNode.Mode.EXPLICIT, new InetSocketAddress(w.address(), ADMIN_PORT), ads, true);
  }

  /** The ingress gateway ({@code istio=ingressgateway}) with its admin on 127.0.0.1:15000. */
  public static SidecarBootstrap ingressGateway(InetSocketAddress ads) {
    return new SidecarBootstrap("router", "127.0.0.1", "istio-ingressgateway", "istio-system",
        "istio-ingressgateway.istio-system", Map.of("istio", "ingressgateway", "app", "istio-ingressgateway"),
        ProxyNode.Mode.EXPLICIT, new InetSocketAddress("127.0.0.1", ADMIN_PORT), ads, true);
  }

  public SidecarBootstrap withAdmin(InetSocketAddress newAdmin) {
    return new SidecarBootstrap(type, ip, pod, namespace, serviceCluster, labels, mode, newAdmin, ads, delta);
  }

  public SidecarBootstrap withDelta(boolean newDelta) {
    return new SidecarBootstrap(type, ip, pod, namespace, serviceCluster, labels, mode, admin, ads, newDelta);
  }

  public String nodeId() {
    return type + "~" + ip + "~" + pod + "." + namespace + "~" + namespace + ".svc.cluster.local";
  }

  public Bootstrap bootstrap() {
    ConfigSource viaAds = ConfigSource.newBuilder().setAds(AggregatedConfigSource.getDefaultInstance())
        .setResourceApiVersion(ApiVersion.V3).build();
    return Bootstrap.newBuilder()
        .setNode(Node.newBuilder().setId(nodeId()).setCluster(serviceCluster).setMetadata(metadata()))
        .setAdmin(Admin.newBuilder().setAddress(address(admin)))
        .setStaticResources(Bootstrap.StaticResources.newBuilder().addClusters(xdsCluster()))
        .setDynamicResources(Bootstrap.DynamicResources.newBuilder()
            .setAdsConfig(ApiConfigSource.newBuilder()
                .setApiType(delta ? ApiConfigSource.ApiType.DELTA_GRPC : ApiConfigSource.ApiType.GRPC)
                .setTransportApiVersion(ApiVersion.V3)
                .setSetNodeOnFirstMessageOnly(true)
                .addGrpcServices(GrpcService.newBuilder().setEnvoyGrpc(
                    GrpcService.EnvoyGrpc.newBuilder().setClusterName("xds-grpc"))))
            .setCdsConfig(viaAds)
            .setLdsConfig(viaAds))
        .build();
  }

  /** The bootstrap as JSON, for {@code sluice -c}. */
  public String json() {
    try {
      return ProtoTypes.get().printer().print(bootstrap());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("cannot print the bootstrap: " + e.getMessage(), e);
    }
  }

  private Struct metadata() {
    Struct.Builder labelStruct = Struct.newBuilder();
    labels.forEach((k, v) -> labelStruct.putFields(k, string(v)));
    return Struct.newBuilder()
        .putFields("ISTIO_VERSION", string(ISTIO_VERSION))
        .putFields("NAMESPACE", string(namespace))
        .putFields("NAME", string(pod))
        .putFields("WORKLOAD_NAME", string(pod))
        .putFields("CLUSTER_ID", string("Kubernetes"))
        .putFields("MESH_ID", string("cluster.local"))
        .putFields("INSTANCE_IPS", string(ip))
        .putFields("INTERCEPTION_MODE", string(mode == ProxyNode.Mode.TRANSPARENT ? "REDIRECT" : "NONE"))
        .putFields("LABELS", Value.newBuilder().setStructValue(labelStruct).build())
        .putFields(MeshControlPlane.MODE_METADATA, string(mode.name()))
        .build();
  }

  private Cluster xdsCluster() {
    HttpProtocolOptions h2 = HttpProtocolOptions.newBuilder()
        .setExplicitHttpConfig(HttpProtocolOptions.ExplicitHttpConfig.newBuilder()
            .setHttp2ProtocolOptions(Http2ProtocolOptions.getDefaultInstance()))
        .build();
    return Cluster.newBuilder()
        .setName("xds-grpc")
        .setType(Cluster.DiscoveryType.STATIC)
        .setConnectTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(1))
        .setLoadAssignment(ClusterLoadAssignment.newBuilder().setClusterName("xds-grpc")
            .addEndpoints(LocalityLbEndpoints.newBuilder().addLbEndpoints(LbEndpoint.newBuilder()
                .setEndpoint(Endpoint.newBuilder().setAddress(address(ads))))))
        .putTypedExtensionProtocolOptions("envoy.extensions.upstreams.http.v3.HttpProtocolOptions", Any.pack(h2))
        .build();
  }

  private static Address address(InetSocketAddress a) {
    return Address.newBuilder().setSocketAddress(SocketAddress.newBuilder()
        .setAddress(a.getHostString()).setPortValue(a.getPort())).build();
  }

  private static Value string(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }
}
