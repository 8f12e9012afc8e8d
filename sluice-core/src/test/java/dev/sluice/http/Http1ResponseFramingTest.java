package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.ProxyHarness;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequestDecoder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Response framing written by {@link Http1ServerConnection} (RFC 9110 6.4.1, 8.6, 9.3.2; RFC 9112
 * 6, 7, 9.6), end to end: a raw client through the proxy to an upstream that answers each path
 * with fixed bytes. A response that must have no body is followed by a second request on the same
 * connection, whose status line must come next: any stray body byte would break it.
 */
class Http1ResponseFramingTest {
  /** What the upstream writes for each request path, byte for byte. */
  private static final Map<String, String> ANSWERS = Map.ofEntries(
      Map.entry("/ok", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
      Map.entry("/len5", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\n"),
      Map.entry("/head-chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
      Map.entry("/204", "HTTP/1.1 204 No Content\r\nX-A: 1\r\nContent-Length: 0\r\n\r\n"),
      Map.entry("/304", "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nContent-Length: 10\r\n\r\n"),
      Map.entry("/205", "HTTP/1.1 205 Reset Content\r\nContent-Length: 0\r\n\r\n"),
      Map.entry("/interim", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
          + "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal"),
      Map.entry("/trailers", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: x-checksum\r\n\r\n"
          + "5\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n"),
      Map.entry("/chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
      Map.entry("/bad-status", "HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n"),
      Map.entry("/hop", "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Hop\r\nKeep-Alive: timeout=5\r\n"
          + "Proxy-Connection: keep-alive\r\nContent-Length: 2\r\n\r\nok"));
  /** Paths answered without a length: the body ends when the upstream closes. */
  private static final String CLOSE_DELIMITED = "/until-close";

  static EventLoopGroup group;
  static Channel upstream;
  static final ConcurrentLinkedQueue<String> seen = new ConcurrentLinkedQueue<>();
  static ProxyHarness proxy;
  static int port;

  @BeforeAll
  static void start() throws Exception {
    group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    upstream = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            // Requests are parsed; responses are written as the raw bytes above (no encoder).
            ch.pipeline().addLast(new HttpRequestDecoder(), new HttpObjectAggregator(1 << 16), new Answer());
          }
        })
        .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    proxy = new ProxyHarness(1, List.of(
        ProxyHarness.staticCluster("raw", "", ((InetSocketAddress) upstream.localAddress()).getPort())));
    port = proxy.addListener(ProxyHarness.httpListener("framing", """
        stat_prefix: framing
        http_protocol_options: {accept_http_10: true}
        http_filters:
        - name: envoy.filters.http.router
          typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
        route_config:
          name: local
          virtual_hosts:
          - name: all
            domains: ["*"]
            routes:
            - match: {prefix: /direct}
              direct_response: {status: 200, body: {inline_string: hello}}
            - match: {prefix: /}
              route: {cluster: raw}
        """));
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
    upstream.close().sync();
    group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).sync();
  }

  private static final class Answer extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      seen.add(req.method() + " " + req.uri());
      if (req.uri().equals(CLOSE_DELIMITED)) {
        ctx.writeAndFlush(Unpooled.copiedBuffer("HTTP/1.1 200 OK\r\n\r\nto the end", StandardCharsets.ISO_8859_1))
            .addListener(ChannelFutureListener.CLOSE);
        return;
      }
      String answer = ANSWERS.getOrDefault(req.uri(), "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
      ctx.writeAndFlush(Unpooled.copiedBuffer(answer, StandardCharsets.ISO_8859_1));
    }
  }

  /** A response head as received: status line and fields (names lower-cased) in order. */
  record Head(String statusLine, List<Map.Entry<String, String>> fields) {
    int status() {
      return Integer.parseInt(statusLine.split(" ")[1]);
    }

    List<String> all(String name) {
      return fields.stream().filter(e -> e.getKey().equals(name)).map(Map.Entry::getValue).toList();
    }

    String one(String name) {
      List<String> v = all(name);
      assertThat(v).as(name).hasSize(1);
      return v.get(0);
    }
  }

  /** A client on one connection, reading bytes exactly as they come. */
  private static final class Client implements AutoCloseable {
    final Socket socket;
    final InputStream in;

    Client() throws IOException {
      socket = new Socket(InetAddress.getLoopbackAddress(), port);
      socket.setSoTimeout(5_000);
      in = socket.getInputStream();
    }

    void send(String request) throws IOException {
      socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      socket.getOutputStream().flush();
    }

    String line() throws IOException {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      for (int c; (c = in.read()) >= 0; ) {
        if (c == '\n') {
          String s = b.toString(StandardCharsets.ISO_8859_1);
          assertThat(s).as("line ending").endsWith("\r");
          return s.substring(0, s.length() - 1);
        }
        b.write(c);
      }
      throw new IOException("closed after " + b.toString(StandardCharsets.ISO_8859_1));
    }

    Head head() throws IOException {
      String status = line();
      assertThat(status).startsWith("HTTP/1.");
      List<Map.Entry<String, String>> fields = new ArrayList<>();
      for (String l = line(); !l.isEmpty(); l = line()) {
        int colon = l.indexOf(':');
        fields.add(Map.entry(l.substring(0, colon).toLowerCase(Locale.ROOT), l.substring(colon + 1).strip()));
      }
      return new Head(status, fields);
    }

    String body(int length) throws IOException {
      return new String(in.readNBytes(length), StandardCharsets.ISO_8859_1);
    }

    /** A chunked body (RFC 9112 7.1): the data, then the trailer section as "name: value" lines. */
    List<String> chunked() throws IOException {
      StringBuilder data = new StringBuilder();
      for (int size = Integer.parseInt(line(), 16); size > 0; size = Integer.parseInt(line(), 16)) {
        data.append(body(size));
        assertThat(line()).isEmpty();
      }
      List<String> out = new ArrayList<>();
      out.add(data.toString());
      for (String l = line(); !l.isEmpty(); l = line()) {
        out.add(l);
      }
      return out;
    }

    String toEnd() throws IOException {
      return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
    }

    boolean closedByPeer() throws IOException {
      try {
        return in.read() < 0;
      } catch (SocketTimeoutException e) {
        return false;
      }
    }

    /** The connection is still usable and holds no stray bytes: the next response starts at once. */
    void assertNextRequestWorks() throws IOException {
      send("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
      Head h = head();
      assertThat(h.statusLine()).isEqualTo("HTTP/1.1 200 OK");
      assertThat(body(Integer.parseInt(h.one("content-length")))).isEqualTo("ok");
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  @Test
  void headResponseKeepsContentLengthAndHasNoBody() throws Exception {
    try (Client c = new Client()) {
      c.send("HEAD /len5 HTTP/1.1\r\nHost: x\r\n\r\n");
      Head h = c.head();
      assertThat(h.status()).isEqualTo(200);
      assertThat(h.one("content-length")).isEqualTo("5");
      assertThat(h.all("transfer-encoding")).isEmpty();
      c.assertNextRequestWorks();
    }
    assertThat(seen).contains("HEAD /len5");
  }

  @Test
  void headResponseToAChunkedResourceHasNoBody() throws Exception {
    try (Client c = new Client()) {
      c.send("HEAD /head-chunked HTTP/1.1\r\nHost: x\r\n\r\n");
      Head h = c.head();
      assertThat(h.status()).isEqualTo(200);
      assertThat(h.all("content-length")).isEmpty();
      c.assertNextRequestWorks();
    }
  }

  @Test
  void headToALocalReplyStatesTheLengthWithoutTheBody() throws Exception {
    try (Client c = new Client()) {
      c.send("HEAD /direct HTTP/1.1\r\nHost: x\r\n\r\n");
      Head h = c.head();
      assertThat(h.status()).isEqualTo(200);
      assertThat(h.one("content-length")).isEqualTo("5");
      c.assertNextRequestWorks();
    }
  }

  @Test
  void noContentHasNeitherLengthNorTransferEncoding() throws Exception {
    try (Client c = new Client()) {
      c.send("GET /204 HTTP/1.1\r\nHost: x\r\n\r\n");
      Head h = c.head();
      assertThat(h.statusLine()).isEqualTo("HTTP/1.1 204 No Content");
      assertThat(h.one("x-a")).isEqualTo("1");
      // RFC 9110 8.6: no Content-Length in a 204.
      assertThat(h.all("content-length")).isEmpty();
      assertThat(h.all("transfer-encoding")).isEmpty();
      c.assertNextRequestWorks();
    }
  }

  @Test
  void notModifiedHasNoBodyAndMayStateTheSelectedLength() throws Exception {
    try (Client c = new Client()) {
      c.send("GET /304 HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"v1\"\r\n\r\n");
      Head h = c.head();
      assertThat(h.status()).isEqualTo(304);
      assertThat(h.one("etag")).isEqualTo("\"v1\"");
      // RFC 9110 8.6: a 304 may carry the length the 200 would have had; the body is never sent.
      assertThat(h.all("content-length")).containsExactly("10");
      assertThat(h.all("transfer-encoding")).isEmpty();
      c.assertNextRequestWorks();
    }
  }

  @Test
  void resetContentStatesAZeroLength() throws Exception {
    try (Client c = new Client()) {
      c.send("GET /205 HTTP/1.1\r\nHost: x\r\n\r\n");
      Head h = c.head();
      assertThat(h.status()).isEqualTo(205);
      assertThat(h.all("content-length")).containsExactly("0");
      assertThat(h.all("transfer-encoding")).isEmpty();
      c.assertNextRequestWorks();
    }
  }

  @Test
  void interimResponsesFromUpstreamAreAbsorbedAndTheFinalOneForwarded() throws Exception {
    try (Client c = new Client()) {
      c.send("GET /interim HTTP/1.1\r\nHost: x\r\n\r\n");
      Head h = c.head();
      // Envoy without proxy_100_continue: interim responses stop at the proxy.
      assertThat(h.statusLine()).isEqualTo("HTTP/1.1 200 OK");
      assertThat(h.all("link")).isEmpty();
      assertThat(c.body(Integer.parseInt(h.one("content-length")))).isEqualTo("final");
      c.assertNextRequestWorks();
    }
  }

  @Test
  void chunkedTrailersAreForwarded() throws Exception {
    try (Client c = new Client()) {
      c.send("GET /trailers HTTP/1.1\r\nHost: x\r\nTE: trailers\r\n\r\n");
      Head h = c.head();
      assertThat(h.status()).isEqualTo(200);
      assertThat(h.one("transfer-encoding")).isEqualTo("chunked");
      assertThat(h.all("content-length")).isEmpty();
      assertThat(c.chunked()).containsExactly("hello world", "x-checksum: abc", "x-other: 1");
      c.assertNextRequestWorks();
    }
  }

  @Test
  void chunkedWithoutTrailersEndsWithTheLastChunk() throws Exception {
    try (Client c = new Client()) {
      c.send("GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n");
      Head h = c.head();
      assertThat(h.one("transfer-encoding")).isEqualTo("chunked");
      assertThat(c.chunked()).containsExactly("hello");
      c.assertNextRequestWorks();
    }
  }

  @Test
  void aCloseDelimitedUpstreamBodyIsChunkedToAnHttp11Client() throws Exception {
    try (Client c = new Client()) {
      c.send("GET " + CLOSE_DELIMITED + " HTTP/1.1\r\nHost: x\r\n\r\n");
      Head h = c.head();
      assertThat(h.status()).isEqualTo(200);
      assertThat(h.one("transfer-encoding")).isEqualTo("chunked");
      assertThat(c.chunked()).containsExactly("to the end");
      c.assertNextRequestWorks();
    }
  }

  @Test
  void aStatusCodeOfMoreThanThreeDigitsIsAnUpstreamProtocolError() throws Exception {
    long before = proxy.counter("cluster.raw.upstream_cx_protocol_error");
    try (Client c = new Client()) {
      c.send("GET /bad-status HTTP/1.1\r\nHost: x\r\n\r\n");
      Head h = c.head();
      assertThat(h.status()).isBetween(502, 503);
      c.body(Integer.parseInt(h.one("content-length")));
      c.assertNextRequestWorks();
    }
    assertThat(proxy.counter("cluster.raw.upstream_cx_protocol_error")).isEqualTo(before + 1);
  }

  @Test
  void hopByHopFieldsOfTheUpstreamAreNotForwarded() throws Exception {
    try (Client c = new Client()) {
      c.send("GET /hop HTTP/1.1\r\nHost: x\r\n\r\n");
      Head h = c.head();
      assertThat(h.status()).isEqualTo(200);
      assertThat(h.all("connection")).isEmpty();
      assertThat(h.all("keep-alive")).isEmpty();
      assertThat(h.all("proxy-connection")).isEmpty();
      assertThat(c.body(2)).isEqualTo("ok");
      c.assertNextRequestWorks();
    }
  }

  @Test
  void connectionCloseFromTheClientIsAnsweredAndTheConnectionClosed() throws Exception {
    try (Client c = new Client()) {
      c.send("GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      Head h = c.head();
      assertThat(h.all("connection")).containsExactly("close");
      assertThat(c.body(2)).isEqualTo("ok");
      assertThat(c.closedByPeer()).isTrue();
    }
  }

  @Test
  void http10ClientWithKeepAliveGetsKeepAlive() throws Exception {
    try (Client c = new Client()) {
      c.send("GET /ok HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n");
      Head h = c.head();
      assertThat(h.statusLine()).startsWith("HTTP/1.0 200");
      assertThat(h.all("connection")).containsExactly("keep-alive");
      assertThat(c.body(Integer.parseInt(h.one("content-length")))).isEqualTo("ok");
      c.send("GET /ok HTTP/1.0\r\nHost: x\r\n\r\n");
      h = c.head();
      assertThat(h.all("connection")).containsExactly("close");
      assertThat(c.body(2)).isEqualTo("ok");
      assertThat(c.closedByPeer()).isTrue();
    }
  }

  @Test
  void http10ClientGetsAnUnchunkedBodyEndedByClose() throws Exception {
    try (Client c = new Client()) {
      c.send("GET /chunked HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n");
      Head h = c.head();
      assertThat(h.statusLine()).startsWith("HTTP/1.0 200");
      // RFC 9112 7.1: no chunked coding to an HTTP/1.0 recipient; the close ends the body.
      assertThat(h.all("transfer-encoding")).isEmpty();
      assertThat(h.all("connection")).containsExactly("close");
      assertThat(c.toEnd()).isEqualTo("hello");
    }
  }
}
