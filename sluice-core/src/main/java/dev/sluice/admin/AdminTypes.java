package dev.sluice.admin;

import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.admin.v3.BootstrapConfigDump;
import io.envoyproxy.envoy.admin.v3.ClustersConfigDump;
import io.envoyproxy.envoy.admin.v3.EcdsConfigDump;
import io.envoyproxy.envoy.admin.v3.EndpointsConfigDump;
import io.envoyproxy.envoy.admin.v3.ListenersConfigDump;
import io.envoyproxy.envoy.admin.v3.RoutesConfigDump;
import io.envoyproxy.envoy.admin.v3.ScopedRoutesConfigDump;
import io.envoyproxy.envoy.admin.v3.SecretsConfigDump;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.listener.http_inspector.v3.HttpInspector;
import io.envoyproxy.envoy.extensions.filters.listener.original_dst.v3.OriginalDst;
import io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;

/**
 * The message types {@code /config_dump} can meet inside an Any: the dump sections and the
 * resources and filter configs they carry. Adding a descriptor adds its file's types and every
 * type it embeds; an extension whose config type is not reachable adds it to the builder.
 */
public final class AdminTypes {
  private AdminTypes() {}

  public static JsonFormat.TypeRegistry.Builder defaultRegistryBuilder() {
    return JsonFormat.TypeRegistry.newBuilder()
        .add(BootstrapConfigDump.getDescriptor())
        .add(ClustersConfigDump.getDescriptor())
        .add(ListenersConfigDump.getDescriptor())
        .add(RoutesConfigDump.getDescriptor())
        .add(ScopedRoutesConfigDump.getDescriptor())
        .add(EndpointsConfigDump.getDescriptor())
        .add(SecretsConfigDump.getDescriptor())
        .add(EcdsConfigDump.getDescriptor())
        .add(Bootstrap.getDescriptor())
        .add(RouteConfiguration.getDescriptor())
        .add(ClusterLoadAssignment.getDescriptor())
        .add(HttpConnectionManager.getDescriptor())
        .add(Router.getDescriptor())
        .add(TcpProxy.getDescriptor())
        .add(OriginalDst.getDescriptor())
        .add(TlsInspector.getDescriptor())
        .add(HttpInspector.getDescriptor())
        .add(UpstreamTlsContext.getDescriptor())
        .add(DownstreamTlsContext.getDescriptor())
        .add(Secret.getDescriptor());
  }
}
