package dev.sluice.xds;

import com.google.protobuf.util.Durations;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.upstream.Cluster;
import dev.sluice.api.upstream.ClusterManager;
import dev.sluice.api.upstream.Host;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import dev.sluice.tls.DataSources;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.grpc.Channel;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.stub.MetadataUtils;
import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import javax.net.ssl.SSLException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * gRPC channels to a control plane from a {@code GrpcService}: {@code envoy_grpc} names a bootstrap
 * cluster whose first host is dialled, over TCP or, for an {@code address.pipe} host (Istio's
 * {@code xds-grpc} cluster at {@code ./etc/istio/proxy/XDS}), a Unix domain socket through the
 * epoll transport shaded into grpc-netty-shaded; {@code google_grpc} dials its {@code target_uri}
 * ({@code host:port}, a gRPC URI, or {@code unix:PATH}), with TLS from
 * {@code channel_credentials.ssl_credentials} and an {@code access_token} call credential as Envoy's
 * Google gRPC client. {@code initial_metadata} goes with every stream. What is not supported (TLS
 * through an {@code envoy_grpc} cluster's transport socket, other credentials) is a config error
 * naming the field rather than a silent plaintext connection.
 */
public final class XdsChannels {
  /**
   * A whole mesh's CDS or EDS response can exceed gRPC's 4 MiB default (10,000 clusters of EDS is
   * ~3.8 MB); like Envoy's xDS client, accept any size unless the service sets a limit.
   */
  static final int MAX_RESPONSE_BYTES = Integer.MAX_VALUE;

  private XdsChannels() {}

  /**
   * @param path the config path of the {@code GrpcService}, for errors
   * @throws ConfigException when the cluster is unknown, has no host, or the service is neither kind
   */
  public static XdsChannel open(GrpcService service, ClusterManager clusters, String path) {
    XdsChannel channel;
    if (service.hasGoogleGrpc()) {
      channel = googleGrpc(service.getGoogleGrpc(), path + ".google_grpc");
    } else if (service.hasEnvoyGrpc()) {
      channel = envoyGrpc(service.getEnvoyGrpc(), clusters, path + ".envoy_grpc");
    } else {
      throw new ConfigException(path, "one of envoy_grpc or google_grpc is required");
    }
    List<ClientInterceptor> interceptors = new ArrayList<>();
    if (service.getInitialMetadataCount() > 0) {
      interceptors.add(MetadataUtils.newAttachHeadersInterceptor(metadata(service.getInitialMetadataList(), path)));
    }
    if (service.hasGoogleGrpc()) {
      Metadata token = callCredentials(service.getGoogleGrpc().getCallCredentialsList(), path + ".google_grpc");
      if (token != null) {
        interceptors.add(MetadataUtils.newAttachHeadersInterceptor(token));
      }
    }
    return interceptors.isEmpty() ? channel
        : new XdsChannel(channel.managed(), ClientInterceptors.intercept(channel.managed(), interceptors), channel.group());
  }

  private static XdsChannel envoyGrpc(GrpcService.EnvoyGrpc envoy, ClusterManager clusters, String path) {
    String name = envoy.getClusterName();
    Cluster cluster = clusters.get(name);
    if (cluster == null) {
      throw new ConfigException(path + ".cluster_name", "unknown cluster '" + name + "'");
    }
    if (cluster.info().transportSocket() != null
        && cluster.info().transportSocket().getTypeUrl().endsWith("/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext")) {
      throw new ConfigException(path + ".cluster_name", "cluster '" + name + "' uses TLS: TLS to the control plane through "
          + "an envoy_grpc cluster is not supported (use google_grpc with channel_credentials.ssl_credentials)");
    }
    Host host = cluster.hostsByPriority().stream().flatMap(List::stream).findFirst()
        .orElseThrow(() -> new ConfigException(path + ".cluster_name", "cluster '" + name + "' has no host"));
    SocketAddress address = host.socketAddress();
    EpollEventLoopGroup group = address instanceof io.netty.channel.unix.DomainSocketAddress ? new EpollEventLoopGroup(1) : null;
    NettyChannelBuilder builder = forAddress(address, group).usePlaintext().maxInboundMessageSize(maxReceive(envoy));
    if (!envoy.getAuthority().isEmpty()) {
      builder.overrideAuthority(envoy.getAuthority());
    }
    var keepalive = cluster.info() instanceof dev.sluice.upstream.ClusterInfoImpl info
        ? info.config().getUpstreamConnectionOptions().getTcpKeepalive() : null;
    if (keepalive != null && keepalive.hasKeepaliveTime()) {
      // Istio sets TCP keep-alive on xds-grpc; gRPC's HTTP/2 PING keep-alive serves the same end.
      builder.keepAliveTime(keepalive.getKeepaliveTime().getValue(), TimeUnit.SECONDS);
    }
    return new XdsChannel(builder.build(), group);
  }

  private static int maxReceive(GrpcService.EnvoyGrpc envoy) {
    return envoy.hasMaxReceiveMessageLength() && envoy.getMaxReceiveMessageLength().getValue() > 0
        ? (int) Math.min(Integer.MAX_VALUE, envoy.getMaxReceiveMessageLength().getValue()) : MAX_RESPONSE_BYTES;
  }

  private static XdsChannel googleGrpc(GrpcService.GoogleGrpc google, String path) {
    String target = google.getTargetUri();
    if (target.isEmpty()) {
      throw new ConfigException(path + ".target_uri", "a target URI is required");
    }
    EpollEventLoopGroup group = null;
    NettyChannelBuilder builder;
    String socketPath = unixPath(target);
    if (socketPath != null) {
      // gRPC's own "unix" resolver yields addresses the shaded Netty transport only dials with
      // the epoll domain-socket channel, which the builder must be told about.
      group = new EpollEventLoopGroup(1);
      builder = forAddress(new io.netty.channel.unix.DomainSocketAddress(socketPath), group);
    } else {
      builder = NettyChannelBuilder.forTarget(target);
    }
    builder.maxInboundMessageSize(MAX_RESPONSE_BYTES);
    if (google.getChannelCredentials().hasSslCredentials()) {
      builder.sslContext(sslContext(google.getChannelCredentials().getSslCredentials(), path + ".channel_credentials.ssl_credentials"));
    } else if (google.getChannelCredentials().hasGoogleDefault()) {
      throw new ConfigException(path + ".channel_credentials.google_default", "Google default credentials are not supported");
    } else {
      // No credentials, or local_credentials (a local transport, no encryption).
      builder.usePlaintext();
    }
    return new XdsChannel(builder.build(), group);
  }

  /** The socket path of a {@code unix:PATH} or {@code unix:///PATH} target, else null. */
  static @Nullable String unixPath(String target) {
    if (!target.startsWith("unix:")) {
      return null;
    }
    String rest = target.substring("unix:".length());
    return rest.startsWith("//") ? rest.substring(2) : rest;
  }

  private static SslContext sslContext(GrpcService.GoogleGrpc.SslCredentials ssl, String path) {
    try {
      SslContextBuilder b = GrpcSslContexts.forClient();
      if (DataSources.isSet(ssl.getRootCerts())) {
        b.trustManager(new ByteArrayInputStream(DataSources.read(ssl.getRootCerts(), path + ".root_certs")));
      }
      boolean chain = DataSources.isSet(ssl.getCertChain());
      if (chain != DataSources.isSet(ssl.getPrivateKey())) {
        throw new ConfigException(path, "cert_chain and private_key go together");
      }
      if (chain) {
        b.keyManager(new ByteArrayInputStream(DataSources.read(ssl.getCertChain(), path + ".cert_chain")),
            new ByteArrayInputStream(DataSources.read(ssl.getPrivateKey(), path + ".private_key")));
      }
      return b.build();
    } catch (SSLException | IllegalArgumentException e) {
      throw new ConfigException(path, "cannot build the TLS context: " + e.getMessage(), e);
    }
  }

  private static Metadata metadata(List<HeaderValue> headers, String path) {
    Metadata m = new Metadata();
    for (int i = 0; i < headers.size(); i++) {
      HeaderValue h = headers.get(i);
      String key = h.getKey().toLowerCase(java.util.Locale.ROOT);
      try {
        if (key.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
          m.put(Metadata.Key.of(key, Metadata.BINARY_BYTE_MARSHALLER),
              h.getRawValue().isEmpty() ? h.getValue().getBytes(java.nio.charset.StandardCharsets.UTF_8) : h.getRawValue().toByteArray());
        } else {
          m.put(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER),
              h.getRawValue().isEmpty() ? h.getValue() : h.getRawValue().toStringUtf8());
        }
      } catch (IllegalArgumentException e) {
        throw new ConfigException(path + ".initial_metadata[" + i + "]", e.getMessage(), e);
      }
    }
    return m;
  }

  /** An {@code access_token} becomes {@code authorization: Bearer ...}; other kinds are refused. */
  private static @Nullable Metadata callCredentials(List<GrpcService.GoogleGrpc.CallCredentials> credentials, String path) {
    Metadata m = null;
    for (int i = 0; i < credentials.size(); i++) {
      GrpcService.GoogleGrpc.CallCredentials c = credentials.get(i);
      if (!c.hasAccessToken()) {
        throw new ConfigException(path + ".call_credentials[" + i + "]", "only access_token call credentials are supported");
      }
      if (m == null) {
        m = new Metadata();
      }
      m.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + c.getAccessToken());
    }
    return m;
  }

  /** A channel to {@code address}; a Unix socket needs the epoll {@code group} (owned by the caller). */
  static NettyChannelBuilder forAddress(SocketAddress address, @Nullable EpollEventLoopGroup group) {
    if (address instanceof io.netty.channel.unix.DomainSocketAddress uds && group != null) {
      return NettyChannelBuilder.forAddress(new DomainSocketAddress(uds.path()))
          .channelType(EpollDomainSocketChannel.class)
          .eventLoopGroup(group)
          // gRPC sets SO_KEEPALIVE on its channels; a Unix socket has none (Netty warned on every connect).
          .withOption(ChannelOption.SO_KEEPALIVE, null);
    }
    if (address instanceof InetSocketAddress inet) {
      return NettyChannelBuilder.forAddress(inet);
    }
    throw new IllegalArgumentException("unsupported address " + address);
  }

  /**
   * A channel, what streams are opened on (the channel itself, or it behind interceptors that add
   * metadata), and the event loop group it alone uses (for Unix sockets); closing ends them.
   */
  public record XdsChannel(ManagedChannel managed, Channel channel, @Nullable EpollEventLoopGroup group) implements AutoCloseable {
    XdsChannel(ManagedChannel managed, @Nullable EpollEventLoopGroup group) {
      this(managed, managed, group);
    }

    @Override
    public void close() {
      managed.shutdownNow();
      if (group != null) {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      }
    }
  }

  /** {@code config_source.initial_fetch_timeout} in millis, Envoy's 15 s when unset, 0 = none. */
  static long initialFetchTimeoutMs(io.envoyproxy.envoy.config.core.v3.ConfigSource source) {
    return source.hasInitialFetchTimeout() ? Durations.toMillis(source.getInitialFetchTimeout())
        : ListenerApplier.DEFAULT_INITIAL_FETCH_TIMEOUT.toMillis();
  }
}
