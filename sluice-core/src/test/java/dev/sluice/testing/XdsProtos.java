package dev.sluice.testing;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.DirectResponseAction;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;

/**
 * The xDS resources tests serve from a control plane, as protos: the ADS config source, EDS
 * clusters and one-endpoint assignments on 127.0.0.1, HTTP connection manager listeners on
 * 127.0.0.1:0, route configurations sending every path to one cluster or answering directly, and
 * SDS secrets.
 * Each returns a built message; a test changes one with {@code toBuilder()}.
 */
public final class XdsProtos {
  private XdsProtos() {}

  /** {@code {ads: {}, resource_api_version: V3}}. */
  public static ConfigSource ads() {
    return ConfigSource.newBuilder().setAds(AggregatedConfigSource.getDefaultInstance())
        .setResourceApiVersion(ApiVersion.V3).build();
  }

  /** A socket address {@code ip:port}. */
  public static Address address(String ip, int port) {
    return Address.newBuilder().setSocketAddress(SocketAddress.newBuilder().setAddress(ip).setPortValue(port)).build();
  }

  /** The socket address 127.0.0.1:{@code port} (0: an ephemeral port for a listener). */
  public static Address loopback(int port) {
    return address("127.0.0.1", port);
  }

  /** An EDS cluster (connect timeout 1 s) whose assignment, named {@code serviceName}, comes from {@code edsConfig}. */
  public static Cluster edsCluster(String name, String serviceName, ConfigSource edsConfig) {
    return Cluster.newBuilder().setName(name).setType(Cluster.DiscoveryType.EDS)
        .setConnectTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(1))
        .setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder().setEdsConfig(edsConfig).setServiceName(serviceName))
        .build();
  }

  /** An EDS cluster over ADS whose assignment is named {@code serviceName}. */
  public static Cluster edsCluster(String name, String serviceName) {
    return edsCluster(name, serviceName, ads());
  }

  /** An EDS cluster over ADS whose assignment bears the cluster's own name (no service_name). */
  public static Cluster edsCluster(String name) {
    return edsCluster(name, "", ads());
  }

  /** The assignment {@code clusterName} of one endpoint, 127.0.0.1:{@code port}. */
  public static ClusterLoadAssignment oneEndpoint(String clusterName, int port) {
    return ClusterLoadAssignment.newBuilder().setClusterName(clusterName)
        .addEndpoints(LocalityLbEndpoints.newBuilder().addLbEndpoints(LbEndpoint.newBuilder()
            .setEndpoint(Endpoint.newBuilder().setAddress(loopback(port))))).build();
  }

  /** The router HTTP filter, {@code envoy.filters.http.router}. */
  public static HttpFilter routerFilter() {
    return HttpFilter.newBuilder().setName("envoy.filters.http.router")
        .setTypedConfig(Any.pack(Router.getDefaultInstance())).build();
  }

  /** A connection manager taking route configuration {@code routeConfigName} over RDS from {@code rdsConfig}, the router its one filter. */
  public static HttpConnectionManager rdsConnectionManager(String statPrefix, String routeConfigName, ConfigSource rdsConfig) {
    return HttpConnectionManager.newBuilder().setStatPrefix(statPrefix)
        .setRds(Rds.newBuilder().setRouteConfigName(routeConfigName).setConfigSource(rdsConfig))
        .addHttpFilters(routerFilter())
        .build();
  }

  /** A connection manager taking route configuration {@code routeConfigName} over RDS from ADS, the router its one filter. */
  public static HttpConnectionManager rdsConnectionManager(String statPrefix, String routeConfigName) {
    return rdsConnectionManager(statPrefix, routeConfigName, ads());
  }

  /** A connection manager with the inline route configuration {@code routes}, the router its one filter. */
  public static HttpConnectionManager inlineConnectionManager(String statPrefix, RouteConfiguration routes) {
    return HttpConnectionManager.newBuilder().setStatPrefix(statPrefix).setRouteConfig(routes)
        .addHttpFilters(routerFilter())
        .build();
  }

  /** A listener {@code name} on 127.0.0.1:0 whose one filter chain is the connection manager {@code hcm}. */
  public static Listener httpListener(String name, HttpConnectionManager hcm) {
    return Listener.newBuilder().setName(name).setAddress(loopback(0))
        .addFilterChains(FilterChain.newBuilder().addFilters(Filter.newBuilder()
            .setName("envoy.filters.network.http_connection_manager").setTypedConfig(Any.pack(hcm))))
        .build();
  }

  /** A listener {@code name} on 127.0.0.1:0 whose connection manager takes {@code routeConfigName} over RDS from ADS. */
  public static Listener rdsListener(String name, String statPrefix, String routeConfigName) {
    return httpListener(name, rdsConnectionManager(statPrefix, routeConfigName));
  }

  /** A route configuration {@code name}: one virtual host for every domain, {@code route} for every path. */
  public static RouteConfiguration everyPath(String name, Route.Builder route) {
    return RouteConfiguration.newBuilder().setName(name)
        .addVirtualHosts(VirtualHost.newBuilder().setName("all").addDomains("*")
            .addRoutes(route.setMatch(RouteMatch.newBuilder().setPrefix("/"))))
        .build();
  }

  /** A route configuration {@code name} sending every request to {@code cluster}. */
  public static RouteConfiguration routeToCluster(String name, String cluster) {
    return everyPath(name, Route.newBuilder().setRoute(RouteAction.newBuilder().setCluster(cluster)));
  }

  /** A route configuration {@code name} answering every request with {@code status} and no body. */
  public static RouteConfiguration directResponse(String name, int status) {
    return everyPath(name, Route.newBuilder().setDirectResponse(DirectResponseAction.newBuilder().setStatus(status)));
  }

  /** A route configuration {@code name} answering every request with {@code status} and {@code body}. */
  public static RouteConfiguration directResponse(String name, int status, String body) {
    return everyPath(name, Route.newBuilder().setDirectResponse(DirectResponseAction.newBuilder().setStatus(status)
        .setBody(DataSource.newBuilder().setInlineString(body))));
  }

  /** An SDS secret {@code name} holding a TLS certificate chain and its private key (PEM text). */
  public static Secret tlsCertificateSecret(String name, String certificate, String key) {
    return Secret.newBuilder().setName(name).setTlsCertificate(TlsCertificate.newBuilder()
        .setCertificateChain(DataSource.newBuilder().setInlineString(certificate))
        .setPrivateKey(DataSource.newBuilder().setInlineString(key))).build();
  }

  /** An SDS secret {@code name} holding a validation context that trusts {@code caCertificate} (PEM text). */
  public static Secret validationContextSecret(String name, String caCertificate) {
    return Secret.newBuilder().setName(name).setValidationContext(CertificateValidationContext.newBuilder()
        .setTrustedCa(DataSource.newBuilder().setInlineString(caCertificate))).build();
  }
}
