package dev.sluice.bookinfo;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Map;

/**
 * Where productpage and reviews send their calls: {@code http://details:9080},
 * {@code http://reviews:9080}, {@code http://ratings:9080} unless the environment says otherwise.
 */
public record Upstreams(URI details, URI reviews, URI ratings) {

  /**
   * From the originals' environment variables: {@code DETAILS_HOSTNAME}, {@code REVIEWS_HOSTNAME},
   * {@code RATINGS_HOSTNAME} (default the service name), {@code SERVICES_DOMAIN} (appended after a
   * dot), {@code DETAILS_SERVICE_PORT}, {@code REVIEWS_SERVICE_PORT}, {@code RATINGS_SERVICE_PORT}
   * (default 9080).
   *
   * @throws IllegalArgumentException when a port or host name is not usable in a URL
   */
  public static Upstreams fromEnv(Map<String, String> env) {
    return new Upstreams(base("details", env), base("reviews", env), base("ratings", env));
  }

  private static URI base(String service, Map<String, String> env) {
    String prefix = service.toUpperCase(Locale.ROOT);
    String host = env.getOrDefault(prefix + "_HOSTNAME", service);
    String domain = env.get("SERVICES_DOMAIN");
    String port = env.getOrDefault(prefix + "_SERVICE_PORT", "9080");
    if (!port.matches("[0-9]{1,5}") || Integer.parseInt(port) > 65535) {
      throw new IllegalArgumentException(prefix + "_SERVICE_PORT must be a port number, got '" + port + "'");
    }
    String authority = host + (domain == null ? "" : "." + domain) + ":" + port;
    URI uri;
    try {
      uri = new URI("http://" + authority);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("not a usable " + service + " address: '" + authority + "'");
    }
    if (uri.getHost() == null) {
      throw new IllegalArgumentException("not a usable " + service + " host name: '" + authority + "'");
    }
    return uri;
  }
}
