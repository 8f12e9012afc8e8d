package dev.sluice.tls;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.upstream.ClusterInfo;
import dev.sluice.api.upstream.Host;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLException;
import org.jspecify.annotations.Nullable;

/**
 * A cluster's {@code transport_socket} for upstream connections: {@code UpstreamTlsContext} (TLS,
 * mTLS when it has a certificate, server verified by its validation context) or plaintext. Build it
 * once per cluster version (control thread) with {@link #forCluster}; the SslContexts are built
 * there and rebuilt only when a secret changes.
 *
 * <h2>Wiring it into a client pipeline (the pool)</h2>
 *
 * <ol>
 *   <li>At cluster (pool) creation: {@code UpstreamTransportSocket tls = UpstreamTransportSocket.forCluster(cluster, secrets)};
 *       null means plaintext: keep today's code path.
 *   <li>In the connection's {@code ChannelInitializer}, first:
 *       {@code ch.pipeline().addLast("sluice-tls", tls.newHandler(ch.alloc(), host, sniOverride, Alpn.AUTO))}
 *       ({@code Alpn.HTTP1}/{@code HTTP2} for a single-protocol pool, {@code NONE} for TCP proxy),
 *       then the byte counter and the codec, as now. {@code sniOverride} is the request's
 *       {@code :authority} host when the cluster sets {@code upstream_http_protocol_options.auto_sni},
 *       else null.
 *   <li>The TCP connect completing is not "connected": wait for the {@link
 *       io.netty.handler.ssl.SslHandshakeCompletionEvent} (a user event reaching the codec handler, or
 *       {@code channel.pipeline().get(SslHandler.class).handshakeFuture()}). Before it, writes are
 *       queued by the SslHandler; do not hand the connection to requests. On failure (bad
 *       certificate, SAN mismatch, or a secret not ready yet) treat it as a connect failure
 *       ({@code upstream_cx_connect_fail}, reset reason connection failure; the cause's message is
 *       the transport failure reason); the channel is closed for you.
 *   <li>With {@code Alpn.AUTO}, choose the codec after the handshake:
 *       {@code "h2".equals(UpstreamTransportSocket.negotiatedProtocol(channel))} means HTTP/2,
 *       anything else (including no ALPN) HTTP/1.1.
 * </ol>
 *
 * <p>Stats: {@code cluster.<name>.ssl.*} (handshake, connection_error, fail_verify_*, versions,
 * ciphers) and {@code cluster.<name>.client_ssl_socket_factory.*}. Hostnames are verified only by the
 * validation context's SAN matchers (as Envoy); the SNI is not checked against the certificate.
 */
public final class UpstreamTransportSocket {
  private static final String PATH = "transport_socket.typed_config";
  private final Source source;
  private final String sni;
  private final boolean autoHostSni;
  private final List<String> defaultAlpn;

  private UpstreamTransportSocket(Source source, String sni, boolean autoHostSni, List<String> defaultAlpn) {
    this.source = source;
    this.sni = sni;
    this.autoHostSni = autoHostSni;
    this.defaultAlpn = defaultAlpn;
  }

  /** The ALPN a connection offers when {@code common_tls_context.alpn_protocols} is empty (Envoy's fallback). */
  public enum Alpn {
    /** TCP proxy: offer none. */
    NONE(List.of()),
    HTTP1(List.of("http/1.1")),
    HTTP2(List.of("h2")),
    /** The cluster's AUTO protocol: the server picks. */
    AUTO(List.of("h2", "http/1.1"));

    final List<String> protocols;

    Alpn(List<String> protocols) {
      this.protocols = protocols;
    }
  }

  /**
   * The cluster's TLS, or null for plaintext (no transport socket, or {@code raw_buffer}).
   *
   * @throws ConfigException naming {@code transport_socket.typed_config...}
   */
  public static @Nullable UpstreamTransportSocket forCluster(ClusterInfo cluster, SecretProvider secrets) {
    UpstreamTlsContext config = tlsContextOf(cluster);
    return config == null ? null
        : create(config, cluster.upstreamProtocol(), secrets, TlsStats.upstream(cluster.statsScope()), PATH);
  }

  /**
   * Checks the cluster's transport socket as far as it can be checked before its SDS secrets exist
   * (type, TLS parameters, SAN matchers, inline certificates), without subscribing to anything or
   * building an SslContext: a cluster is validated when its config arrives (a bad one is NACKed),
   * while its TLS contexts are made later, when a pool first needs them.
   *
   * @throws ConfigException naming {@code transport_socket.typed_config...}
   */
  public static void validate(ClusterInfo cluster) {
    UpstreamTlsContext config = tlsContextOf(cluster);
    if (config != null) {
      new Source(config, SecretProvider.NONE, TlsStats.upstream(cluster.statsScope()), PATH + ".common_tls_context");
    }
  }

  /** The cluster's UpstreamTlsContext, or null for plaintext. */
  private static @Nullable UpstreamTlsContext tlsContextOf(ClusterInfo cluster) {
    Any typed = cluster.transportSocket();
    if (typed == null) {
      return null;
    }
    String path = PATH;
    String type = typed.getTypeUrl().substring(typed.getTypeUrl().lastIndexOf('/') + 1);
    if (type.equals("envoy.extensions.transport_sockets.internal_upstream.v3.InternalUpstreamTransport")) {
      // Istio's clusters to internal listeners wrap their real transport socket (raw_buffer): that
      // one decides; the passthrough metadata travels with the internal connection itself.
      try {
        var inner = typed.unpack(io.envoyproxy.envoy.extensions.transport_sockets.internal_upstream.v3.InternalUpstreamTransport.class);
        if (!inner.hasTransportSocket() || !inner.getTransportSocket().hasTypedConfig()) {
          return null;
        }
        typed = inner.getTransportSocket().getTypedConfig();
        type = typed.getTypeUrl().substring(typed.getTypeUrl().lastIndexOf('/') + 1);
      } catch (InvalidProtocolBufferException e) {
        throw new ConfigException(path, "malformed InternalUpstreamTransport: " + e.getMessage(), e);
      }
    }
    if (type.equals("envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer")) {
      return null;
    }
    if (!type.equals("envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext")) {
      throw new ConfigException(path, "transport socket type '" + typed.getTypeUrl() + "' is not supported");
    }
    try {
      return typed.unpack(UpstreamTlsContext.class);
    } catch (InvalidProtocolBufferException e) {
      throw new ConfigException(path, "malformed UpstreamTlsContext: " + e.getMessage(), e);
    }
  }

  static UpstreamTransportSocket create(
      UpstreamTlsContext config, ClusterInfo.UpstreamProtocol protocol, SecretProvider secrets, TlsStats stats, String path) {
    Source source = new Source(config, secrets, stats, path + ".common_tls_context");
    List<String> configured = source.alpn;
    List<String> defaultAlpn = !configured.isEmpty() ? configured : switch (protocol) {
      case HTTP1 -> Alpn.HTTP1.protocols;
      case HTTP2 -> Alpn.HTTP2.protocols;
      case AUTO -> Alpn.AUTO.protocols;
      case USE_DOWNSTREAM -> List.of();
    };
    // Prebuilt here (control thread) for what the cluster's pools will ask; other lists are built on first use.
    source.prebuild(configured.isEmpty() && protocol == ClusterInfo.UpstreamProtocol.USE_DOWNSTREAM
        ? List.of(Alpn.HTTP1.protocols, Alpn.HTTP2.protocols) : List.of(defaultAlpn));
    source.start(false);
    return new UpstreamTransportSocket(source, config.getSni(), config.getAutoHostSni(), defaultAlpn);
  }

  /**
   * The ALPN protocols connections offer by default: {@code common_tls_context.alpn_protocols}, else
   * derived from the cluster's protocol ({@code h2,http/1.1} for AUTO; empty for
   * USE_DOWNSTREAM, where it depends on the pool: see {@link Alpn}).
   */
  public List<String> alpn() {
    return defaultAlpn;
  }

  /** The configured {@code sni} (empty when none). */
  public String sni() {
    return sni;
  }

  /**
   * A new TLS handler for one connection to {@code host}; add it first in the pipeline. The SNI is
   * {@code sniOverride} when given (auto_sni), else the host's hostname under {@code auto_host_sni},
   * else the configured {@code sni}, else none. ALPN offered: {@code alpn_protocols} if configured,
   * else {@code fallback}'s. While a secret is missing the handler fails the handshake and closes.
   */
  public ChannelHandler newHandler(ByteBufAllocator alloc, Host host, @Nullable String sniOverride, Alpn fallback) {
    return newHandler(alloc, host, sniOverride, source.alpn.isEmpty() ? fallback.protocols : source.alpn);
  }

  /** As {@link #newHandler(ByteBufAllocator, Host, String, Alpn)} with an explicit ALPN list (an ALPN override). */
  public ChannelHandler newHandler(ByteBufAllocator alloc, Host host, @Nullable String sniOverride, List<String> alpn) {
    Source.State state = source.current();
    if (state == null) {
      source.stats.secretsNotReady.inc();
      source.stats.connectionError.inc();
      return new NotReadyHandler(source.notReadyReason());
    }
    String serverName = sniOverride != null && !sniOverride.isEmpty() ? sniOverride
        : autoHostSni && !host.hostname().isEmpty() ? host.hostname()
        : sni;
    // Netty sends the peer host as SNI when it is a hostname; an IP literal sends none.
    // A pipe host has no IP and, without a server name, no peer host (no SNI either).
    @Nullable String peer = !serverName.isEmpty() ? serverName
        : host.address().getAddress() != null ? host.address().getAddress().getHostAddress() : null;
    SslHandler handler = state.context(alpn).newHandler(alloc, peer, host.address().getPort());
    TlsStats stats = source.stats;
    handler.handshakeFuture().addListener(f -> {
      if (f.isSuccess()) {
        HandshakeOutcome.succeeded(stats, handler);
      } else {
        HandshakeOutcome.failed(stats, f.cause(), false);
      }
    });
    return handler;
  }

  /** The ALPN protocol the handshake on {@code channel} negotiated, or null (none, or no TLS). */
  public static @Nullable String negotiatedProtocol(Channel channel) {
    SslHandler h = channel.pipeline().get(SslHandler.class);
    return h == null ? null : h.applicationProtocol();
  }

  /** Client SslContexts of the current material, one per offered ALPN list. */
  private static final class Source extends TlsContextSource<Source.State> {
    private List<List<String>> prebuilt = List.of();

    Source(UpstreamTlsContext config, SecretProvider secrets, TlsStats stats, String path) {
      super(config.getCommonTlsContext(), false, secrets, stats, path);
    }

    void prebuild(List<List<String>> alpnLists) {
      prebuilt = List.copyOf(alpnLists);
    }

    @Override
    protected State build(TlsMaterial m) {
      State s = new State(m);
      for (List<String> alpn : prebuilt) {
        s.context(alpn);
      }
      return s;
    }

    /** One version of the material; contexts for other ALPN lists are added on first use. */
    final class State {
      private final TlsMaterial material;
      private final Map<List<String>, SslContext> contexts = new ConcurrentHashMap<>();

      State(TlsMaterial material) {
        this.material = material;
      }

      SslContext context(List<String> alpn) {
        SslContext c = contexts.get(alpn);
        return c != null ? c : contexts.computeIfAbsent(List.copyOf(alpn), this::newContext);
      }

      private SslContext newContext(List<String> alpn) {
        SslContextBuilder b = SslProviders.common(SslContextBuilder.forClient(), params, alpn)
            .trustManager(material.verifier())
            // Envoy checks names only through the SAN matchers, never against SNI.
            .endpointIdentificationAlgorithm(null);
        CertifiedKey cert = material.certificate();
        if (cert != null) {
          b.keyManager(cert.key(), cert.chain());
        }
        try {
          return b.build();
        } catch (SSLException | RuntimeException e) {
          throw new ConfigException(path, "failed to build the TLS client context: " + e.getMessage(), e);
        }
      }
    }
  }
}
