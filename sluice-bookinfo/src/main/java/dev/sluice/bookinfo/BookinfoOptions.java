package dev.sluice.bookinfo;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One Bookinfo service's settings, from {@code <service> [--version V] [--listen ADDR:PORT]
 * [--proxy ADDR:PORT] [--pod-name NAME]} and the originals' environment variables.
 *
 * @param version v1 (all), v2 (details, reviews), v3 (reviews), v-faulty/v-delayed/v-unavailable
 *     (ratings)
 * @param proxy the HTTP proxy all outbound calls go through (the workload's sidecar), or null to
 *     call the upstream host names directly
 * @param podName {@code --pod-name}, else {@code HOSTNAME}, else {@code <service>-<version>}
 * @param clusterName {@code CLUSTER_NAME}, else "null" (as the original reviews writes it)
 * @param ratingsEnabled reviews: v2/v3, or {@code ENABLE_RATINGS}
 * @param starColor reviews: black (v2), red (v3), or {@code STAR_COLOR}
 * @param externalBookService details: v2, or {@code ENABLE_EXTERNAL_BOOK_SERVICE=true}
 */
public record BookinfoOptions(
    Service service,
    String version,
    InetSocketAddress listen,
    @Nullable InetSocketAddress proxy,
    String podName,
    String clusterName,
    Upstreams upstreams,
    boolean ratingsEnabled,
    String starColor,
    boolean externalBookService) {

  /** The four Bookinfo services. */
  public enum Service {
    PRODUCTPAGE(List.of("v1")),
    DETAILS(List.of("v1", "v2")),
    REVIEWS(List.of("v1", "v2", "v3")),
    RATINGS(List.of("v1", "v-faulty", "v-delayed", "v-unavailable"));

    private final List<String> versions;

    Service(List<String> versions) {
      this.versions = versions;
    }

    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }

    public List<String> versions() {
      return versions;
    }
  }

  public static final String USAGE =
      "usage: bookinfo <productpage|details|reviews|ratings> [--version V] [--listen ADDR:PORT] [--proxy ADDR:PORT]"
          + " [--pod-name NAME]";
  static final int DEFAULT_PORT = 9080;

  public static BookinfoOptions parse(List<String> args, Map<String, String> env) throws UsageException {
    if (args.isEmpty()) {
      throw new UsageException("missing service name; " + USAGE);
    }
    Service service = service(args.getFirst());
    String version = null;
    InetSocketAddress listen = null;
    InetSocketAddress proxy = null;
    String podName = null;
    for (int i = 1; i < args.size(); i++) {
      String arg = args.get(i);
      String name = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
      String value;
      if (arg.contains("=")) {
        value = arg.substring(arg.indexOf('=') + 1);
      } else if (i + 1 < args.size()) {
        value = args.get(++i);
      } else {
        throw new UsageException(name.startsWith("--") ? name + " needs a value" : "unexpected argument '" + arg + "'");
      }
      switch (name) {
        case "--version" -> version = value;
        case "--listen" -> listen = address("--listen", value);
        case "--proxy" -> proxy = address("--proxy", value);
        case "--pod-name" -> podName = nonEmpty("--pod-name", value);
        default -> throw new UsageException("unknown option '" + name + "'; " + USAGE);
      }
    }
    if (version == null) {
      version = service == Service.RATINGS ? env.getOrDefault("SERVICE_VERSION", "v1") : "v1";
    }
    if (service == Service.RATINGS && version.equals("v2")) {
      throw new UsageException("ratings v2 reads MongoDB or MySQL, which this Bookinfo does not include; use v1");
    }
    if (!service.versions().contains(version)) {
      throw new UsageException(
          service.label() + " has no version '" + version + "' (expected " + String.join(", ", service.versions()) + ")");
    }
    Upstreams upstreams;
    try {
      upstreams = Upstreams.fromEnv(env);
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    boolean ratingsEnabled =
        env.containsKey("ENABLE_RATINGS") ? Boolean.parseBoolean(env.get("ENABLE_RATINGS")) : !version.equals("v1");
    String starColor = env.getOrDefault("STAR_COLOR", version.equals("v3") ? "red" : "black");
    boolean externalBookService =
        version.equals("v2") || "true".equals(env.get("ENABLE_EXTERNAL_BOOK_SERVICE"));
    if (podName == null) {
      String hostname = env.get("HOSTNAME");
      podName = hostname == null || hostname.isEmpty() ? service.label() + "-" + version : hostname;
    }
    return new BookinfoOptions(
        service,
        version,
        listen == null ? new InetSocketAddress(DEFAULT_PORT) : listen,
        proxy,
        podName,
        env.getOrDefault("CLUSTER_NAME", "null"),
        upstreams,
        ratingsEnabled,
        starColor,
        service == Service.DETAILS && externalBookService);
  }

  private static Service service(String name) throws UsageException {
    for (Service service : Service.values()) {
      if (service.label().equals(name)) {
        return service;
      }
    }
    throw new UsageException("unknown service '" + name + "' (expected productpage, details, reviews or ratings)");
  }

  /** {@code ADDR:PORT}, {@code [v6]:PORT}; the address must be a literal or a resolvable name. */
  private static InetSocketAddress address(String option, String value) throws UsageException {
    int colon = value.lastIndexOf(':');
    if (colon <= 0 || colon == value.length() - 1) {
      throw new UsageException(option + " needs ADDR:PORT, got '" + value + "'");
    }
    String host = value.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    String port = value.substring(colon + 1);
    if (!port.matches("[0-9]{1,5}") || Integer.parseInt(port) > 65535) {
      throw new UsageException(option + " needs a port number 0-65535, got '" + port + "'");
    }
    try {
      return new InetSocketAddress(InetAddress.getByName(host), Integer.parseInt(port));
    } catch (UnknownHostException e) {
      throw new UsageException(option + ": unknown host '" + host + "'");
    }
  }

  private static String nonEmpty(String option, String value) throws UsageException {
    if (value.isBlank()) {
      throw new UsageException(option + " needs a non-empty value");
    }
    return value;
  }
}
