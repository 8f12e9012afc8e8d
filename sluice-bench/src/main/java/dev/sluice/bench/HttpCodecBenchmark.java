package dev.sluice.bench;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.sluice.api.network.DownstreamConnection;
import dev.sluice.api.network.NetworkFilter;
import dev.sluice.extensions.filters.network.http_connection_manager.HttpConnectionManagerFactory;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersEncoder;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One request through the real HTTP connection manager on a Netty {@link EmbeddedChannel}: the
 * HTTP/1.1 or HTTP/2 codec parses it, the stream bridge turns it into Sluice's stream model, the
 * router answers from a {@code direct_response} route, and the codec encodes the response. No
 * sockets and no upstream, so the number is the proxy's per-request codec and HCM cost.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class HttpCodecBenchmark {
  @Param({"http1", "http2"})
  public String protocol;

  /** Response body bytes (the direct_response body). */
  @Param({"2", "16384"})
  public int responseBytes;

  private BenchFactoryContext context;
  private EmbeddedChannel channel;
  private byte[] request;
  private int nextStreamId = 1;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    context = new BenchFactoryContext();
    String body = "x".repeat(responseBytes);
    String json = """
        {"stat_prefix": "bench", "codec_type": "%s",
         "http_filters": [{"name": "envoy.filters.http.router",
           "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}],
         "route_config": {"name": "bench", "virtual_hosts": [{"name": "bench", "domains": ["*"],
           "routes": [{"match": {"prefix": "/"},
             "direct_response": {"status": 200, "body": {"inline_string": "%s"}}}]}]}}
        """.formatted(protocol.equals("http2") ? "HTTP2" : "HTTP1", body);
    HttpConnectionManager proto = parse(json);
    NetworkFilter hcm = new HttpConnectionManagerFactory().create(proto, context);
    channel = new EmbeddedChannel();
    InetSocketAddress local = new InetSocketAddress("127.0.0.1", 10000);
    InetSocketAddress remote = new InetSocketAddress("127.0.0.1", 40000);
    hcm.install(new DownstreamConnection(1, 0, channel, remote, local, loop -> {
      throw new UnsupportedOperationException("direct_response routes open no upstream");
    }));
    if (protocol.equals("http2")) {
      ByteBuf open = Unpooled.buffer();
      open.writeBytes(Http2CodecUtil.connectionPrefaceBuf());
      frameHeader(open, 0, 0x4, 0, 0); // empty SETTINGS
      frameHeader(open, 0, 0x4, 0x1, 0); // ACK of the server's SETTINGS
      channel.writeInbound(open);
      drain();
      request = h2Request();
    } else {
      request = ("GET /api/v1/items?id=42 HTTP/1.1\r\nHost: bench.local\r\nUser-Agent: wrk/4.1\r\n"
          + "Accept: */*\r\nX-Request-Id: 5d2f6c1e-0c7e-4c8e-9a57-2b6f4f7b1c11\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    }
    // Fail fast if the harness does not produce a 200 response: a benchmark of errors is worthless.
    String first = exchangeToString();
    if (!(first.startsWith("HTTP/1.1 200") || protocol.equals("http2") && first.length() > responseBytes)) {
      throw new IllegalStateException("unexpected response: " + first);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    channel.finishAndReleaseAll();
    context.close();
  }

  /** One request in, one response out; returns the response bytes written. */
  @Benchmark
  public int request() {
    channel.writeInbound(nextRequest());
    return drain();
  }

  private ByteBuf nextRequest() {
    if (!protocol.equals("http2")) {
      return Unpooled.wrappedBuffer(request);
    }
    ByteBuf in = Unpooled.copiedBuffer(request);
    in.setInt(5, nextStreamId);
    nextStreamId += 2;
    return in;
  }

  private String exchangeToString() {
    channel.writeInbound(nextRequest());
    channel.runPendingTasks();
    StringBuilder out = new StringBuilder();
    Object o;
    while ((o = channel.readOutbound()) != null) {
      if (o instanceof ByteBuf b) {
        out.append(b.toString(StandardCharsets.ISO_8859_1));
      }
      ReferenceCountUtil.release(o);
    }
    return out.toString();
  }

  private int drain() {
    channel.runPendingTasks();
    int bytes = 0;
    Object o;
    while ((o = channel.readOutbound()) != null) {
      if (o instanceof ByteBuf b) {
        bytes += b.readableBytes();
      }
      ReferenceCountUtil.release(o);
    }
    return bytes;
  }

  /**
   * A HEADERS frame (END_STREAM, END_HEADERS) for stream 1, its HPACK block without dynamic-table
   * entries so the same bytes stay valid for every stream, followed by a connection WINDOW_UPDATE
   * returning the response body's bytes, as a client reading the response would.
   */
  private byte[] h2Request() throws Http2Exception {
    Http2Headers headers = new DefaultHttp2Headers()
        .method("GET").scheme("http").authority("bench.local").path("/api/v1/items?id=42")
        .add("user-agent", "h2load nghttp2/1.52.0").add("accept", "*/*")
        .add("x-request-id", "5d2f6c1e-0c7e-4c8e-9a57-2b6f4f7b1c11");
    ByteBuf block = Unpooled.buffer();
    new DefaultHttp2HeadersEncoder(Http2HeadersEncoder.ALWAYS_SENSITIVE).encodeHeaders(1, headers, block);
    ByteBuf frame = Unpooled.buffer();
    frameHeader(frame, block.readableBytes(), 0x1, 0x5, 1);
    frame.writeBytes(block);
    if (responseBytes > 0) {
      frameHeader(frame, 4, 0x8, 0, 0);
      frame.writeInt(responseBytes);
    }
    byte[] bytes = ByteBufUtil.getBytes(frame);
    block.release();
    frame.release();
    return bytes;
  }

  private static void frameHeader(ByteBuf out, int length, int type, int flags, int streamId) {
    out.writeMedium(length);
    out.writeByte(type);
    out.writeByte(flags);
    out.writeInt(streamId);
  }

  private static HttpConnectionManager parse(String json) throws InvalidProtocolBufferException {
    HttpConnectionManager.Builder b = HttpConnectionManager.newBuilder();
    JsonFormat.parser()
        .usingTypeRegistry(JsonFormat.TypeRegistry.newBuilder().add(Router.getDescriptor()).build())
        .merge(json, b);
    return b.build();
  }
}
