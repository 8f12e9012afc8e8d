package dev.sluice.it.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The HTTP data path across protocols, on real sockets: downstream HTTP/1.1, h2c (prior
 * knowledge), TLS with ALPN h2 and TLS with ALPN http/1.1, each crossed with upstream HTTP/1.1,
 * HTTP/2 (h2c), and both again over TLS (UpstreamTlsContext with the test CA, SNI and a SAN
 * matcher). Clients are curl (a process) and {@code java.net.http.HttpClient}.
 */
class ProtocolMatrixTest {
  private static final MatrixPki PKI = MatrixPki.get();
  private static final int POST_SIZE = 1024 * 1024;
  private static final int GET_SIZE = 256 * 1024;
  private static final String UUID_PATTERN = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

  enum Downstream {
    H1("plain", false, "1.1"),
    H2C("plain", false, "2"),
    TLS_H2("tls", true, "2"),
    TLS_H1("tls", true, "1.1");

    final String listener;
    final boolean tls;
    final String version;

    Downstream(String listener, boolean tls, String version) {
      this.listener = listener;
      this.tls = tls;
      this.version = version;
    }

    String forwardedProto() {
      return tls ? "https" : "http";
    }
  }

  enum Upstream {
    H1("/h1", MatrixBackend.HTTP1, false),
    H2("/h2", MatrixBackend.H2, false),
    H1_TLS("/h1tls", MatrixBackend.HTTP1, true),
    H2_TLS("/h2tls", MatrixBackend.H2, true);

    final String prefix;
    final String protocol;
    final boolean tls;

    Upstream(String prefix, String protocol, boolean tls) {
      this.prefix = prefix;
      this.protocol = protocol;
      this.tls = tls;
    }

    String expectedSni() {
      return tls ? MatrixPki.BACKEND_HOST : "-";
    }
  }

  enum Client { CURL, JAVA }

  /** What a client got: the final status, the protocol version ("1.1", "2"), headers, body, trailers. */
  record Reply(int status, String version, Map<String, List<String>> headers, byte[] body, Map<String, String> trailers) {
    @Nullable String header(String name) {
      List<String> v = headers.get(name);
      return v == null || v.isEmpty() ? null : v.get(0);
    }

    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  static MatrixBackend backend;
  static Server proxy;
  static Path tmp;
  static final Map<Downstream, HttpClient> javaClients = new EnumMap<>(Downstream.class);

  @BeforeAll
  static void start() throws Exception {
    backend = new MatrixBackend(PKI);
    proxy = TestServers.start(config(backend.plainPort(), backend.tlsPort()));
    tmp = Files.createTempDirectory("sluice-matrix");
    Files.write(tmp.resolve("post.bin"), MatrixBackend.pattern(POST_SIZE));
    javaClients.put(Downstream.H1, HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build());
    javaClients.put(Downstream.TLS_H1, HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(PKI.clientContext()).build());
    javaClients.put(Downstream.TLS_H2, HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).sslContext(PKI.clientContext()).build());
  }

  @AfterAll
  static void stop() throws IOException {
    javaClients.values().forEach(HttpClient::close);
    javaClients.clear();
    if (proxy != null) {
      proxy.close();
    }
    if (backend != null) {
      backend.close();
    }
    if (tmp != null) {
      try (Stream<Path> files = Files.list(tmp)) {
        for (Path p : files.toList()) {
          Files.delete(p);
        }
      }
      Files.delete(tmp);
    }
  }

  /** Every (client, downstream, upstream) cell; java.net.http cannot speak h2c with prior knowledge. */
  static Stream<Arguments> cells() {
    List<Arguments> out = new ArrayList<>();
    for (Client c : Client.values()) {
      for (Downstream d : Downstream.values()) {
        if (c == Client.JAVA && d == Downstream.H2C) {
          continue;
        }
        for (Upstream u : Upstream.values()) {
          out.add(Arguments.of(c, d, u));
        }
      }
    }
    return out.stream();
  }

  /** java.net.http has no API for trailers: curl reports them in its header dump. */
  static Stream<Arguments> curlCells() {
    return cells().filter(a -> a.get()[0] == Client.CURL);
  }

  @ParameterizedTest(name = "{0} {1} -> {2}")
  @MethodSource("cells")
  void getCarriesHeadersBothWays(Client client, Downstream down, Upstream up) throws Exception {
    Reply r = send(client, down, up.prefix + "/headers", null);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.version()).isEqualTo(down.version);
    assertThat(r.header("server")).isEqualTo("envoy");
    assertThat(r.header("x-envoy-upstream-service-time")).matches("\\d+");
    Map<String, String> seen = parse(r.text());
    assertThat(seen).containsEntry("x-forwarded-proto", down.forwardedProto())
        .containsEntry("host", authority(client, down))
        .containsEntry("x-seen-protocol", up.protocol)
        .containsEntry("x-seen-sni", up.expectedSni())
        .containsEntry("x-seen-path", "/headers")
        .containsEntry("x-envoy-original-path", up.prefix + "/headers");
    assertThat(seen.get("x-request-id")).matches(UUID_PATTERN);
  }

  @ParameterizedTest(name = "{0} {1} -> {2}")
  @MethodSource("cells")
  void getBodyArrivesIntact(Client client, Downstream down, Upstream up) throws Exception {
    Reply r = send(client, down, up.prefix + "/bytes/" + GET_SIZE, null);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).isEqualTo(MatrixBackend.pattern(GET_SIZE));
  }

  @ParameterizedTest(name = "{0} {1} -> {2}")
  @MethodSource("cells")
  void postOfOneMebibyteIsEchoedByteForByte(Client client, Downstream down, Upstream up) throws Exception {
    Reply r = send(client, down, up.prefix + "/echo", tmp.resolve("post.bin"));
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.version()).isEqualTo(down.version);
    assertThat(r.header("server")).isEqualTo("envoy");
    assertThat(r.body()).hasSize(POST_SIZE).isEqualTo(MatrixBackend.pattern(POST_SIZE));
  }

  @ParameterizedTest(name = "{0} {1} -> {2}")
  @MethodSource("curlCells")
  void responseTrailersReachTheClient(Client client, Downstream down, Upstream up) throws Exception {
    Reply r = send(client, down, up.prefix + "/trailers", null);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).isEqualTo(MatrixBackend.TRAILERS_BODY);
    assertThat(r.trailers()).containsEntry("x-trailer-one", "1").containsEntry("x-trailer-two", "two");
  }

  // ------------------------------------------------------------------ clients

  private static int port(Downstream d) {
    return proxy.listenerPort(d.listener);
  }

  /** curl uses the name {@value MatrixPki#PROXY_HOST} (resolved to 127.0.0.1), java.net.http the address. */
  private static String authority(Client c, Downstream d) {
    return (c == Client.CURL ? MatrixPki.PROXY_HOST : "127.0.0.1") + ":" + port(d);
  }

  private static Reply send(Client c, Downstream d, String path, @Nullable Path body) throws Exception {
    URI uri = URI.create((d.tls ? "https://" : "http://") + authority(c, d) + path);
    return c == Client.CURL ? curl(d, uri, body) : java(d, uri, body);
  }

  private static Reply java(Downstream d, URI uri, @Nullable Path body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(20));
    if (body != null) {
      b.POST(HttpRequest.BodyPublishers.ofFile(body)).header("content-type", "application/octet-stream");
    }
    // The request timeout covers only the wait for headers; bound the body too.
    HttpResponse<byte[]> r = javaClients.get(d).sendAsync(b.build(), HttpResponse.BodyHandlers.ofByteArray()).get(20, TimeUnit.SECONDS);
    Map<String, List<String>> headers = new LinkedHashMap<>(r.headers().map());
    return new Reply(r.statusCode(), r.version() == HttpClient.Version.HTTP_2 ? "2" : "1.1", headers, r.body(), Map.of());
  }

  private static final Object CURL_FILES = new Object();
  private static int curlRun;

  private static Reply curl(Downstream d, URI uri, @Nullable Path body) throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/curl")), "curl is not installed");
    int n;
    synchronized (CURL_FILES) {
      n = ++curlRun;
    }
    Path headersOut = tmp.resolve("h" + n);
    Path bodyOut = tmp.resolve("b" + n);
    List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "20",
        "--resolve", MatrixPki.PROXY_HOST + ":" + uri.getPort() + ":127.0.0.1",
        "-D", headersOut.toString(), "-o", bodyOut.toString(), "-w", "%{http_version}"));
    cmd.add(switch (d) {
      case H1, TLS_H1 -> "--http1.1";
      case H2C -> "--http2-prior-knowledge";
      case TLS_H2 -> "--http2";
    });
    if (d.tls) {
      cmd.addAll(List.of("--cacert", PKI.caCert.toString()));
    }
    if (body != null) {
      cmd.addAll(List.of("--data-binary", "@" + body, "-H", "content-type: application/octet-stream"));
    }
    cmd.add(uri.toString());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    String version = new String(out, StandardCharsets.UTF_8).trim();
    assertThat(p.exitValue()).as("curl %s: %s", uri, version).isZero();
    try {
      return parseCurl(version, Files.readAllLines(headersOut, StandardCharsets.ISO_8859_1), Files.readAllBytes(bodyOut));
    } finally {
      Files.deleteIfExists(headersOut);
      Files.deleteIfExists(bodyOut);
    }
  }

  /** curl's header dump: interim responses (100), the final header block, then any trailers. */
  private static Reply parseCurl(String version, List<String> lines, byte[] body) {
    int start = -1;
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).startsWith("HTTP/")) {
        start = i;
      }
    }
    assertThat(start).as("a status line in %s", lines).isGreaterThanOrEqualTo(0);
    int status = Integer.parseInt(lines.get(start).split(" ")[1]);
    Map<String, List<String>> headers = new LinkedHashMap<>();
    int i = start + 1;
    for (; i < lines.size() && !lines.get(i).isEmpty(); i++) {
      String[] kv = lines.get(i).split(":", 2);
      headers.computeIfAbsent(kv[0].trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>()).add(kv[1].trim());
    }
    Map<String, String> trailers = new LinkedHashMap<>();
    for (i++; i < lines.size(); i++) {
      String[] kv = lines.get(i).split(":", 2);
      if (kv.length == 2) {
        trailers.put(kv[0].trim().toLowerCase(Locale.ROOT), kv[1].trim());
      }
    }
    return new Reply(status, version, headers, body, trailers);
  }

  private static Map<String, String> parse(String lines) {
    Map<String, String> m = new LinkedHashMap<>();
    for (String line : lines.split("\n")) {
      String[] kv = line.split(": ", 2);
      if (kv.length == 2) {
        m.putIfAbsent(kv[0], kv[1]);
      }
    }
    return m;
  }

  // ------------------------------------------------------------------ proxy configuration

  static String config(int plainPort, int tlsPort) {
    String ca = PKI.caCert.toString();
    return """
        admin:
          address: {socket_address: {address: 127.0.0.1, port_value: 0}}
        static_resources:
          clusters:
        %s%s%s%s
          listeners:
          - name: plain
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains:
            - filters:
              - %s
          - name: tls
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains:
            - transport_socket:
                name: envoy.transport_sockets.tls
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                  common_tls_context:
                    alpn_protocols: [h2, http/1.1]
                    tls_certificates:
                    - certificate_chain: {filename: %s}
                      private_key: {filename: %s}
              filters:
              - %s
        """.formatted(
            cluster("up_h1", plainPort, "http_protocol_options: {enable_trailers: true}", null),
            cluster("up_h2", plainPort, "http2_protocol_options: {}", null),
            cluster("up_h1tls", tlsPort, "http_protocol_options: {enable_trailers: true}", ca),
            cluster("up_h2tls", tlsPort, "http2_protocol_options: {}", ca),
            hcm("plain"), PKI.proxyCert, PKI.proxyKey, hcm("tls"));
  }

  private static String cluster(String name, int port, String protocol, @Nullable String tlsCa) {
    String tls = tlsCa == null ? "" : """
            transport_socket:
              name: envoy.transport_sockets.tls
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                sni: %s
                common_tls_context:
                  validation_context:
                    trusted_ca: {filename: %s}
                    match_typed_subject_alt_names:
                    - san_type: DNS
                      matcher: {exact: %s}
        """.formatted(MatrixPki.BACKEND_HOST, tlsCa, MatrixPki.BACKEND_HOST);
    return """
          - name: %s
            type: STATIC
            connect_timeout: 2s
            typed_extension_protocol_options:
              envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                explicit_http_config: {%s}
            load_assignment:
              cluster_name: %s
              endpoints:
              - lb_endpoints:
                - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}
        """.formatted(name, protocol, name, port) + tls;
  }

  private static String hcm(String statPrefix) {
    StringBuilder routes = new StringBuilder();
    for (Upstream u : Upstream.values()) {
      routes.append("                    - match: {prefix: \"%s/\"}\n".formatted(u.prefix))
          .append("                      route: {cluster: up_%s, prefix_rewrite: \"/\"}\n".formatted(u.prefix.substring(1)));
    }
    return """
        name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: %s
                  codec_type: AUTO
                  http_protocol_options: {enable_trailers: true}
                  route_config:
                    name: local
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
        %s          http_filters:
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
        """.formatted(statPrefix, routes);
  }
}
