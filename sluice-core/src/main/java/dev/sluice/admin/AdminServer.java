package dev.sluice.admin;

import dev.sluice.api.accesslog.AccessLogger;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import java.net.InetSocketAddress;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Envoy's admin listener: HTTP/1.1 on {@code admin.address}, served by its own one-thread event
 * loop (epoll when available, NIO otherwise) so that admin work never runs on a worker. Paths
 * match exactly (the query is ignored for matching); a path registered as mutating answers 405 to
 * any method but POST, as Envoy does.
 */
public final class AdminServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
  /** Largest request body accepted (admin requests carry at most small forms). */
  private static final int MAX_REQUEST_BYTES = 1 << 20;

  /** One registered path. */
  public record Endpoint(String path, String helpText, boolean mutatesState, AdminHandler handler) {}

  private final InetSocketAddress address;
  private final Map<String, Endpoint> endpoints = new ConcurrentHashMap<>();
  private @Nullable EventLoopGroup group;
  private @Nullable Channel channel;
  private volatile AccessLogger accessLogger = AccessLogger.NOOP;

  public AdminServer(InetSocketAddress address) {
    this.address = address;
    register("/", "Admin home page", false,
        AdminHandler.sync(r -> AdminResponse.html(AdminPages.index(endpoints()))));
    register("/help", "print out list of admin commands", false,
        AdminHandler.sync(r -> AdminResponse.ok(AdminPages.help(endpoints()))));
  }

  /**
   * Adds a path. Returns false (and changes nothing) when the path is taken or contains a
   * character Envoy refuses in admin prefixes ({@code &"'<>?:}).
   */
  public boolean register(String path, String helpText, boolean mutatesState, AdminHandler handler) {
    if (!path.startsWith("/") || path.chars().anyMatch(c -> "&\"'<>?:".indexOf(c) >= 0)) {
      log.error("admin path \"{}\" is not a valid path", path);
      return false;
    }
    return endpoints.putIfAbsent(path, new Endpoint(path, helpText, mutatesState, handler)) == null;
  }

  /** {@code admin.access_log}: one entry per admin request (set before {@link #start()}). */
  public void setAccessLogger(AccessLogger logger) {
    this.accessLogger = logger;
  }

  AccessLogger accessLogger() {
    return accessLogger;
  }

  /** Every endpoint, sorted by path. */
  public List<Endpoint> endpoints() {
    return endpoints.values().stream().sorted(Comparator.comparing(Endpoint::path)).toList();
  }

  Optional<Endpoint> endpoint(String path) {
    return Optional.ofNullable(endpoints.get(path));
  }

  /** Binds the socket (blocking until bound; call from the control thread at start-up). */
  public synchronized void start() throws InterruptedException {
    if (channel != null) {
      throw new IllegalStateException("admin server already started");
    }
    AdminTransport transport = AdminTransport.best();
    EventLoopGroup loop = transport.newGroup();
    try {
      channel = new ServerBootstrap()
          .group(loop)
          .channel(transport.serverChannel())
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              ch.pipeline()
                  .addLast(new HttpServerCodec())
                  .addLast(new HttpObjectAggregator(MAX_REQUEST_BYTES))
                  .addLast(new AdminHttpHandler(AdminServer.this));
            }
          })
          .bind(address)
          .sync()
          .channel();
    } catch (InterruptedException | RuntimeException e) {
      loop.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
      throw e;
    }
    group = loop;
    log.info("admin address: {} ({})", boundAddress(), transport.name());
  }

  /** The bound address (with the real port when {@code admin.address} asked for port 0). */
  public InetSocketAddress boundAddress() {
    Channel ch = channel;
    if (ch == null) {
      throw new IllegalStateException("admin server not started");
    }
    return (InetSocketAddress) ch.localAddress();
  }

  public int port() {
    return boundAddress().getPort();
  }

  @Override
  public synchronized void close() {
    Channel ch = channel;
    EventLoopGroup loop = group;
    channel = null;
    group = null;
    if (ch != null) {
      ch.close().syncUninterruptibly();
    }
    if (loop != null) {
      loop.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }
}
