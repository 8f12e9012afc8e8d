package dev.sluice.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.BytesValue;
import dev.sluice.listener.Workers;
import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.GrpcMethods;
import dev.sluice.testing.ProxyYaml;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * STATIC clusters with {@code address.pipe} endpoints (Istio's {@code xds-grpc} and
 * {@code sds-grpc}): gRPC over HTTP/2 through the proxy to a backend on a real Unix domain socket,
 * both a filesystem path and a Linux abstract name ({@code @name}).
 */
class PipeUpstreamIntegrationTest {
  static final MethodDescriptor<BytesValue, BytesValue> ECHO =
      GrpcMethods.method("sluice.test.Echo", "Echo", MethodDescriptor.MethodType.UNARY, BytesValue.getDefaultInstance());

  @TempDir Path dir;
  private final List<io.grpc.Server> backends = new ArrayList<>();
  private final List<ManagedChannel> channels = new ArrayList<>();
  private EventLoopGroup group;

  @BeforeEach
  void epoll() {
    assumeThat(Epoll.isAvailable()).as("epoll (Unix domain sockets)").isTrue();
    assumeThat(Workers.epollAvailable()).isTrue();
    group = new EpollEventLoopGroup(1);
  }

  @AfterEach
  void stop() throws InterruptedException {
    channels.forEach(ManagedChannel::shutdownNow);
    for (io.grpc.Server b : backends) {
      b.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (group != null) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  /** A gRPC echo server on the Unix socket {@code path} (a leading NUL: an abstract name). */
  private void backend(String path, String tag) throws Exception {
    ServerServiceDefinition echo = ServerServiceDefinition.builder("sluice.test.Echo")
        .addMethod(ECHO, ServerCalls.asyncUnaryCall((BytesValue req, io.grpc.stub.StreamObserver<BytesValue> out) -> {
          out.onNext(BytesValue.of(ByteString.copyFromUtf8(tag + ":").concat(req.getValue())));
          out.onCompleted();
        }))
        .build();
    backends.add(NettyServerBuilder.forAddress(new DomainSocketAddress(path))
        .channelType(EpollServerDomainSocketChannel.class)
        .bossEventLoopGroup(group)
        .workerEventLoopGroup(group)
        .addService(echo)
        .build()
        .start());
  }

  private String echo(int port, String text) {
    ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    channels.add(channel);
    BytesValue reply = ClientCalls.blockingUnaryCall(channel, ECHO,
        CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), BytesValue.of(ByteString.copyFromUtf8(text)));
    return reply.getValue().toStringUtf8();
  }

  private static String pipeCluster(String name, String path) {
    return """
          - name: %s
            type: STATIC
            connect_timeout: 1s
            typed_extension_protocol_options:
              envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                explicit_http_config: {http2_protocol_options: {}}
            load_assignment:
              cluster_name: %s
              endpoints: [{lb_endpoints: [{endpoint: {address: {pipe: {path: "%s"}}}}]}]
        """.formatted(name, name, path);
  }

  @Test
  void grpcReachesABackendOnAUnixSocketThroughAPipeCluster() throws Exception {
    String path = dir.resolve("grpc.sock").toString();
    String abstractName = "sluice-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
    backend(path, "file");
    backend("\0" + abstractName, "abstract");
    String yaml = """
        admin:
          address: {socket_address: {address: 127.0.0.1, port_value: 0}}
        static_resources:
          clusters:
        %s%s  listeners:
        %s%s""".formatted(pipeCluster("uds", path), pipeCluster("abstract", "@" + abstractName),
        ProxyYaml.listener("to_file", "uds"), ProxyYaml.listener("to_abstract", "abstract"));
    try (Server server = TestServers.start(yaml)) {
      assertThat(echo(server.listenerPort("to_file"), "hello")).isEqualTo("file:hello");
      assertThat(echo(server.listenerPort("to_file"), "again")).isEqualTo("file:again");
      assertThat(echo(server.listenerPort("to_abstract"), "hi")).isEqualTo("abstract:hi");

      // Envoy prints a pipe host as its path (@name for an abstract one).
      HttpClient http = HttpClient.newHttpClient();
      String clusters = http.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + server.adminPort() + "/clusters")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      assertThat(clusters).contains("uds::" + path + "::cx_total::1\n")
          .contains("uds::" + path + "::rq_success::2\n")
          .contains("abstract::@" + abstractName + "::cx_total::1\n");
      String json = http.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + server.adminPort() + "/clusters?format=json")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      assertThat(json).contains("\"pipe\": {\n").contains("\"path\": \"" + path + "\"");
      assertThat(server.stats().counter("cluster.uds.upstream_cx_total").value()).isEqualTo(1);
    }
  }

  /**
   * gRPC's unary response is HEADERS, DATA, then trailers: the DATA frame must leave at once (it
   * waited in the HTTP/2 flow controller until the client sent something else).
   */
  @Test
  void grpcResponseDataIsFlushedOverTcpToo() throws Exception {
    ServerServiceDefinition echo = ServerServiceDefinition.builder("sluice.test.Echo")
        .addMethod(ECHO, ServerCalls.asyncUnaryCall((BytesValue req, io.grpc.stub.StreamObserver<BytesValue> out) -> {
          out.onNext(req);
          out.onCompleted();
        }))
        .build();
    io.grpc.Server tcp = NettyServerBuilder.forAddress(new java.net.InetSocketAddress("127.0.0.1", 0))
        .bossEventLoopGroup(group).workerEventLoopGroup(group)
        .channelType(io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerSocketChannel.class)
        .addService(echo).build().start();
    backends.add(tcp);
    String yaml = pipeCluster("tcp", "unused").replace("{pipe: {path: \"unused\"}}",
        "{socket_address: {address: 127.0.0.1, port_value: " + tcp.getPort() + "}}");
    try (Server server = TestServers.start("static_resources:\n  clusters:\n" + yaml + "  listeners:\n"
        + ProxyYaml.listener("l", "tcp"))) {
      assertThat(echo(server.listenerPort("l"), "hello")).isEqualTo("hello");
    }
  }

  @Test
  void aMissingSocketIsAConnectFailure() throws Exception {
    String yaml = """
        static_resources:
          clusters:
        %s  listeners:
        %s""".formatted(pipeCluster("uds", dir.resolve("absent.sock").toString()), ProxyYaml.listener("l", "uds"));
    try (Server server = TestServers.start(yaml)) {
      HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + server.listenerPort("l") + "/")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(503);
      assertThat(server.stats().counter("cluster.uds.upstream_cx_connect_fail").value()).isEqualTo(1);
    }
  }
}
