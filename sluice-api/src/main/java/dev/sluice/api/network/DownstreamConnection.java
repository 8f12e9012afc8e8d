package dev.sluice.api.network;

import dev.sluice.api.stream.StreamInfo;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import java.net.InetSocketAddress;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One accepted downstream connection, as listener filters refine it and network filters read it.
 * Confined to the connection's worker event loop; plain fields.
 */
public final class DownstreamConnection {
  public final long id;
  public final int workerIndex;
  public final Channel channel;
  public InetSocketAddress remoteAddress;
  /** The local address; after {@code original_dst} the connection's original destination. */
  public InetSocketAddress localAddress;
  /** True once a listener filter replaced {@link #localAddress} with the original destination. */
  public boolean localAddressRestored;
  /** SNI from the TLS ClientHello ({@code tls_inspector}), or null. */
  public @Nullable String serverName;
  /** {@code raw_buffer} or {@code tls} (set by {@code tls_inspector}). */
  public String transportProtocol = "raw_buffer";
  /** ALPN from the ClientHello, or {@code http/1.1}/{@code h2c} from {@code http_inspector}. */
  public List<String> applicationProtocols = List.of();
  /** Per-connection stream info (the TCP proxy's access log entry). */
  public final StreamInfo streamInfo;
  /** {@code per_connection_buffer_limit_bytes} of the listener (1 MiB by default). */
  public int bufferLimitBytes = 1024 * 1024;
  private final UpstreamBootstrapFactory upstreamBootstrapFactory;

  public DownstreamConnection(
      long id,
      int workerIndex,
      Channel channel,
      InetSocketAddress remoteAddress,
      InetSocketAddress localAddress,
      UpstreamBootstrapFactory upstreamBootstrapFactory) {
    this.id = id;
    this.workerIndex = workerIndex;
    this.channel = channel;
    this.remoteAddress = remoteAddress;
    this.localAddress = localAddress;
    this.upstreamBootstrapFactory = upstreamBootstrapFactory;
    this.streamInfo = StreamInfo.startNow();
    streamInfo.connectionId = id;
    streamInfo.downstreamRemoteAddress = remoteAddress;
    streamInfo.downstreamDirectRemoteAddress = remoteAddress;
    streamInfo.downstreamLocalAddress = localAddress;
  }

  /**
   * A client bootstrap on this connection's own event loop, with the worker's transport (epoll or
   * NIO) and Sluice's socket options; the caller sets the handler and connects. Upstream
   * connections live on the same loop as the downstream one: no cross-thread hand-off.
   */
  public Bootstrap newUpstreamBootstrap() {
    return upstreamBootstrapFactory.create(channel.eventLoop());
  }

  /** Makes client bootstraps for a worker loop (provided by the listener subsystem). */
  public interface UpstreamBootstrapFactory {
    Bootstrap create(io.netty.channel.EventLoop loop);
  }
}
