package dev.sluice.it.bookinfo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sluice.bookinfo.BookinfoPage;
import dev.sluice.it.Commands;
import dev.sluice.it.Distribution;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue 6's "Done means", once per way of running the demo (explicit, {@code --netns}): the real
 * {@code bin/sluice demo bookinfo} (started once for the class), driven through its gateway with
 * an HTTP client, with each Istio Bookinfo task file applied by the real CLI
 * ({@code bin/sluice apply -f}) and awaited until {@code sluice status} shows every proxy has
 * ACKed it.
 *
 * <p>Which reviews version served a page is read from the page as a user sees it: no stars (v1),
 * black stars (v2), red stars (v3). Weighted splits are checked with an exact binomial acceptance
 * interval at a false-failure probability of {@value #FALSE_FAILURE}; each sample is large enough
 * that the interval also rejects a route that never takes the smaller share and one that ignores
 * the weights (an even split) with probability above 0.9.
 *
 * <p>The control plane's ADS and API ports are free ones, so a test does not take a user's demo's
 * ports; what a mode cannot move (its gateway address, its namespaces) it waits for
 * ({@link #busy()}). Surefire runs the mode classes one after the other in one JVM, so the two
 * demos never run at once.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
public abstract class BookinfoScenarios {
  private static final double FALSE_FAILURE = 1e-6;
  private static final Duration START_TIMEOUT = Duration.ofSeconds(300);
  private static final Duration BUSY_WAIT = Duration.ofMinutes(10);
  private static final Duration APPLY_TIMEOUT = Duration.ofSeconds(60);
  private static final String REVIEWS_ERROR = "Error fetching product reviews";
  private static final String RATINGS_UNAVAILABLE = "Ratings service is currently unavailable";
  /** 6 sidecars, 6 apps, the gateway. */
  private static final int CHILDREN = 13;

  private @Nullable String unsupportedReason;
  private @Nullable RunningDemo demo;
  private Gateway gateway;
  private MeshCommand mesh;

  /** Why this machine cannot run the mode (every scenario is then skipped with it), or null. */
  protected abstract @Nullable String unsupported();

  /** What another demo holds that this mode needs and cannot move (say "127.0.0.1:8080"), or null when nothing. */
  protected abstract @Nullable String busy();

  /**
   * The demo command's options for this mode, after the common ones ({@code --dir}, the control
   * plane ports); {@code freePort} is a free port on 127.0.0.1 for a mode that forwards the gateway there.
   */
  protected abstract List<String> modeOptions(int freePort);

  /** The port on 127.0.0.1 where the gateway answers, given the same {@code freePort}. */
  protected abstract int gatewayPort(int freePort);

  /** Checks what the demo left after it stopped, beyond its processes (which every mode must stop). */
  protected void assertCleanedUp() {}

  @BeforeAll
  void startDemo() throws Exception {
    unsupportedReason = unsupported();
    if (unsupportedReason != null) {
      return;
    }
    long waitStart = System.nanoTime();
    await().atMost(BUSY_WAIT).pollDelay(Duration.ZERO).pollInterval(Duration.ofSeconds(2)).until(() -> busy() == null);
    if (System.nanoTime() - waitStart > 1_000_000_000L) {
      System.out.printf("waited %d s for another demo to end%n", (System.nanoTime() - waitStart) / 1_000_000_000L);
    }
    Path target = Files.createDirectories(Distribution.repoRoot().resolve("sluice-it/target"));
    Path dir = Files.createTempDirectory(target, getClass().getSimpleName() + "-");
    // The --netns demo's proxies run as uid 1337 and read their bootstraps here.
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    int[] ports = freePorts(3);
    mesh = new MeshCommand(ports[1]);
    gateway = new Gateway(gatewayPort(ports[2]));
    List<String> options = modeOptions(ports[2]);
    RunningDemo started = RunningDemo.start(dir, START_TIMEOUT, ports[0], ports[1], options);
    demo = started;
    double reported = started.awaitReady(START_TIMEOUT.plusSeconds(30));
    // Readiness is recorded, not asserted: the issue asks for < 20 s on an idle machine, and this
    // machine's load decides it (13 JVMs starting at once on 2 cores).
    System.out.printf("%s: sluice demo bookinfo%s ready: %.1f s (demo's figure), %.1f s from the process start; load average %s%n",
        getClass().getSimpleName(), options.stream().map(o -> " " + o).collect(Collectors.joining()), reported, started.wallSecondsToReady(),
        Files.readString(Path.of("/proc/loadavg")).strip());
    started.progress().forEach(line -> System.out.println("  " + line));
    System.out.println("  " + started.proxyStartupBreakdown());
    System.out.println("  demo output and every child's log: " + dir);
  }

  /** Each scenario, rather than the class, is skipped: surefire reports a skipped class as no tests at all, without the reason. */
  @BeforeEach
  void assumeSupported() {
    assumeTrue(unsupportedReason == null, unsupportedReason);
  }

  @AfterAll
  void stopDemo() throws Exception {
    RunningDemo running = demo;
    if (running == null) {
      return;
    }
    List<ProcessHandle> children = running.children();
    int code = running.stop(Duration.ofSeconds(60));
    System.out.println("sluice demo stopped (exit " + code + ")");
    // Ctrl-C stops everything the demo started.
    assertThat(children).as("the demo's children").hasSize(CHILDREN);
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(children.stream().filter(ProcessHandle::isAlive).map(ProcessHandle::pid)).as("children still alive").isEmpty());
    assertThat(running.output()).contains("stopping");
    assertCleanedUp();
  }

  /** What the demo printed so far. */
  protected final String demoOutput() {
    return demo == null ? "" : demo.output();
  }

  /** True when something already listens on 127.0.0.1:{@code port}. */
  protected static boolean inUse(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress("127.0.0.1", port));
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  /** Ports free on 127.0.0.1 now (all held at once, so distinct). */
  private static int[] freePorts(int n) throws IOException {
    List<ServerSocket> sockets = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        sockets.add(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()));
      }
      return sockets.stream().mapToInt(ServerSocket::getLocalPort).toArray();
    } finally {
      for (ServerSocket s : sockets) {
        s.close();
      }
    }
  }

  @Test
  @Order(1)
  void withoutVirtualServiceReviewsVersionsRotate() throws Exception {
    Map<String, Set<String>> colorsByPod = new TreeMap<>();
    for (int i = 0; i < 60 && colorsByPod.size() < 3; i++) {
      BookinfoPage page = gateway.productPage();
      assertThat(page.reviewsError()).as("reviews error on the page").isFalse();
      assertThat(page.detailsError()).as("details error on the page").isFalse();
      colorsByPod.put(page.reviews().getFirst().servedBy(), page.starColors());
    }
    assertThat(colorsByPod).as("reviews pod -> star colours, over the pages fetched")
        .containsOnlyKeys("reviews-v1", "reviews-v2", "reviews-v3")
        .containsEntry("reviews-v1", Set.of())
        .containsEntry("reviews-v2", Set.of("black"))
        .containsEntry("reviews-v3", Set.of("red"));
  }

  @Test
  @Order(2)
  void allV1GivesNoStarsInEveryPage() throws Exception {
    applyAndAwait("destination-rule-all.yaml", "virtual-service-all-v1.yaml");
    Map<String, Integer> seen = sample(100);
    assertThat(seen).as("star colours over 100 pages").containsOnlyKeys("none").containsEntry("none", 100);
  }

  @Test
  @Order(3)
  void reviews50v3GivesRedStarsHalfTheTimeAndNeverBlack() throws Exception {
    assertWeightedSplit("virtual-service-reviews-50-v3.yaml", 100, "red", 0.5, "black");
  }

  @Test
  @Order(4)
  void reviews80to20GivesBlackStarsAFifthOfTheTimeAndNeverRed() throws Exception {
    assertWeightedSplit("virtual-service-reviews-80-20.yaml", 100, "black", 0.2, "red");
  }

  @Test
  @Order(5)
  void reviews90to10GivesBlackStarsATenthOfTheTimeAndNeverRed() throws Exception {
    // 140 pages: with fewer, "never black" would be within the interval at 1e-6 (0.9^130 = 1.1e-6 > 5e-7).
    assertWeightedSplit("virtual-service-reviews-90-10.yaml", 140, "black", 0.1, "red");
  }

  @Test
  @Order(6)
  void reviewsTestV2GivesJasonBlackStarsAndOthersNone() throws Exception {
    applyAndAwait("destination-rule-all.yaml", "virtual-service-reviews-test-v2.yaml");
    String jason = gateway.login("jason");
    for (int i = 0; i < 10; i++) {
      BookinfoPage page = gateway.productPage(jason).page();
      assertThat(page.user()).isEqualTo("jason");
      assertThat(page.starColors()).as("jason's page %d", i).containsExactly("black");
    }
    String other = gateway.login("anna");
    for (int i = 0; i < 10; i++) {
      BookinfoPage anna = gateway.productPage(other).page();
      assertThat(anna.user()).isEqualTo("anna");
      assertThat(anna.starColors()).as("anna's page %d", i).isEmpty();
      BookinfoPage anonymous = gateway.productPage();
      assertThat(anonymous.user()).isNull();
      assertThat(anonymous.starColors()).as("a signed-out page %d", i).isEmpty();
    }
  }

  @Test
  @Order(7)
  void ratingsTestDelayGivesJasonTheReviewsErrorAfterTwoTimedOutAttempts() throws Exception {
    applyAndAwait("destination-rule-all.yaml", "virtual-service-reviews-test-v2.yaml", "virtual-service-ratings-test-delay.yaml");
    String jason = gateway.login("jason");
    Gateway.Fetched fetched = gateway.productPage(jason);
    System.out.printf("ratings-test-delay: jason's page took %d ms%n", fetched.took().toMillis());
    assertThat(fetched.page().reviewsError()).as("jason's page shows \"%s\"", REVIEWS_ERROR).isTrue();
    assertThat(fetched.page().reviews()).isEmpty();
    // productpage gives up after its two 3 s attempts, before the 7 s delay ends.
    assertThat(fetched.took()).isBetween(Duration.ofMillis(5_900), Duration.ofSeconds(10));
    // Others are not delayed: reviews v1 does not call ratings.
    BookinfoPage other = gateway.productPage();
    assertThat(other.reviewsError()).isFalse();
    assertThat(other.starColors()).isEmpty();
  }

  @Test
  @Order(8)
  void ratingsTestAbortGivesJasonTheRatingsError() throws Exception {
    applyAndAwait("destination-rule-all.yaml", "virtual-service-reviews-test-v2.yaml", "virtual-service-ratings-test-abort.yaml");
    String jason = gateway.login("jason");
    for (int i = 0; i < 3; i++) {
      BookinfoPage page = gateway.productPage(jason).page();
      assertThat(page.reviewsError()).isFalse();
      assertThat(page.reviews()).hasSize(2).allSatisfy(review -> {
        assertThat(review.ratingError()).isEqualTo(RATINGS_UNAVAILABLE);
        assertThat(review.servedBy()).isEqualTo("reviews-v2");
        assertThat(review.stars()).isZero();
      });
    }
  }

  @Test
  @Order(9)
  void validationErrorIsRejectedAndLeavesTheRunningConfigUntouched() throws Exception {
    applyAndAwait("destination-rule-all.yaml", "virtual-service-reviews-test-v2.yaml");
    long before = mesh.version();
    String resourcesBefore = mesh.run("get", "-o", "json").orThrow(List.of("sluice", "get")).output();
    Path bad = Files.writeString(demo.dir().resolve("virtual-service-reviews-v9.yaml"), """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata:
          name: reviews
        spec:
          hosts:
          - reviews
          http:
          - route:
            - destination:
                host: reviews
                subset: v9
        """);
    Commands.Result rejected = mesh.run("apply", "-f", bad.toString());
    assertThat(rejected.exitCode()).as("sluice apply of an undefined subset: %s", rejected.output()).isEqualTo(1);
    assertThat(rejected.output()).contains(bad.toString(), "VirtualService/default/reviews",
        "spec.http[0].route[0].destination.subset", "reviews+v9", "nothing applied");

    assertThat(mesh.version()).isEqualTo(before);
    assertThat(mesh.run("get", "-o", "json").output()).isEqualTo(resourcesBefore);
    // The pages still follow reviews-test-v2 (not the rejected v9, which would fail every page).
    assertThat(gateway.productPage(gateway.login("jason")).page().reviews())
        .extracting(BookinfoPage.Review::servedBy).containsOnly("reviews-v2");
    assertThat(gateway.productPage().reviews()).extracting(BookinfoPage.Review::servedBy).containsOnly("reviews-v1");
  }

  /** Applies the task's file, then checks {@code n} pages: {@code color} in a share consistent with {@code p}, never {@code never}. */
  private void assertWeightedSplit(String file, int n, String color, double p, String never) throws Exception {
    applyAndAwait("destination-rule-all.yaml", file);
    Map<String, Integer> seen = sample(n);
    Binomial interval = Binomial.acceptance(n, p, FALSE_FAILURE);
    System.out.printf("%s: %s over %d pages; %s accepted for %s%n", file, seen, n, interval, color);
    assertThat(seen).as("star colours over %d pages", n).doesNotContainKey(never);
    assertThat(seen.keySet()).isSubsetOf("none", color);
    int count = seen.getOrDefault(color, 0);
    assertThat(interval.accepts(count)).as("%d pages of %d with %s stars; accepted %s", count, n, color, interval).isTrue();
  }

  /** Fetches {@code n} signed-out pages and counts them by their star colours ("none", "black", "red", "black+red") or "rating-error". */
  private Map<String, Integer> sample(int n) throws IOException, InterruptedException {
    Map<String, Integer> seen = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      BookinfoPage page = gateway.productPage();
      assertThat(page.reviewsError()).as("page %d shows the reviews error", i).isFalse();
      boolean ratingError = page.reviews().stream().anyMatch(r -> r.ratingError() != null);
      String key = ratingError ? "rating-error" : page.starColors().isEmpty() ? "none" : String.join("+", page.starColors());
      seen.merge(key, 1, Integer::sum);
    }
    return seen;
  }

  /** {@code sluice apply -f} each task file (from the Istio sample), then waits until every proxy has ACKed it. */
  private void applyAndAwait(String... taskFiles) {
    Path networking = Distribution.istioData().resolve("bookinfo/networking");
    Path[] files = Arrays.stream(taskFiles).map(networking::resolve).toArray(Path[]::new);
    long start = System.nanoTime();
    long version = mesh.apply(files);
    await().atMost(APPLY_TIMEOUT).pollInterval(Duration.ofMillis(200)).until(() -> mesh.inEffect(version));
    System.out.printf("applied %s: version %d in effect after %d ms%n", String.join(" ", taskFiles), version,
        (System.nanoTime() - start) / 1_000_000);
  }
}
