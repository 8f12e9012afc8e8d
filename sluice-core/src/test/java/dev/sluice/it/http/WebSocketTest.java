package dev.sluice.it.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.ProxyYaml;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * WebSocket through an HCM with {@code upgrade_configs: [{upgrade_type: websocket}]}, between
 * {@code java.net.http.WebSocket} and Netty's WebSocket server: messages both ways, a 1 MiB
 * message, close handshakes from either side; without the upgrade config Envoy answers 403.
 */
class WebSocketTest {
  static WebSocketEchoBackend backend;
  static Server server;
  static final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void start() throws Exception {
    backend = new WebSocketEchoBackend();
    server = TestServers.start(ProxyYaml.bootstrap(ProxyYaml.cluster("ws", backend.port(), false),
        ProxyYaml.listener("ws", "upgrade_configs: [{upgrade_type: websocket}]", "ws", "")
            + ProxyYaml.listener("plain", "", "ws", "")));
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

  /** Collects what the client receives: whole messages (String or byte[]) and the close. */
  static final class Collector implements WebSocket.Listener {
    final LinkedBlockingQueue<Object> messages = new LinkedBlockingQueue<>();
    final CompletableFuture<String> closed = new CompletableFuture<>();
    private StringBuilder text = new StringBuilder();
    private ByteBuffer binary = ByteBuffer.allocate(0);

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      text.append(data);
      if (last) {
        messages.add(text.toString());
        text = new StringBuilder();
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
      ByteBuffer joined = ByteBuffer.allocate(binary.remaining() + data.remaining()).put(binary).put(data).flip();
      binary = joined;
      if (last) {
        byte[] b = new byte[binary.remaining()];
        binary.get(b);
        messages.add(b);
        binary = ByteBuffer.allocate(0);
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
      closed.complete(status + " " + reason);
      return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
      closed.completeExceptionally(error);
    }

    Object next() throws InterruptedException {
      Object m = messages.poll(10, TimeUnit.SECONDS);
      assertThat(m).as("message received").isNotNull();
      return m;
    }
  }

  static WebSocket connect(Collector c) {
    return client.newWebSocketBuilder().buildAsync(URI.create("ws://127.0.0.1:" + server.listenerPort("ws") + "/ws"), c)
        .orTimeout(10, TimeUnit.SECONDS).join();
  }

  @Test
  void textAndBinaryMessagesBothWaysAndAClientClose() throws Exception {
    long upgrades = MalformedHttp1Test.counter(server, "http.ws.downstream_cx_upgrades_total");
    Collector c = new Collector();
    WebSocket ws = connect(c);
    ws.sendText("hello", true).join();
    assertThat(c.next()).isEqualTo("hello");
    ws.sendBinary(ByteBuffer.wrap(new byte[] {1, 2, 3, 0, (byte) 0xff}), true).join();
    assertThat((byte[]) c.next()).containsExactly(1, 2, 3, 0, (byte) 0xff);
    ws.sendText("fragment ", false).join();
    ws.sendText("joined", true).join();
    assertThat(c.next()).isEqualTo("fragment joined");

    ws.sendClose(1000, "bye").join();
    assertThat(c.closed.get(10, TimeUnit.SECONDS)).isEqualTo("1000 bye");
    assertThat(MalformedHttp1Test.counter(server, "http.ws.downstream_cx_upgrades_total")).isGreaterThan(upgrades);
  }

  @Test
  void oneMebibyteMessage() throws Exception {
    Collector c = new Collector();
    WebSocket ws = connect(c);
    byte[] big = new byte[1024 * 1024];
    for (int i = 0; i < big.length; i++) {
      big[i] = (byte) (i * 31);
    }
    ws.sendBinary(ByteBuffer.wrap(big), true).join();
    assertThat(Arrays.equals((byte[]) c.next(), big)).isTrue();
    String text = "x".repeat(1024 * 1024);
    ws.sendText(text, true).join();
    assertThat(c.next()).isEqualTo(text);
    ws.sendClose(1000, "").join();
    assertThat(c.closed.get(10, TimeUnit.SECONDS)).startsWith("1000");
  }

  @Test
  void serverCloseReachesTheClient() throws Exception {
    Collector c = new Collector();
    WebSocket ws = connect(c);
    ws.sendText("close-me", true).join();
    assertThat(c.closed.get(10, TimeUnit.SECONDS)).isEqualTo("1001 server bye");
  }

  @Test
  void withoutUpgradeConfigTheUpgradeIsRefusedWith403() throws Exception {
    int handshakes = backend.handshakes.get();
    long before = MalformedHttp1Test.counter(server, "http.plain.downstream_rq_ws_on_non_ws_route");
    try (RawHttp http = new RawHttp(server.listenerPort("plain"))) {
      http.send("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
          + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
      RawHttp.Response r = http.read();
      assertThat(r.status()).isEqualTo(403);
    }
    assertThat(backend.handshakes.get()).isEqualTo(handshakes);
    assertThat(MalformedHttp1Test.counter(server, "http.plain.downstream_rq_ws_on_non_ws_route")).isGreaterThan(before);
  }
}
