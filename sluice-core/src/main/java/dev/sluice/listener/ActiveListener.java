package dev.sluice.listener;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import com.google.protobuf.util.Durations;
import dev.sluice.api.ExtensionRegistry;
import dev.sluice.api.FactoryContext;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.network.DownstreamConnection;
import dev.sluice.api.network.ListenerFilter;
import dev.sluice.api.network.ListenerFilterFactory;
import dev.sluice.api.network.NetworkFilter;
import dev.sluice.api.network.NetworkFilterFactory;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.unix.UnixChannelOption;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One version of one listener: its compiled listener filters and filter chains, its server sockets
 * (one per worker with SO_REUSEPORT on epoll, so each worker accepts its own connections) and the
 * connections it accepted, tracked per worker so draining can reach them. Built and bound on the
 * control thread; connection bookkeeping happens on each worker's loop.
 */
public final class ActiveListener {
  private static final Logger log = LoggerFactory.getLogger(ActiveListener.class);
  static final int DEFAULT_BUFFER_LIMIT = 1024 * 1024;
  static final long DEFAULT_LISTENER_FILTERS_TIMEOUT_MS = 15_000;
  /** Envoy's default {@code tcp_backlog_size}. */
  static final int DEFAULT_BACKLOG = 128;

  private final Listener config;
  private final ListenerManager manager;
  private final List<InetSocketAddress> configuredAddresses;
  /** The listener's {@code envoy://name/} when it is an internal listener ({@code internal_listener}), else null. */
  private final @Nullable InternalAddress internalAddress;
  private final InternalListeners.Acceptor internalAcceptor = this::acceptInternal;
  private final List<InetSocketAddress> boundAddresses = new ArrayList<>();
  private final List<Channel> serverChannels = new ArrayList<>();
  private final boolean bindToPort;
  private final boolean useOriginalDst;
  private final ListenerSocketOptions socketOptions;
  private final int bufferLimit;
  private final long listenerFiltersTimeoutMillis;
  private final boolean continueOnListenerFiltersTimeout;
  private final List<ListenerFilterEntry> listenerFilters;
  private final FilterChainMatcher<FilterChain> matcher;
  private final ListenerStats stats;
  /** Per worker; each set is touched only on its worker's loop. */
  private final Set<Channel>[] connections;
  private volatile @Nullable DrainDecision drainDecision;

  @SuppressWarnings("unchecked")
  ActiveListener(Listener config, FactoryContext context, DownstreamTransportSockets transportSockets, ListenerManager manager) {
    this.config = config;
    this.manager = manager;
    this.internalAddress = config.hasInternalListener() ? internalAddress(config) : null;
    this.configuredAddresses = internalAddress != null ? List.of() : addresses(config);
    this.bindToPort = !config.hasBindToPort() || config.getBindToPort().getValue();
    this.useOriginalDst = config.getUseOriginalDst().getValue();
    this.socketOptions = ListenerSocketOptions.of(config, manager.workers().epoll());
    this.bufferLimit = config.hasPerConnectionBufferLimitBytes() ? config.getPerConnectionBufferLimitBytes().getValue() : DEFAULT_BUFFER_LIMIT;
    this.listenerFiltersTimeoutMillis =
        config.hasListenerFiltersTimeout() ? Durations.toMillis(config.getListenerFiltersTimeout()) : DEFAULT_LISTENER_FILTERS_TIMEOUT_MS;
    this.continueOnListenerFiltersTimeout = config.getContinueOnListenerFiltersTimeout();
    if (config.hasConnectionBalanceConfig()) {
      // Each worker accepts on its own SO_REUSEPORT socket; the kernel balances (Envoy's default).
      log.info("listener {}: connection_balance_config is ignored", config.getName());
    }
    this.listenerFilters = compileListenerFilters(config, context);
    this.matcher = compileFilterChains(config, context, transportSockets);
    this.stats = manager.listenerStats(internalAddress != null
        ? (config.getStatPrefix().isEmpty() ? internalAddress.toString().replace(':', '_') : config.getStatPrefix())
        : statPrefix(config, configuredAddresses.get(0)));
    int workers = manager.workers().concurrency();
    this.connections = new Set[workers];
    for (int i = 0; i < workers; i++) {
      connections[i] = new HashSet<>();
    }
  }

  public String name() {
    return config.getName();
  }

  public Listener config() {
    return config;
  }

  public ListenerStats stats() {
    return stats;
  }

  /** The addresses as configured (port 0 until bound). */
  public List<InetSocketAddress> configuredAddresses() {
    return configuredAddresses;
  }

  /** The addresses the server sockets are bound to (ephemeral ports resolved); empty when not bound. */
  public List<InetSocketAddress> boundAddresses() {
    return List.copyOf(boundAddresses);
  }

  /** The internal address ({@code envoy://name/}) of an internal listener, else null. */
  public @Nullable InternalAddress internalAddress() {
    return internalAddress;
  }

  /** The bound server sockets (one per worker on epoll). */
  List<Channel> serverChannels() {
    return List.copyOf(serverChannels);
  }

  public boolean bindToPort() {
    return bindToPort;
  }

  public boolean draining() {
    return drainDecision != null;
  }

  ListenerManager manager() {
    return manager;
  }

  List<ListenerFilterEntry> listenerFilters() {
    return listenerFilters;
  }

  long listenerFiltersTimeoutMillis() {
    return listenerFiltersTimeoutMillis;
  }

  boolean continueOnListenerFiltersTimeout() {
    return continueOnListenerFiltersTimeout;
  }

  boolean useOriginalDst() {
    return useOriginalDst;
  }

  /** {@code listener.<stat_prefix or address with ':' as '_'>.}: Envoy's listener scope name. */
  public static String statPrefix(Listener config, InetSocketAddress address) {
    if (!config.getStatPrefix().isEmpty()) {
      return config.getStatPrefix();
    }
    String host = address.getAddress().getHostAddress();
    if (host.contains(":")) {
      host = "[" + (host.equals("0:0:0:0:0:0:0:0") ? "::" : host) + "]";
    }
    return (host + ":" + address.getPort()).replace(':', '_');
  }

  @Nullable FilterChain matchFilterChain(DownstreamConnection c) {
    return matcher.match(
        new FilterChainMatcher.Input(c.localAddress, c.remoteAddress, c.remoteAddress, c.serverName, c.transportProtocol, c.applicationProtocols));
  }

  /**
   * Binds the server sockets. {@code takeOver} is the previous version of this listener: its bound
   * ports are reused for configured port 0, so an update keeps the listener's address.
   */
  void bind(@Nullable ActiveListener takeOver) {
    if (internalAddress != null) {
      // No socket: each worker's loop accepts the connections its own upstreams open to this name.
      Workers workers = manager.workers();
      for (int i = 0; i < workers.concurrency(); i++) {
        InternalListeners.bind(workers.loop(i), name(), internalAcceptor);
      }
      return;
    }
    if (!bindToPort) {
      return;
    }
    Workers workers = manager.workers();
    for (int a = 0; a < configuredAddresses.size(); a++) {
      InetSocketAddress address = configuredAddresses.get(a);
      if (address.getPort() == 0 && takeOver != null && takeOver.boundAddresses.size() > a) {
        address = new InetSocketAddress(address.getAddress(), takeOver.boundAddresses.get(a).getPort());
      }
      try {
        if (workers.epoll()) {
          // One SO_REUSEPORT socket per worker, the first one fixing an ephemeral port for the rest.
          for (int i = 0; i < workers.concurrency(); i++) {
            Channel ch = socketOptions.applyTo(serverBootstrap(workers.loop(i), workers.loop(i)), address)
                .option(UnixChannelOption.SO_REUSEPORT, true).bind(address).sync().channel();
            serverChannels.add(ch);
            socketOptions.verify(ch);
            address = (InetSocketAddress) ch.localAddress();
            manager.stats().listenerCreateSuccess.inc();
          }
        } else {
          Channel ch = serverBootstrap(manager.acceptorGroup(), workers.group()).bind(address).sync().channel();
          serverChannels.add(ch);
          address = (InetSocketAddress) ch.localAddress();
          manager.stats().listenerCreateSuccess.add(workers.concurrency());
        }
      } catch (Exception e) {
        manager.stats().listenerCreateFailure.inc();
        closeServerSockets();
        if (e instanceof ConfigException refused) {
          throw refused;
        }
        throw new ConfigException(a == 0 ? "address" : "additional_addresses[" + (a - 1) + "].address", "cannot bind " + address + ": " + e.getMessage(), e);
      }
      boundAddresses.add(address);
    }
  }

  private ServerBootstrap serverBootstrap(EventLoopGroup parent, EventLoopGroup child) {
    int backlog = config.hasTcpBacklogSize() ? config.getTcpBacklogSize().getValue() : DEFAULT_BACKLOG;
    return new ServerBootstrap()
        .group(parent, child)
        .channel(manager.workers().serverChannelClass())
        .option(ChannelOption.SO_REUSEADDR, true)
        .option(ChannelOption.SO_BACKLOG, backlog)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
        // per_connection_buffer_limit_bytes: writes stop being writable above the limit, and one
        // read never takes more than the limit.
        .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(bufferLimit / 2, Math.max(1, bufferLimit)))
        .childOption(ChannelOption.RCVBUF_ALLOCATOR, recvAllocator(bufferLimit))
        .childHandler(
            new ChannelInitializer<Channel>() {
              @Override
              protected void initChannel(Channel ch) {
                accept(ch, io.envoyproxy.envoy.config.core.v3.Metadata.getDefaultInstance());
              }
            });
  }

  private static AdaptiveRecvByteBufAllocator recvAllocator(int limit) {
    int max = Math.max(64, Math.min(limit, 64 * 1024));
    return new AdaptiveRecvByteBufAllocator(64, Math.min(2048, max), max);
  }

  /**
   * An internal connection: the accepting end gets the listener's handlers once registered on the
   * client's loop, and the client's passthrough metadata as dynamic metadata (Istio's
   * {@code set_internal_dst_address} reads its {@code tunnel} namespace).
   */
  private void acceptInternal(InternalChannel server, InternalChannel client) {
    server.pipeline().addLast(new ChannelInitializer<Channel>() {
      @Override
      protected void initChannel(Channel ch) {
        accept(ch, client.passthrough());
      }
    });
  }

  /** An internal connection has no IP address; filters see the unspecified address until one is restored. */
  private static final InetSocketAddress UNSPECIFIED = new InetSocketAddress(com.google.common.net.InetAddresses.forString("0.0.0.0"), 0);

  /** A new socket on its worker loop: limits, then the listener-filter head handler. */
  private void accept(Channel ch, io.envoyproxy.envoy.config.core.v3.Metadata passthrough) {
    if (!config.getIgnoreGlobalConnLimit()) {
      if (!manager.globalLimit().tryAcquire()) {
        stats.downstreamGlobalCxOverflow.inc();
        ch.close();
        return;
      }
      ch.closeFuture().addListener(f -> manager.globalLimit().release());
    }
    int worker = manager.workers().indexOf(ch.eventLoop());
    DownstreamConnection connection =
        new DownstreamConnection(
            manager.nextConnectionId(), worker, ch,
            ch.remoteAddress() instanceof InetSocketAddress r ? r : UNSPECIFIED,
            ch.localAddress() instanceof InetSocketAddress l ? l : UNSPECIFIED, manager.workers());
    connection.bufferLimitBytes = bufferLimit;
    passthrough.getFilterMetadataMap().forEach(connection.streamInfo::setDynamicMetadata);
    ch.pipeline().addLast(new ListenerFilterHandler(this, connection));
  }

  /** A filter chain was chosen: count the connection and track it until it closes. */
  void onConnectionEstablished(DownstreamConnection c) {
    int worker = c.workerIndex;
    stats.downstreamCxTotal.inc();
    stats.downstreamCxActive.inc();
    stats.workerCxTotal[worker].inc();
    stats.workerCxActive[worker].inc();
    c.streamInfo.downstreamLocalAddress = c.localAddress;
    c.streamInfo.requestedServerName = c.serverName;
    Set<Channel> set = connections[worker];
    set.add(c.channel);
    DrainDecision drain = drainDecision;
    if (drain != null) {
      // A connection accepted while the listener drains: told once its filter chain is installed
      // (later in this same task on its loop), or the HTTP codec would never hear of the drain.
      c.channel.eventLoop().execute(() -> c.channel.pipeline().fireUserEventTriggered(new ListenerDrainEvent(drain)));
    }
    long start = System.nanoTime();
    c.channel.closeFuture().addListener(f -> {
      set.remove(c.channel);
      stats.downstreamCxActive.dec();
      stats.workerCxActive[worker].dec();
      stats.downstreamCxDestroy.inc();
      stats.downstreamCxLengthMs.record((System.nanoTime() - start) / 1_000_000);
    });
  }

  /** Stops accepting: closes the server sockets; accepted connections go on. */
  void closeServerSockets() {
    if (internalAddress != null) {
      Workers workers = manager.workers();
      for (int i = 0; i < workers.concurrency(); i++) {
        InternalListeners.unbind(workers.loop(i), name(), internalAcceptor);
      }
    }
    for (Channel ch : serverChannels) {
      ch.close().syncUninterruptibly();
    }
    serverChannels.clear();
  }

  /**
   * Enters draining: tells every open connection ({@link ListenerDrainEvent}, so HTTP can send
   * {@code Connection: close} or GOAWAY) and every later one.
   */
  void startDraining(DrainDecision decision) {
    drainDecision = decision;
    ListenerDrainEvent event = new ListenerDrainEvent(decision);
    forEachConnection(ch -> ch.pipeline().fireUserEventTriggered(event));
  }

  /** The end of the drain time: closes what is still open. */
  void closeConnections() {
    forEachConnection(Channel::close);
  }

  private void forEachConnection(java.util.function.Consumer<Channel> action) {
    Workers workers = manager.workers();
    for (int i = 0; i < connections.length; i++) {
      Set<Channel> set = connections[i];
      workers.loop(i).execute(() -> List.copyOf(set).forEach(action));
    }
  }

  /** Connections open on this listener version now (a sum over workers; for tests and admin). */
  public long activeConnections() {
    Workers workers = manager.workers();
    long total = 0;
    for (int i = 0; i < connections.length; i++) {
      Set<Channel> set = connections[i];
      total += workers.loop(i).submit(set::size).syncUninterruptibly().getNow();
    }
    return total;
  }

  // ---- compilation ----

  /** An internal listener's address: none, or an {@code envoy_internal_address} naming it. */
  private static InternalAddress internalAddress(Listener config) {
    if (config.hasAddress() && !config.getAddress().hasEnvoyInternalAddress()) {
      throw new ConfigException("address", "an internal listener has no socket address");
    }
    if (config.getAdditionalAddressesCount() > 0) {
      throw new ConfigException("additional_addresses", "an internal listener has no additional addresses");
    }
    return new InternalAddress(config.getName(), "");
  }

  private static List<InetSocketAddress> addresses(Listener config) {
    if (!config.hasAddress()) {
      throw new ConfigException("address", "an address is required (internal listeners are not supported)");
    }
    List<InetSocketAddress> list = new ArrayList<>();
    list.add(socketAddress(config.getAddress(), "address"));
    for (int i = 0; i < config.getAdditionalAddressesCount(); i++) {
      list.add(socketAddress(config.getAdditionalAddresses(i).getAddress(), "additional_addresses[" + i + "].address"));
    }
    return List.copyOf(list);
  }

  static InetSocketAddress socketAddress(Address address, String path) {
    if (!address.hasSocketAddress()) {
      throw new ConfigException(path, "only socket_address is supported (pipe and envoy_internal_address are not)");
    }
    SocketAddress sa = address.getSocketAddress();
    if (sa.getProtocol() != SocketAddress.Protocol.TCP) {
      throw new ConfigException(path + ".socket_address.protocol", "only TCP listeners are supported");
    }
    if (sa.getPortSpecifierCase() == SocketAddress.PortSpecifierCase.NAMED_PORT) {
      throw new ConfigException(path + ".socket_address.named_port", "named ports are not supported");
    }
    InetAddress ip;
    try {
      ip = com.google.common.net.InetAddresses.forString(sa.getAddress());
    } catch (IllegalArgumentException e) {
      throw new ConfigException(path + ".socket_address.address", "malformed IP address: " + sa.getAddress());
    }
    // "::" is dual-stack on Linux (the JDK leaves IPV6_V6ONLY off), as Envoy with ipv4_compat.
    return new InetSocketAddress(ip, sa.getPortValue());
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static List<ListenerFilterEntry> compileListenerFilters(Listener config, FactoryContext context) {
    ExtensionRegistry registry = context.extensions();
    List<ListenerFilterEntry> out = new ArrayList<>();
    for (int i = 0; i < config.getListenerFiltersCount(); i++) {
      var lf = config.getListenerFilters(i);
      String path = "listener_filters[" + i + "]";
      if (!lf.hasTypedConfig()) {
        throw new ConfigException(path + ".typed_config", "typed_config is required (config_discovery is not supported)");
      }
      ListenerFilterFactory factory = registry.find(ListenerFilterFactory.class, lf.getTypedConfig(), lf.getName());
      if (factory == null) {
        throw notFound(path + ".typed_config", lf.getName(), lf.getTypedConfig());
      }
      Message message = registry.unpack(factory, lf.getTypedConfig(), path + ".typed_config");
      Supplier<ListenerFilter> supplier;
      try {
        supplier = factory.create(message, context);
      } catch (ConfigException e) {
        throw e.under(path + ".typed_config");
      }
      var disabled = lf.hasFilterDisabled() ? ListenerFilterPredicate.compile(lf.getFilterDisabled(), path + ".filter_disabled") : (java.util.function.Predicate<DownstreamConnection>) c -> false;
      out.add(new ListenerFilterEntry(lf.getName(), supplier, disabled));
    }
    if (config.getUseOriginalDst().getValue() && out.stream().noneMatch(e -> e.name().equals(ORIGINAL_DST))) {
      // Envoy adds the original_dst listener filter itself when use_original_dst is set (Istio's
      // virtualOutbound lists no listener filters): the hand-off needs the restored address.
      Any any = Any.pack(io.envoyproxy.envoy.extensions.filters.listener.original_dst.v3.OriginalDst.getDefaultInstance());
      ListenerFilterFactory factory = registry.find(ListenerFilterFactory.class, any, ORIGINAL_DST);
      if (factory == null) {
        throw new ConfigException("use_original_dst", "the envoy.filters.listener.original_dst extension is not available");
      }
      Message message = registry.unpack(factory, any, "use_original_dst");
      out.add(new ListenerFilterEntry(ORIGINAL_DST, factory.create(message, context), c -> false));
    }
    return List.copyOf(out);
  }

  private static final String ORIGINAL_DST = "envoy.filters.listener.original_dst";

  private static FilterChainMatcher<FilterChain> compileFilterChains(Listener config, FactoryContext context, DownstreamTransportSockets transportSockets) {
    if (config.getFilterChainsCount() == 0 && !config.hasDefaultFilterChain()) {
      throw new ConfigException("filter_chains", "no filter chains specified");
    }
    FilterChainMatcher.Builder<FilterChain> builder = new FilterChainMatcher.Builder<>(config.getName());
    for (int i = 0; i < config.getFilterChainsCount(); i++) {
      var fc = config.getFilterChains(i);
      String path = "filter_chains[" + i + "]";
      builder.add(fc.getFilterChainMatch(), fc.getName(), path, compileChain(fc, path, context, transportSockets));
    }
    if (config.hasDefaultFilterChain()) {
      builder.defaultChain(compileChain(config.getDefaultFilterChain(), "default_filter_chain", context, transportSockets));
    }
    return builder.build();
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static FilterChain compileChain(io.envoyproxy.envoy.config.listener.v3.FilterChain fc, String path, FactoryContext context, DownstreamTransportSockets transportSockets) {
    ExtensionRegistry registry = context.extensions();
    NetworkFilter transport = fc.hasTransportSocket()
        ? transportSockets.compile(fc.getTransportSocket(), context, path + ".transport_socket")
        : DownstreamTransportSockets.RAW_BUFFER;
    List<NetworkFilter> filters = new ArrayList<>();
    for (int j = 0; j < fc.getFiltersCount(); j++) {
      Filter f = fc.getFilters(j);
      String fpath = path + ".filters[" + j + "]";
      if (!f.hasTypedConfig()) {
        throw new ConfigException(fpath + ".typed_config", "typed_config is required (config_discovery is not supported)");
      }
      NetworkFilterFactory factory = registry.find(NetworkFilterFactory.class, f.getTypedConfig(), f.getName());
      if (factory == null) {
        throw notFound(fpath + ".typed_config", f.getName(), f.getTypedConfig());
      }
      boolean last = j == fc.getFiltersCount() - 1;
      if (factory.terminal() && !last) {
        throw new ConfigException(fpath, "terminal filter named " + f.getName() + " of type " + factory.name() + " must be the last filter in a network filter chain.");
      }
      if (!factory.terminal() && last) {
        throw new ConfigException(fpath, "non-terminal filter named " + f.getName() + " of type " + factory.name() + " is the last filter in a network filter chain.");
      }
      Message message = registry.unpack(factory, f.getTypedConfig(), fpath + ".typed_config");
      try {
        filters.add(factory.create(message, context));
      } catch (ConfigException e) {
        throw e.under(fpath + ".typed_config");
      }
    }
    if (filters.isEmpty()) {
      throw new ConfigException(path + ".filters", "a filter chain needs at least one network filter");
    }
    return new FilterChain(fc.getName(), transport, filters);
  }

  private static ConfigException notFound(String path, String name, Any typed) {
    return new ConfigException(path, "Didn't find a registered implementation for '" + name + "' with type URL: '" + typed.getTypeUrl() + "'");
  }
}
