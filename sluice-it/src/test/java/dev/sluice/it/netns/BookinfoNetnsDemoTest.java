package dev.sluice.it.netns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sluice.bookinfo.BookinfoPage;
import dev.sluice.it.Commands;
import dev.sluice.it.Distribution;
import java.io.IOException;
import java.net.CookieManager;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * {@code sluice demo bookinfo --netns}, the real distribution as a separate process: every Bookinfo
 * workload and the ingress gateway in its own network namespace with Istio's iptables rules, the
 * control plane on a Unix socket, the gateway reached through the demo's port forward on
 * 127.0.0.1. Drives the Bookinfo tasks with {@code sluice apply -f} and reads the stars off the
 * pages. The demo's ports are free ones (not 8080/15010/15014), so it can run beside the
 * explicit-mode demo. Needs root, iproute2, iptables and setpriv; skipped with a message otherwise.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BookinfoNetnsDemoTest {
  private static final String NS_PREFIX = "sluice-demo-";
  private static final Duration READY = Duration.ofSeconds(240);
  private static Process demo;
  private static Path work;
  private static Path output;
  private static int forwardPort;
  private static int apiPort;
  private static HttpClient http;

  @BeforeAll
  static void startDemo() throws Exception {
    assumeTrue(Commands.isRoot(), "the --netns demo needs root (network namespaces, iptables, uid 1337)");
    for (String tool : List.of("ip", "iptables-restore", "setpriv")) {
      assumeTrue(Commands.onPath(tool), tool + " is not installed: run scripts/install-test-tools");
    }
    assumeTrue(!Commands.check("ip", "netns", "list").contains(NS_PREFIX + "node"),
        "another `sluice demo bookinfo --netns` is running (namespace " + NS_PREFIX + "node exists)");
    work = Files.createTempDirectory("sluice-netns-demo");
    // The demo's proxies run as uid 1337 and read their bootstraps under it.
    Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
    output = work.resolve("demo.out");
    int[] ports = freePorts(3);
    forwardPort = ports[0];
    apiPort = ports[2];
    demo = new ProcessBuilder("bash", Distribution.launcher().toString(), "demo", "bookinfo", "--netns",
        "--dir", work.resolve("run").toString(), "--istio-dir", Distribution.istioData().toString(),
        "--forward-port", Integer.toString(forwardPort), "--ads-port", Integer.toString(ports[1]),
        "--api-port", Integer.toString(apiPort), "--timeout", Long.toString(READY.toSeconds()))
        .redirectErrorStream(true).redirectOutput(output.toFile()).start();
    await().atMost(READY.plusSeconds(10)).pollInterval(Duration.ofMillis(500)).until(() -> {
      assertThat(demo.isAlive()).as("the demo exited (%s): %s", demo.isAlive() ? "" : demo.exitValue(), demoOutput()).isTrue();
      return demoOutput().contains("Bookinfo is ready");
    });
    http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  }

  @AfterAll
  static void stopDemo() throws InterruptedException {
    if (demo != null && demo.isAlive()) {
      demo.destroy();
      if (!demo.waitFor(60, TimeUnit.SECONDS)) {
        demo.destroyForcibly().waitFor();
      }
    }
  }

  @Test
  @Order(1)
  void productpageAnswersThroughTheGatewayAndReviewsVersionsRotate() throws Exception {
    Set<String> colours = new HashSet<>();
    Set<String> servedBy = new HashSet<>();
    for (int i = 0; i < 30 && servedBy.size() < 3; i++) {
      BookinfoPage page = page(http);
      assertThat(page.detailsError()).as("details error on the page").isFalse();
      assertThat(page.reviewsError()).as("reviews error on the page").isFalse();
      assertThat(page.reviews()).isNotEmpty();
      colours.addAll(page.starColors());
      page.reviews().forEach(r -> servedBy.add(r.servedBy()));
    }
    // productpage (interception on 15001) reached details and reviews; reviews v2/v3 reached ratings.
    assertThat(servedBy).containsExactlyInAnyOrder("reviews-v1", "reviews-v2", "reviews-v3");
    assertThat(colours).containsExactlyInAnyOrder("black", "red");
    assertThat(demoOutput()).contains("ip netns exec " + NS_PREFIX + "productpage-v1 curl -s http://127.0.0.1:15000/");
    // The pods' addresses exist only inside their namespaces.
    assertThat(Commands.check("ip", "-4", "addr")).doesNotContain("10.44.");
  }

  @Test
  @Order(2)
  void allV1GivesNoStars() throws Exception {
    apply("destination-rule-all.yaml");
    apply("virtual-service-all-v1.yaml");
    // The push reaches every proxy well under a second; wait for the first page without stars.
    await().atMost(Duration.ofSeconds(10)).until(() -> page(http).starColors().isEmpty());
    for (int i = 0; i < 20; i++) {
      BookinfoPage page = page(http);
      assertThat(page.starColors()).as("stars with every service at v1").isEmpty();
      assertThat(page.reviews()).allSatisfy(r -> assertThat(r.servedBy()).isEqualTo("reviews-v1"));
    }
  }

  @Test
  @Order(3)
  void reviewsTestV2GivesBlackStarsToJasonOnlyAndNoneToOthers() throws Exception {
    apply("virtual-service-reviews-test-v2.yaml");
    HttpClient jason = HttpClient.newBuilder().cookieHandler(new CookieManager())
        .followRedirects(HttpClient.Redirect.NORMAL).connectTimeout(Duration.ofSeconds(5)).build();
    HttpResponse<String> login = jason.send(HttpRequest.newBuilder(gateway("/login"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString("username=jason&passwd=jason")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(login.statusCode()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(10)).until(() -> page(jason).starColors().equals(Set.of("black")));
    for (int i = 0; i < 10; i++) {
      BookinfoPage page = page(jason);
      assertThat(page.user()).isEqualTo("jason");
      assertThat(page.starColors()).as("jason's stars").containsExactly("black");
      assertThat(page(http).starColors()).as("an anonymous user's stars").isEmpty();
    }
  }

  @Test
  @Order(4)
  void stoppingRemovesEveryNamespaceAndHostsFile() throws Exception {
    demo.destroy();
    assertThat(demo.waitFor(60, TimeUnit.SECONDS)).as("the demo stops on SIGTERM").isTrue();
    assertThat(Commands.check("ip", "netns", "list")).doesNotContain(NS_PREFIX);
    try (var files = Files.list(Path.of("/etc/netns"))) {
      assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith(NS_PREFIX));
    } catch (java.nio.file.NoSuchFileException e) {
      // No /etc/netns at all: nothing left either.
    }
    assertThat(demoOutput()).contains("stopping");
  }

  private static void apply(String task) {
    Path file = Distribution.istioData().resolve("bookinfo/networking").resolve(task);
    Commands.Result r = Commands.run(Duration.ofSeconds(60), List.of("bash", Distribution.launcher().toString(), "apply",
        "--server", "http://127.0.0.1:" + apiPort, "-f", file.toString()));
    assertThat(r.exitCode()).as("sluice apply -f %s: %s", task, r.output()).isZero();
  }

  private static BookinfoPage page(HttpClient client) throws IOException, InterruptedException {
    HttpResponse<String> r = client.send(HttpRequest.newBuilder(gateway("/productpage")).timeout(Duration.ofSeconds(20)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("GET /productpage through the gateway").isEqualTo(200);
    return BookinfoPage.parse(r.body());
  }

  private static URI gateway(String path) {
    return URI.create("http://127.0.0.1:" + forwardPort + path);
  }

  private static String demoOutput() throws IOException {
    return Files.readString(output);
  }

  private static int[] freePorts(int n) throws IOException {
    List<ServerSocket> sockets = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        sockets.add(new ServerSocket(0));
      }
      return sockets.stream().mapToInt(ServerSocket::getLocalPort).toArray();
    } finally {
      for (ServerSocket s : sockets) {
        s.close();
      }
    }
  }
}
