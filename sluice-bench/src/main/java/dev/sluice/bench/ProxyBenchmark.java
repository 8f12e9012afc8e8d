package dev.sluice.bench;

import dev.sluice.config.BootstrapLoader;
import dev.sluice.config.ProtoTypes;
import dev.sluice.server.Options;
import dev.sluice.server.Server;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
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
 * One HTTP/1.1 keep-alive request through a full in-process Sluice server (listener, connection
 * manager, router, upstream pool) to a loopback backend, the path {@code bench/compare}'s tiny-body
 * case loads. The client and the backend are blocking sockets over pre-built byte arrays, so they
 * allocate almost nothing: with {@code -prof gc}, {@code gc.alloc.rate.norm} is the proxy's
 * allocation per request (target {@code direct} measures the client and backend alone), a figure
 * that load on a shared machine does not move. The time per request includes two loopback
 * round trips and thread hand-offs, so only compare it within one run.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ProxyBenchmark {
  private static final byte[] REQUEST = ("GET /bench HTTP/1.1\r\nHost: bench.local\r\nUser-Agent: wrk/4.1\r\n"
      + "Accept: */*\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
  private static final byte[] RESPONSE = ("HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/plain\r\n"
      + "Content-Length: 2\r\nConnection: keep-alive\r\n\r\nok").getBytes(StandardCharsets.US_ASCII);

  private static final byte[] CONTENT_LENGTH = "\ncontent-length:".getBytes(StandardCharsets.US_ASCII);

  /** {@code sluice}: through the proxy; {@code direct}: to the backend, the harness's own cost. */
  @Param({"sluice", "direct"})
  public String target;

  private CannedBackend backend;
  private Server server;
  private Socket client;
  private OutputStream out;
  private InputStream in;
  private final byte[] buf = new byte[16 * 1024];

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    backend = new CannedBackend();
    int port = backend.port();
    if (target.equals("sluice")) {
      server = startServer(port);
      port = server.listenerPort("bench");
    }
    client = new Socket(InetAddress.getLoopbackAddress(), port);
    client.setTcpNoDelay(true);
    out = client.getOutputStream();
    in = client.getInputStream();
    int n = request();
    String head = new String(buf, 0, n, StandardCharsets.ISO_8859_1);
    if (!head.startsWith("HTTP/1.1 200") || !head.endsWith("ok")) {
      throw new IllegalStateException("unexpected response: " + head);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    client.close();
    if (server != null) {
      server.close();
    }
    backend.close();
  }

  /** One request, one 2-byte response; returns the response's length. */
  @Benchmark
  public int request() throws IOException {
    out.write(REQUEST);
    return readResponse(in, buf);
  }

  private static Server startServer(int backendPort) {
    String yaml = """
        admin:
          address: {socket_address: {address: 127.0.0.1, port_value: 0}}
        static_resources:
          clusters:
          - name: backend
            type: STATIC
            load_assignment:
              cluster_name: backend
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}}]}]
          listeners:
          - name: bench
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: bench
                  route_config:
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                      - match: {prefix: /}
                        route: {cluster: backend}
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
        """.formatted(backendPort);
    var bootstrap = new BootstrapLoader(ProtoTypes.get()).load(null, yaml, false, BootstrapLoader.NodeOverrides.NONE);
    Options d = Options.defaults(null);
    Options options = new Options(null, null, 1, d.logLevel(), Map.of(), null, null, Duration.ofSeconds(1),
        d.drainStrategy(), d.parentShutdownTime(), d.localAddressIpVersion(),
        d.fileFlushInterval(), false, false, null, null, null, 0, Options.Mode.SERVE, List.of());
    return new Server(options, bootstrap).start().awaitLive(Duration.ofSeconds(60));
  }

  /** Reads one response with a Content-Length body into {@code buf}; returns its length. */
  static int readResponse(InputStream in, byte[] buf) throws IOException {
    int n = 0;
    int headEnd = -1;
    int total = -1;
    while (total < 0 || n < total) {
      int r = in.read(buf, n, buf.length - n);
      if (r < 0) {
        throw new IOException("connection closed after " + n + " bytes");
      }
      n += r;
      if (headEnd < 0) {
        headEnd = headEnd(buf, n);
        if (headEnd >= 0) {
          total = headEnd + contentLength(buf, headEnd);
        }
      }
    }
    return n;
  }

  private static int headEnd(byte[] b, int n) {
    for (int i = 3; i < n; i++) {
      if (b[i] == '\n' && b[i - 1] == '\r' && b[i - 2] == '\n' && b[i - 3] == '\r') {
        return i + 1;
      }
    }
    return -1;
  }

  /** The Content-Length value (case-insensitive name) in the head {@code b[0, end)}. */
  private static int contentLength(byte[] b, int end) {
    byte[] name = CONTENT_LENGTH;
    outer:
    for (int i = 0; i + name.length < end; i++) {
      for (int j = 0; j < name.length; j++) {
        if (Character.toLowerCase(b[i + j]) != name[j]) {
          continue outer;
        }
      }
      int v = 0;
      for (int k = i + name.length; k < end && b[k] != '\r'; k++) {
        if (b[k] >= '0' && b[k] <= '9') {
          v = v * 10 + (b[k] - '0');
        }
      }
      return v;
    }
    throw new IllegalStateException("no content-length");
  }

  /** A one-connection-at-a-time backend answering every GET with the same 2-byte response. */
  private static final class CannedBackend implements AutoCloseable {
    private final ServerSocket listen = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    private final Thread thread = Thread.ofPlatform().daemon().name("bench-backend").start(this::serve);

    CannedBackend() throws IOException {}

    int port() {
      return listen.getLocalPort();
    }

    private void serve() {
      byte[] b = new byte[16 * 1024];
      while (!listen.isClosed()) {
        try (Socket s = listen.accept()) {
          s.setTcpNoDelay(true);
          InputStream i = s.getInputStream();
          OutputStream o = s.getOutputStream();
          int n = 0;
          while (true) {
            int r = i.read(b, n, b.length - n);
            if (r < 0) {
              break;
            }
            n += r;
            int end;
            while ((end = headEnd(b, n)) >= 0) { // GET requests: no body
              o.write(RESPONSE);
              System.arraycopy(b, end, b, 0, n - end);
              n -= end;
            }
          }
        } catch (IOException e) {
          // The client or the proxy closed the connection: accept the next one.
        }
      }
    }

    @Override
    public void close() throws IOException {
      listen.close();
      thread.interrupt();
    }
  }
}
