package dev.sluice.extensions.filters.http.compressor;

import static org.assertj.core.api.Assertions.assertThat;

import com.aayushatharva.brotli4j.decoder.Decoder;
import com.github.luben.zstd.ZstdInputStream;
import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.ProxyYaml;
import dev.sluice.testing.TestBackend;
import io.netty.handler.codec.http.FullHttpRequest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The compressor filters as Istio's stats listener configures them (brotli, zstd, gzip), through a
 * full server to a real backend: curl {@code --compressed} over HTTP/1.1 and HTTP/2 to HTTP/1 and
 * HTTP/2 upstreams, java.net.http with explicit codings, the skip rules, per-route disabling,
 * request compression, and the stats.
 */
class CompressorIntegrationTest {
  private static final String BODY_PATH = "/bytes/5000";
  private static TestBackend backend;
  private static Server server;
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  @TempDir static Path dir;

  private static String compressor(String name, String type, String lib, String extra) {
    return """
                  - name: envoy.filters.http.compressor.%s
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor
                      compressor_library:
                        name: stats_%s
                        typed_config: {"@type": type.googleapis.com/envoy.extensions.compression.%s.compressor.v3.%s}
                      %s
        """.formatted(name, name, name, type, extra.isEmpty() ? "response_direction_config: {common_config: {content_type: [text/plain, application/json]}}" : extra)
        .replace("envoy.compression." + name + ".", "envoy.compression." + lib + ".");
  }

  private static String listener(String name, String filters) {
    return ProxyYaml.hcmListener(name, name, """
                  route_config:
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                      - match: {prefix: /nocompress}
                        route: {cluster: h1, prefix_rewrite: %s}
                        typed_per_filter_config:
                          envoy.filters.http.compressor.brotli: {"@type": type.googleapis.com/envoy.extensions.filters.http.compressor.v3.CompressorPerRoute, disabled: true}
                          envoy.filters.http.compressor.zstd: {"@type": type.googleapis.com/envoy.extensions.filters.http.compressor.v3.CompressorPerRoute, disabled: true}
                          envoy.filters.http.compressor.gzip: {"@type": type.googleapis.com/envoy.extensions.filters.http.compressor.v3.CompressorPerRoute, disabled: true}
                      - match: {prefix: /, headers: [{name: x-upstream, string_match: {exact: h2}}]}
                        route: {cluster: h2}
                      - match: {prefix: /}
                        route: {cluster: h1}
                  http_filters:
                  """.formatted(BODY_PATH)) + filters + """
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
        """;
  }

  @BeforeAll
  static void start() throws Exception {
    backend = new TestBackend("b");
    String cluster = """
          - name: %s
            type: STATIC
            %s
            load_assignment:
              cluster_name: %s
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}}]}]
        """;
    String istio = compressor("brotli", "Brotli", "brotli", "") + compressor("zstd", "Zstd", "zstd", "")
        + compressor("gzip", "Gzip", "gzip", "");
    String requestOnly = compressor("gzip", "Gzip", "gzip", """
        request_direction_config: {common_config: {min_content_length: 100}}
                      response_direction_config: {common_config: {enabled: {default_value: false, runtime_key: off}}}""");
    server = TestServers.start("""
        admin:
          address: {socket_address: {address: 127.0.0.1, port_value: 0}}
        static_resources:
          clusters:
        %s%s  listeners:
        %s%s""".formatted(
        cluster.formatted("h1", "", "h1", backend.port()),
        cluster.formatted("h2", "typed_extension_protocol_options: {envoy.extensions.upstreams.http.v3.HttpProtocolOptions: {\"@type\": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions, explicit_http_config: {http2_protocol_options: {}}}}", "h2", backend.port()),
        listener("stats", istio), listener("upload", requestOnly)));
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
    if (backend != null) {
      backend.close();
    }
  }

  private static String expectedBody(int n) {
    StringBuilder sb = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      sb.append((char) ('a' + i % 26));
    }
    return sb.toString();
  }

  private static long counter(String name) {
    return server.stats().counter(name).value();
  }

  private static String url(String listener, String path) {
    return "http://127.0.0.1:" + server.listenerPort(listener) + path;
  }

  /** curl --compressed: it offers "deflate, gzip, br, zstd"; gzip is the first one we have. */
  @ParameterizedTest
  @CsvSource({"--http1.1,h1", "--http1.1,h2", "--http2-prior-knowledge,h1", "--http2-prior-knowledge,h2"})
  void curlCompressedGetsGzipAndDecodesIt(String protocol, String upstream) throws Exception {
    Path headers = dir.resolve("headers-" + protocol + upstream);
    Process p = new ProcessBuilder("curl", "-s", "--max-time", "10", protocol, "--compressed", "-D", headers.toString(),
        "-H", "x-upstream: " + upstream, url("stats", BODY_PATH)).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String body = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).isZero();
    String head = Files.readString(headers).toLowerCase();
    assertThat(head).contains("content-encoding: gzip").contains("vary: accept-encoding").doesNotContain("content-length");
    assertThat(body).isEqualTo(expectedBody(5000));
  }

  private static HttpResponse<byte[]> get(String path, String... headers) throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url("stats", path)));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  @Test
  void javaClientGetsTheCodingItPrefers() throws Exception {
    long brUsed = counter("http.stats.compressor.stats_brotli.brotli.response.header_compressor_used");
    HttpResponse<byte[]> br = get(BODY_PATH, "accept-encoding", "br");
    assertThat(br.headers().firstValue("content-encoding")).hasValue("br");
    assertThat(new String(Decoder.decompress(br.body()).getDecompressedData(), StandardCharsets.UTF_8)).isEqualTo(expectedBody(5000));
    assertThat(counter("http.stats.compressor.stats_brotli.brotli.response.header_compressor_used")).isEqualTo(brUsed + 1);

    long gzipOvershadowed = counter("http.stats.compressor.stats_gzip.gzip.response.header_compressor_overshadowed");
    HttpResponse<byte[]> zstd = get(BODY_PATH, "accept-encoding", "gzip;q=0.5, zstd", "x-upstream", "h2");
    assertThat(zstd.headers().firstValue("content-encoding")).hasValue("zstd");
    try (ZstdInputStream in = new ZstdInputStream(new ByteArrayInputStream(zstd.body()))) {
      assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo(expectedBody(5000));
    }
    assertThat(counter("http.stats.compressor.stats_gzip.gzip.response.header_compressor_overshadowed")).isEqualTo(gzipOvershadowed + 1);

    long compressedBytes = counter("http.stats.compressor.stats_gzip.gzip.response.total_compressed_bytes");
    long uncompressedBytes = counter("http.stats.compressor.stats_gzip.gzip.response.total_uncompressed_bytes");
    HttpResponse<byte[]> gzip = get(BODY_PATH, "accept-encoding", "gzip");
    assertThat(gzip.headers().firstValue("content-encoding")).hasValue("gzip");
    assertThat(gunzip(gzip.body())).isEqualTo(expectedBody(5000));
    assertThat(counter("http.stats.compressor.stats_gzip.gzip.response.total_uncompressed_bytes") - uncompressedBytes).isEqualTo(5000);
    assertThat(counter("http.stats.compressor.stats_gzip.gzip.response.total_compressed_bytes") - compressedBytes)
        .isEqualTo(gzip.body().length);
  }

  private static String gunzip(byte[] body) throws IOException {
    try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(body))) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void skipRules() throws Exception {
    long tooSmall = counter("http.stats.compressor.stats_gzip.gzip.response.content_length_too_small");
    HttpResponse<byte[]> small = get("/bytes/29", "accept-encoding", "gzip");
    assertThat(small.headers().firstValue("content-encoding")).isEmpty();
    assertThat(small.headers().firstValue("vary")).isEmpty();
    assertThat(small.body()).hasSize(29);
    assertThat(counter("http.stats.compressor.stats_gzip.gzip.response.content_length_too_small")).isGreaterThan(tooSmall);

    long noAccept = counter("http.stats.compressor.stats_gzip.gzip.response.no_accept_header");
    HttpResponse<byte[]> plain = get(BODY_PATH);
    assertThat(plain.headers().firstValue("content-encoding")).isEmpty();
    assertThat(plain.headers().firstValue("vary")).hasValue("Accept-Encoding");
    assertThat(plain.headers().firstValue("content-length")).hasValue("5000");
    assertThat(counter("http.stats.compressor.stats_gzip.gzip.response.no_accept_header")).isEqualTo(noAccept + 1);

    long notValid = counter("http.stats.compressor.stats_gzip.gzip.response.header_not_valid");
    assertThat(get(BODY_PATH, "accept-encoding", "gzip;q=0, deflate").headers().firstValue("content-encoding")).isEmpty();
    assertThat(counter("http.stats.compressor.stats_gzip.gzip.response.header_not_valid")).isEqualTo(notValid + 1);
    assertThat(get(BODY_PATH, "accept-encoding", "identity").headers().firstValue("content-encoding")).isEmpty();

    HttpResponse<Void> head = HTTP.send(HttpRequest.newBuilder(URI.create(url("stats", BODY_PATH)))
        .method("HEAD", HttpRequest.BodyPublishers.noBody()).header("accept-encoding", "gzip").build(),
        HttpResponse.BodyHandlers.discarding());
    assertThat(head.headers().firstValue("content-encoding")).isEmpty();

    // Per-route CompressorPerRoute {disabled: true}: the same body, untouched.
    HttpResponse<byte[]> disabled = get("/nocompress", "accept-encoding", "gzip");
    assertThat(disabled.headers().firstValue("content-encoding")).isEmpty();
    assertThat(new String(disabled.body(), StandardCharsets.UTF_8)).isEqualTo(expectedBody(5000));
  }

  @Test
  void requestDirectionCompressesUploads() throws Exception {
    String upload = "{\"k\":\"" + "v".repeat(1000) + "\"}";
    int before = backend.seen.size();
    HttpResponse<byte[]> r = HTTP.send(HttpRequest.newBuilder(URI.create(url("upload", "/echo")))
        .header("content-type", "application/json").header("accept-encoding", "gzip")
        .POST(HttpRequest.BodyPublishers.ofString(upload)).build(), HttpResponse.BodyHandlers.ofByteArray());
    assertThat(r.statusCode()).isEqualTo(200);
    // The backend echoed what it got: the gzip body (responses are off on this listener).
    assertThat(r.headers().firstValue("content-encoding")).isEmpty();
    assertThat(gunzip(r.body())).isEqualTo(upload);
    List<FullHttpRequest> seen = new ArrayList<>(backend.seen);
    FullHttpRequest got = seen.get(seen.size() - 1);
    assertThat(seen.size()).isGreaterThan(before);
    assertThat(got.headers().get("content-encoding")).isEqualTo("gzip");
    assertThat(counter("http.upload.compressor.stats_gzip.gzip.request.compressed")).isEqualTo(1);
    assertThat(counter("http.upload.compressor.stats_gzip.gzip.request.total_uncompressed_bytes")).isEqualTo(upload.length());
  }
}
