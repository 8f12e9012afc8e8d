package dev.sluice.xds;

import com.google.protobuf.util.Durations;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.upstream.Cluster;
import dev.sluice.api.upstream.ClusterManager;
import dev.sluice.api.upstream.Host;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.grpc.ManagedChannel;
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
 * epoll transport shaded into grpc-netty-shaded; {@code google_grpc} dials its {@code target_uri}.
 * Plaintext only: TLS to the control plane is not supported yet.
 */
public final class XdsChannels {
  /**
   * A whole mesh's CDS or EDS response can exceed gRPC's 4 MiB default (10,000 clusters of EDS is
   * ~3.8 MB); like Envoy's xDS client, accept any size.
   */
  static final int MAX_RESPONSE_BYTES = Integer.MAX_VALUE;

  private XdsChannels() {}

  /**
   * @param path the config path of the {@code GrpcService}, for errors
   * @throws ConfigException when the cluster is unknown, has no host, or the service is neither kind
   */
  public static XdsChannel open(GrpcService service, ClusterManager clusters, String path) {
    if (service.hasGoogleGrpc()) {
      return new XdsChannel(NettyChannelBuilder.forTarget(service.getGoogleGrpc().getTargetUri()).usePlaintext().maxInboundMessageSize(MAX_RESPONSE_BYTES).build(), null);
    }
    if (!service.hasEnvoyGrpc()) {
      throw new ConfigException(path, "one of envoy_grpc or google_grpc is required");
    }
    String name = service.getEnvoyGrpc().getClusterName();
    Cluster cluster = clusters.get(name);
    if (cluster == null) {
      throw new ConfigException(path + ".envoy_grpc.cluster_name", "unknown cluster '" + name + "'");
    }
    Host host = cluster.hostsByPriority().stream().flatMap(List::stream).findFirst()
        .orElseThrow(() -> new ConfigException(path + ".envoy_grpc.cluster_name", "cluster '" + name + "' has no host"));
    SocketAddress address = host.socketAddress();
    EpollEventLoopGroup group = address instanceof io.netty.channel.unix.DomainSocketAddress ? new EpollEventLoopGroup(1) : null;
    NettyChannelBuilder builder = forAddress(address, group).usePlaintext().maxInboundMessageSize(MAX_RESPONSE_BYTES);
    var keepalive = cluster.info() instanceof dev.sluice.upstream.ClusterInfoImpl info
        ? info.config().getUpstreamConnectionOptions().getTcpKeepalive() : null;
    if (keepalive != null && keepalive.hasKeepaliveTime()) {
      // Istio sets TCP keep-alive on xds-grpc; gRPC's HTTP/2 PING keep-alive serves the same end.
      builder.keepAliveTime(keepalive.getKeepaliveTime().getValue(), TimeUnit.SECONDS);
    }
    return new XdsChannel(builder.build(), group);
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

  /** A channel and the event loop group it alone uses (for Unix sockets); closing ends both. */
  public record XdsChannel(ManagedChannel channel, @Nullable EpollEventLoopGroup group) implements AutoCloseable {
    @Override
    public void close() {
      channel.shutdownNow();
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
