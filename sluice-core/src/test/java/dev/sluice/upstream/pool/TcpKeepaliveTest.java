package dev.sluice.upstream.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.google.protobuf.UInt32Value;
import dev.sluice.listener.Workers;
import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.ProxyYaml;
import dev.sluice.testing.TestBackend;
import io.envoyproxy.envoy.config.core.v3.TcpKeepalive;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import jdk.net.ExtendedSocketOptions;
import org.junit.jupiter.api.Test;

/** {@code upstream_connection_options.tcp_keepalive} reaches the upstream sockets. */
class TcpKeepaliveTest {
  private static final TcpKeepalive KEEPALIVE = TcpKeepalive.newBuilder()
      .setKeepaliveProbes(UInt32Value.of(4)).setKeepaliveTime(UInt32Value.of(77))
      .setKeepaliveInterval(UInt32Value.of(9)).build();

  private static Channel connect(EventLoopGroup group, Class<? extends Channel> type, int port) {
    return new Bootstrap().group(group).channel(type).handler(new ChannelInitializer<Channel>() {
      @Override
      protected void initChannel(Channel ch) {
        TcpKeepaliveOptions.apply(ch, KEEPALIVE);
      }
    }).connect(new InetSocketAddress("127.0.0.1", port)).syncUninterruptibly().channel();
  }

  @Test
  void epollSocketsGetEachOption() throws IOException {
    assumeThat(Workers.epollAvailable()).as("epoll").isTrue();
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    try (ServerSocket server = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      Channel ch = connect(group, EpollSocketChannel.class, server.getLocalPort());
      assertThat(ch.config().getOption(ChannelOption.SO_KEEPALIVE)).isTrue();
      assertThat(ch.config().getOption(EpollChannelOption.TCP_KEEPCNT)).isEqualTo(4);
      assertThat(ch.config().getOption(EpollChannelOption.TCP_KEEPIDLE)).isEqualTo(77);
      assertThat(ch.config().getOption(EpollChannelOption.TCP_KEEPINTVL)).isEqualTo(9);
      ch.close().syncUninterruptibly();
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  @Test
  void nioSocketsGetEachOption() throws IOException {
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    try (ServerSocket server = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      Channel ch = connect(group, NioSocketChannel.class, server.getLocalPort());
      assertThat(ch.config().getOption(ChannelOption.SO_KEEPALIVE)).isTrue();
      assertThat(ch.config().getOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPCOUNT))).isEqualTo(4);
      assertThat(ch.config().getOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPIDLE))).isEqualTo(77);
      assertThat(ch.config().getOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPINTERVAL))).isEqualTo(9);
      ch.close().syncUninterruptibly();
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  /** Through the proxy: the kernel shows a keep-alive timer of 77 s on the upstream connection. */
  @Test
  void theProxysUpstreamConnectionKeepsAlive() throws Exception {
    assumeThat(new java.io.File("/usr/bin/ss").canExecute() || new java.io.File("/bin/ss").canExecute())
        .as("ss (iproute2)").isTrue();
    try (TestBackend backend = new TestBackend("b");
        Server server = TestServers.start("""
            static_resources:
              clusters:
              - name: c
                type: STATIC
                connect_timeout: 5s
                upstream_connection_options:
                  tcp_keepalive: {keepalive_probes: 4, keepalive_time: 77, keepalive_interval: 9}
                load_assignment:
                  cluster_name: c
                  endpoints:
                  - lb_endpoints:
                    - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}
              listeners:
            %s""".formatted(backend.port(), ProxyYaml.listener("http", "c")))) {
      HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + server.listenerPort("http") + "/")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      // The upstream connection stays open in the pool; its keep-alive timer counts down from 77 s.
      Process ss = new ProcessBuilder("ss", "-tno", "state", "established", "dst", "127.0.0.1:" + backend.port())
          .redirectErrorStream(true).start();
      String out = new String(ss.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(ss.waitFor(10, TimeUnit.SECONDS)).isTrue();
      assertThat(out).containsPattern("timer:\\(keepalive,1min1[0-7]sec");
    }
  }
}
